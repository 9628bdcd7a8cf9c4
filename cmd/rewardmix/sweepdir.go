package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/rewardmix/rewardmix/configs"
)

// version is the tool's version, written into manifests.
const version = "0.1.0"

// A sweep folder holds manifest.json and sweep.toml (written first), the
// run log (appended as runs finish), and, once every run of the folder's
// shard is in the log, runs.csv, steps.csv and agg.csv.
const (
	manifestName = "manifest.json"
	sweepName    = "sweep.toml"
)

// manifest describes a sweep folder.
type manifest struct {
	Tool        string      `json:"tool"`
	Version     string      `json:"version"`
	VCSRevision string      `json:"vcs_revision"`
	VCSModified *bool       `json:"vcs_modified"`
	SweepHash   string      `json:"sweep_hash"`
	Runs        int         `json:"runs"`
	Points      int         `json:"points"`
	Mode        string      `json:"mode"`
	Seeds       []uint64    `json:"seeds"`
	Axes        []axisDef   `json:"axes"`
	Shard       shardInfo   `json:"shard"`
	BaseConfig  string      `json:"base_config"`
	Files       interface{} `json:"files"`
}

type axisDef struct {
	Key    string   `json:"key"`
	Values []string `json:"values,omitempty"`
	Dist   string   `json:"distribution,omitempty"`
	Lo     float64  `json:"low,omitempty"`
	Hi     float64  `json:"high,omitempty"`
}

type shardInfo struct {
	Index int `json:"index"`
	Count int `json:"count"`
	Runs  int `json:"runs"` // runs in this shard
}

func newManifest(s *configs.Sweep, sh shardInfo) *manifest {
	m := &manifest{
		Tool: "rewardmix", Version: version, VCSRevision: "unknown",
		SweepHash: s.Hash(), Runs: s.Len(), Points: s.Points(), Mode: s.Mode, Seeds: s.Seeds,
		Shard: sh, BaseConfig: string(configs.Encode(s.Base)),
		Files: map[string]string{
			"sweep.toml": "the resolved sweep: `rewardmix show DIR RUN_ID` prints any run's config from it",
			"runs.log":   "crash-safe record of finished runs (used by --resume and merge)",
			"runs.csv":   "one row per run: run_id, seed, swept keys, final metrics, status, error",
			"steps.csv":  "tidy: run_id,step,metric,value",
			"agg.csv":    "per parameter point and metric: n, mean, sd, 95% confidence interval",
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
		d := axisDef{Key: ax.Key, Dist: ax.Dist, Lo: ax.Lo, Hi: ax.Hi}
		for _, v := range ax.Values {
			d.Values = append(d.Values, configs.FormatParam(v))
		}
		m.Axes = append(m.Axes, d)
	}
	return m
}

func readManifest(dir string) (*manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifestName), err)
	}
	return &m, nil
}

// atomicFile is a file written through a temporary file in the same
// folder and renamed into place by commit, so that its path never holds a
// partial file.
type atomicFile struct {
	path string
	f    *os.File
	*bufio.Writer
}

func createAtomic(path string) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return nil, err
	}
	return &atomicFile{path: path, f: f, Writer: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (a *atomicFile) commit() error {
	if err := a.Flush(); err != nil {
		a.abort()
		return err
	}
	if err := a.f.Sync(); err != nil {
		a.abort()
		return err
	}
	if err := a.f.Close(); err != nil {
		os.Remove(a.f.Name())
		return err
	}
	if err := os.Chmod(a.f.Name(), 0o644); err != nil {
		os.Remove(a.f.Name())
		return err
	}
	return os.Rename(a.f.Name(), a.path)
}

// abort discards the file; after commit it does nothing.
func (a *atomicFile) abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}

func writeFileAtomic(path string, data []byte) error {
	a, err := createAtomic(path)
	if err != nil {
		return err
	}
	if _, err := a.Write(data); err != nil {
		a.abort()
		return err
	}
	return a.commit()
}

// finalize writes runs.csv, steps.csv and agg.csv of a sweep folder from
// its run log, streaming: memory does not grow with the number of runs.
// The files depend only on the log's records, so a sweep run on any number
// of workers, shards or resumes gives the same bytes.
func finalize(dir string, axes []string, seedsPerPoint int) error {
	_, err := finalizeCount(dir, axes, seedsPerPoint, nil, nil)
	return err
}

// stepsHeader is the first line of a sweep's steps.csv.
const stepsHeader = "run_id,step,metric,value\n"

