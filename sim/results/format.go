package results

import (
	"encoding/json"
	"strconv"

	"github.com/rewardmix/rewardmix/sim"
)

// The files of run and sweep folders.
const (
	StepsFile    = "steps.csv"
	SummaryFile  = "summary.json"
	ConfigFile   = "config.toml"
	ManifestFile = "manifest.json"
	SweepFile    = "sweep.toml"
	RunLogFile   = "runs.log"
	RunsFile     = "runs.csv"
	AggFile      = "agg.csv"
)

// The header lines of a run's and a sweep's steps.csv.
const (
	RunStepsHeader   = "step,metric,value\n"
	SweepStepsHeader = "run_id,step,metric,value\n"
)

// Summary is the content of a run folder's summary.json: the metrics
// summary, the release review and the deployment (each absent when it did
// not happen).
type Summary struct {
	sim.Summary
	Review     *sim.Review     `json:"review,omitempty"`
	Deployment *sim.Deployment `json:"deployment,omitempty"`
}

// FormatValue formats a metric value as every results file writes it: the
// shortest decimal that reads back as the same float64.
func FormatValue(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// marshalJSON is json.MarshalIndent with two spaces and a final newline.
func marshalJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
