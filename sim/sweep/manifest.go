package sweep

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

// Manifest describes a sweep folder: what wrote it, the sweep (its hash,
// runs, axes and base config) and which shard of it the folder holds.
type Manifest struct {
	Tool        string            `json:"tool"`
	Version     string            `json:"version"`
	VCSRevision string            `json:"vcs_revision"`
	VCSModified *bool             `json:"vcs_modified"`
	SweepHash   string            `json:"sweep_hash"`
	Runs        int               `json:"runs"`
	Points      int               `json:"points"`
	Mode        configs.SweepMode `json:"mode"`
	Seeds       []uint64          `json:"seeds"`
	Axes        []AxisDef         `json:"axes"`
	Shard       ShardInfo         `json:"shard"`
	BaseConfig  string            `json:"base_config"`
	Files       any               `json:"files"`
}

// AxisDef is one swept key as the manifest records it.
type AxisDef struct {
	Key    string   `json:"key"`
	Values []string `json:"values,omitempty"`
	Dist   string   `json:"distribution,omitempty"`
	Lo     float64  `json:"low,omitempty"`
	Hi     float64  `json:"high,omitempty"`
}

// ShardInfo is the shard a folder holds and how many runs it has.
type ShardInfo struct {
	Index int `json:"index"`
	Count int `json:"count"`
	Runs  int `json:"runs"` // runs in this shard
}

func newManifest(s *configs.Sweep, sh ShardInfo) *Manifest {
	m := &Manifest{
		Tool: "rewardmix", Version: sim.Version, VCSRevision: "unknown",
		SweepHash: s.Hash(), Runs: s.Len(), Points: s.Points(), Mode: s.Mode, Seeds: s.Seeds,
		Shard: sh, BaseConfig: string(configs.Encode(s.Base)),
		Files: map[string]string{
			results.SweepFile:  "the resolved sweep: `rewardmix show DIR RUN_ID` prints any run's config from it",
			results.RunLogFile: "crash-safe record of finished runs (used by --resume and merge)",
			results.RunsFile:   "one row per run: run_id, seed, swept keys, final metrics, status, error",
			results.StepsFileName(s.Base.Output.Format.Resolve(true)): "tidy: run_id, step, metric, value",
			results.AggFile: "per parameter point and metric: n, mean, sd, 95% confidence interval",
		},
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			switch st.Key {
			case "vcs.revision":
				m.VCSRevision = st.Value
			case "vcs.modified":
				b := st.Value == "true"
				m.VCSModified = &b
			}
		}
	}
	for _, ax := range s.Axes {
		d := AxisDef{Key: ax.Key, Dist: ax.Dist, Lo: ax.Lo, Hi: ax.Hi}
		for _, v := range ax.Values {
			d.Values = append(d.Values, configs.FormatParam(v))
		}
		m.Axes = append(m.Axes, d)
	}
	return m
}

// ReadManifest reads a sweep folder's manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, results.ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, results.ManifestFile), err)
	}
	return &m, nil
}