// finalizeCount is finalize, returning the number of failed runs in the
// log. If steps is not nil it already holds steps.csv's
// contents, every record's series in log order after stepsHeader (the
// sweep wrote them as it appended the records), and is committed as
// steps.csv; the log's series are then not read. If ready is not nil,
// the files are committed only if it returns nil (it waits for the
// caller's syncs).
func finalizeCount(dir string, axes []string, seedsPerPoint int, steps *atomicFile, ready func() error) (failed int, err error) {
	logPath := filepath.Join(dir, runLogName)
	// Pass 1: the union of metric names, in order of first appearance,
	// from the rows alone.
	var metrics []string
	seen := map[string]bool{}
	if err := scanRows(logPath, func(row *runRow) error {
		for _, m := range row.Metrics {
			if !seen[m] {
				seen[m] = true
				metrics = append(metrics, m)
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	col := map[string]int{}
	for i, m := range metrics {
		col[m] = i
	}

	// Pass 2: all three files at once.
	var files []*atomicFile
	defer func() {
		for _, f := range files {
			f.abort()
		}
	}()
	open := func(name string) (*atomicFile, error) {
		f, err := createAtomic(filepath.Join(dir, name))
		if err == nil {
			files = append(files, f)
		}
		return f, err
	}
	runsF, err := open("runs.csv")
	if err != nil {
		return 0, err
	}
	stepsF := steps
	if stepsF != nil {
		files = append(files, stepsF)
	} else if stepsF, err = open("steps.csv"); err != nil {
		return 0, err
	} else {
		stepsF.WriteString(stepsHeader)
	}
	aggF, err := open("agg.csv")
	if err != nil {
		return 0, err
	}
	runsW, aggW := csv.NewWriter(runsF), csv.NewWriter(aggF)
	runsW.Write(append(append(append([]string{"run_id", "seed"}, axes...), metrics...), "status", "error"))
	aggW.Write(append(append([]string{}, axes...), "metric", "n", "mean", "sd", "ci_low", "ci_high"))
	agg := newAggregator(metrics)
	point := -1
	var pointParams []string
	cells := make([]string, len(metrics))
	addRow := func(r *runRow) {
		if p := r.Index / seedsPerPoint; p != point {
			if point >= 0 {
				agg.write(aggW, pointParams)
			}
			point, pointParams = p, r.Params
			agg.reset()
		}
		for k := range cells {
			cells[k] = ""
		}
		for k, m := range r.Metrics {
			cells[col[m]] = formatValue(r.Final[k])
		}
		runsW.Write(append(append(append([]string{r.ID, strconv.FormatUint(r.Seed, 10)}, r.Params...), cells...), r.Status, r.Error))
		if r.Status == "ok" {
			agg.add(r.Metrics, r.Final)
		} else {
			failed++
		}
	}
	if steps != nil {
		err = scanRows(logPath, func(r *runRow) error { addRow(r); return nil })
	} else {
		_, err = scanLog(logPath, func(rec *logRecord) error {
			addRow(&rec.row)
			_, err := stepsF.Write(rec.steps)
			return err
		})
	}
	if err != nil {
		return 0, err
	}
	if point >= 0 {
		agg.write(aggW, pointParams)
	}
	for _, w := range []*csv.Writer{runsW, aggW} {
		if w.Flush(); w.Error() != nil {
			return 0, w.Error()
		}
	}
	if ready != nil {
		if err := ready(); err != nil {
			return 0, err
		}
	}
	for len(files) > 0 {
		if err := files[0].commit(); err != nil {
			return 0, err
		}
		files = files[1:]
	}
	return failed, nil
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// aggregator accumulates one parameter point's final metrics across seeds.
type aggregator struct {
	metrics []string
	vals    map[string][]float64
}

func newAggregator(metrics []string) *aggregator {
	return &aggregator{metrics: metrics, vals: map[string][]float64{}}
}

func (a *aggregator) reset() { a.vals = map[string][]float64{} }

func (a *aggregator) add(metrics []string, final []float64) {
	for k, m := range metrics {
		a.vals[m] = append(a.vals[m], final[k])
	}
}

// write emits one row per metric: n, mean, sample sd and the two-sided 95%
// confidence interval of the mean from Student's t with n-1 degrees of
// freedom (empty where n < 2).
func (a *aggregator) write(w *csv.Writer, params []string) {
	for _, m := range a.metrics {
		xs := a.vals[m]
		if len(xs) == 0 {
			continue
		}
		n := float64(len(xs))
		mean := 0.0
		for _, x := range xs {
			mean += x
		}
		mean /= n
		sd, lo, hi := "", "", ""
		if len(xs) > 1 {
			ss := 0.0
			for _, x := range xs {
				ss += (x - mean) * (x - mean)
			}
			s := math.Sqrt(ss / (n - 1))
			t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975)
			half := t * s / math.Sqrt(n)
			sd, lo, hi = formatValue(s), formatValue(mean-half), formatValue(mean+half)
		}
		row := append(append([]string{}, params...), m, strconv.Itoa(len(xs)), formatValue(mean), sd, lo, hi)
		w.Write(row)
	}
}
