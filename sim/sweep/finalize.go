package sweep

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rewardmix/rewardmix/sim"

	"github.com/rewardmix/rewardmix/sim/internal/atomicfile"
	"github.com/rewardmix/rewardmix/sim/results"
)

// finalize writes runs.csv and agg.csv of a sweep folder from its run log,
// streaming (memory does not grow with the number of runs), and joins the
// steps table from its parts (see PartsDir), or finishes join, the joiner
// that joined them as they were committed, then removes them. metrics is
// the union of the runs' metric names if the caller saw every run, else
// nil (it is read from the log). The files
// depend only on the log's records and the parts, so a sweep run on any
// number of workers, shards or resumes gives the same bytes. It returns
// the number of failed runs in the log. If the steps table was joined
// already (a resumed sweep that had finished), it is kept. If ready is not
// nil, the files are committed only if it returns nil (it waits for the
// caller's syncs).
func finalize(dir string, axes []string, seedsPerPoint int, format sim.Format, parts int, metrics []string, join *joiner, ready func() error) (failed int, err error) {
	if join != nil {
		defer func() {
			if join != nil { // not taken below: an error came first
				join.abort()
			}
		}()
	}
	logPath := filepath.Join(dir, results.RunLogFile)
	// Pass 1: the union of metric names, in order of first appearance,
	// from the rows alone (unless the caller saw every row: metrics).
	if metrics == nil {
		var union metricUnion
		if err := scanRows(logPath, func(row *RunRow) error { union.add(row.Metrics); return nil }); err != nil {
			return 0, err
		}
		metrics = union.names
	}
	col := map[string]int{}
	for i, m := range metrics {
		col[m] = i
	}

	// Pass 2: runs.csv and agg.csv, while the steps table is joined.
	var files []*atomicfile.File
	defer func() {
		for _, f := range files {
			f.Abort()
		}
	}()
	open := func(name string) (*atomicfile.File, error) {
		f, err := atomicfile.Create(filepath.Join(dir, name))
		if err == nil {
			files = append(files, f)
		}
		return f, err
	}
	runsF, err := open(results.RunsFile)
	if err != nil {
		return 0, err
	}
	aggF, err := open(results.AggFile)
	if err != nil {
		return 0, err
	}
	type joinedTable struct {
		f   *atomicfile.File // to commit; nil if joined already
		err error
	}
	stepsDone := make(chan joinedTable, 1)
	// joinAll joins every part into a new table, synced now, while runs.csv
	// and agg.csv are written, rather than at the commit.
	joinAll := func() (*atomicfile.File, error) {
		f, err := atomicfile.Create(filepath.Join(dir, results.StepsFileName(format)))
		if err != nil {
			return nil, err
		}
		if err = joinParts(f, dir, format, parts); err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Abort()
			return nil, err
		}
		return f, nil
	}
	switch {
	case joined(dir, format, parts):
		stepsDone <- joinedTable{}
	case join != nil: // the parts but the last are joined already
		j := join
		join = nil
		go func() { f, err := finishJoin(j, joinAll); stepsDone <- joinedTable{f, err} }()
	default:
		go func() { f, err := joinAll(); stepsDone <- joinedTable{f, err} }()
	}
	runsW, aggW := csv.NewWriter(runsF), csv.NewWriter(aggF)
	runsW.Write(append(append(append([]string{"run_id", "seed"}, axes...), metrics...), "status", "error"))
	aggW.Write(append(append([]string{}, axes...), "metric", "n", "mean", "sd", "ci_low", "ci_high"))
	agg := newAggregator(metrics)
	point := -1
	var pointParams []string
	cells := make([]string, len(metrics))
	addRow := func(r *RunRow) {
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
			cells[col[m]] = results.FormatValue(r.Final[k])
		}
		runsW.Write(append(append(append([]string{r.ID, strconv.FormatUint(r.Seed, 10)}, r.Params...), cells...), r.Status, r.Error))
		if r.Status == statusOK {
			agg.add(r.Metrics, r.Final)
		} else {
			failed++
		}
	}
	err = scanRows(logPath, func(r *RunRow) error { addRow(r); return nil })
	steps := <-stepsDone
	if steps.f != nil {
		files = append(files, steps.f) // committed last, after runs.csv and agg.csv, as before
	}
	if err == nil {
		err = steps.err
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
		if err := files[0].Commit(); err != nil {
			return 0, err
		}
		files = files[1:]
	}
	// The steps table is on disk, renamed into place for good: the parts
	// have served.
	if err := atomicfile.SyncDir(dir); err != nil {
		return 0, err
	}
	if err := os.RemoveAll(filepath.Join(dir, PartsDir)); err != nil {
		return 0, err
	}
	return failed, nil
}

// finishJoin returns the table the joiner j joined; if it failed (a full
// disk, say), the parts are intact (a part is committed before the joiner
// sees it), so the table is joined again with again rather than the
// sweep failing.
func finishJoin(j *joiner, again func() (*atomicfile.File, error)) (*atomicfile.File, error) {
	if f, err := j.finish(); err == nil {
		return f, nil
	}
	return again()
}

// metricUnion is the union of runs' metric names, in order of first
// appearance.
type metricUnion struct {
	names []string
	seen  map[string]bool
}

func (u *metricUnion) add(names []string) {
	if u.seen == nil {
		u.seen = map[string]bool{}
	}
	for _, m := range names {
		if !u.seen[m] {
			u.seen[m] = true
			u.names = append(u.names, m)
		}
	}
}

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
			half := results.T975(len(xs)) * s / math.Sqrt(n)
			sd, lo, hi = results.FormatValue(s), results.FormatValue(mean-half), results.FormatValue(mean+half)
		}
		row := append(append([]string{}, params...), m, strconv.Itoa(len(xs)), results.FormatValue(mean), sd, lo, hi)
		w.Write(row)
	}
}
