package results

import (
	"encoding/json"
	"math"
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

// AppendSteps formats a step series (values[step][metric]) as lines
// prefix + "step,metric,value": the rows of a run's steps.csv (no prefix)
// and of a sweep's (the run_id and a comma). A value equal in every bit to
// the metric's at the step before is copied from that line rather than
// formatted again (about a quarter of them in the incident preset:
// weights, inactive signals' shares).
func AppendSteps(dst []byte, prefix string, metrics []string, values [][]float64) []byte {
	if need := len(values) * len(metrics) * (len(prefix) + 40); cap(dst)-len(dst) < need {
		dst = append(make([]byte, 0, len(dst)+need), dst...)
	}
	type formatted struct {
		bits     uint64
		from, to int // the value's bytes in dst
	}
	last := make([]formatted, len(metrics))
	var lineHead []byte
	for t, row := range values {
		lineHead = strconv.AppendInt(append(lineHead[:0], prefix...), int64(t), 10)
		lineHead = append(lineHead, ',')
		for k, v := range row {
			dst = append(dst, lineHead...)
			dst = append(dst, metrics[k]...)
			dst = append(dst, ',')
			b, l := math.Float64bits(v), &last[k]
			from := len(dst)
			if t > 0 && b == l.bits {
				dst = append(dst, dst[l.from:l.to]...)
			} else {
				dst = strconv.AppendFloat(dst, v, 'g', -1, 64)
			}
			*l = formatted{b, from, len(dst)}
			dst = append(dst, '\n')
		}
	}
	return dst
}

// marshalJSON is json.MarshalIndent with two spaces and a final newline.
func marshalJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
