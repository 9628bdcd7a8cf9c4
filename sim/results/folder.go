package results

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

// Folder is a run or sweep folder opened for reading. It implements Source;
// its steps are read only when asked for, one streaming pass per call.
type Folder struct {
	path  string
	steps string // the steps table: steps.parquet or steps.csv
	label string
	sweep bool
	cfg   *sim.Config // the run's config, or the sweep's base config
	axes  []string    // swept keys (sweep only)
	// metrics lists the metric names, in file order.
	metrics []string
	// runs are the sweep's runs.csv rows: run_id, status and one value per
	// axis; a run folder has one. Small (one row per run): the steps are
	// never held.
	runs []Run
	sw   *configs.Sweep // the sweep, to resolve each run's config
}

// Open reads what a folder is (a run folder: steps.csv and config.toml; or
// a finished sweep folder: manifest.json, sweep.toml, runs.csv, steps.csv,
// agg.csv) and which metrics and runs it holds, without reading its steps.
// A folder that is neither is an *Error.
func Open(dir string) (*Folder, error) {
	r := &Folder{path: dir, label: filepath.Base(filepath.Clean(dir))}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return nil, errorf("%s: not a folder (want a run or sweep folder)", dir)
	}
	exists := func(n string) bool { _, err := os.Stat(filepath.Join(dir, n)); return err == nil }
	switch {
	case exists(ManifestFile):
		r.sweep = true
		if r.steps = stepsTable(dir); r.steps == "" || !exists(RunsFile) {
			return nil, errorf("%s: a sweep folder without runs.csv and a steps table (unfinished? resume it with 'rewardmix sweep --resume', or merge its shards)", dir)
		}
		path := filepath.Join(dir, SweepFile)
		data, err := ReadConfig(path)
		if err != nil {
			return nil, errorf("%s: a sweep folder without %s: %v", dir, SweepFile, err)
		}
		s, err := configs.LoadSweep(path, data, nil, math.MaxInt32)
		if err != nil {
			return nil, err
		}
		r.cfg, r.sw = s.Base, s
		for _, ax := range s.Axes {
			r.axes = append(r.axes, ax.Key)
		}
		if err := r.readRuns(nil); err != nil {
			return nil, err
		}
	case stepsTable(dir) != "" && exists(ConfigFile):
		r.steps = stepsTable(dir)
		path := filepath.Join(dir, ConfigFile)
		data, err := ReadConfig(path)
		if err != nil {
			return nil, err
		}
		if r.cfg, err = configs.Load(path, data, ReadRelative); err != nil {
			return nil, err
		}
		if r.metrics, err = firstMetrics(r.steps); err != nil {
			return nil, err
		}
		r.runs = []Run{{OK: true}}
	default:
		return nil, errorf("%s is not a run or sweep folder (a run folder holds steps.csv or steps.parquet and config.toml, a sweep folder manifest.json)", dir)
	}
	return r, nil
}

func (r *Folder) Name() string        { return r.path }
func (r *Folder) Label() string       { return r.label }
func (r *Folder) Sweep() bool         { return r.sweep }
func (r *Folder) Config() *sim.Config { return r.cfg }
func (r *Folder) Metrics() []string   { return r.metrics }
func (r *Folder) Axes() []string      { return r.axes }
func (r *Folder) Runs() []Run         { return r.runs }

// Definition returns a sweep folder's sweep (nil for a run folder): its
// mode, axes and the parameters of every run.
func (r *Folder) Definition() *configs.Sweep { return r.sw }

// Path is the folder's path as given to Open.
func (r *Folder) Path() string { return r.path }

// readRuns reads runs.csv: the run ids, statuses, parameters and, from
// the header, the metric names, checking every value. With finals, it
// reads the runs again instead and calls finals with each run's final
// values (NaN for a failed run's, or a metric it does not have), valid
// during the call: a sweep's finals are not held (a 100,000-run sweep's
// would take 50 MB and more).
func (r *Folder) readRuns(finals func(i int, final []float64)) error {
	path := filepath.Join(r.path, RunsFile)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	na := len(r.axes)
	if len(head) < 4+na || head[0] != "run_id" || head[1] != "seed" || head[len(head)-2] != "status" {
		return errorf("%s: not a rewardmix runs.csv (header %q)", path, strings.Join(head, ","))
	}
	if finals == nil {
		r.metrics = append([]string(nil), head[2+na:len(head)-2]...)
	}
	final := make([]float64, len(r.metrics))
	for i := 0; ; i++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) != len(head) {
			return errorf("%s: run %s has %d columns, the header %d", path, rec[0], len(rec), len(head))
		}
		ok := rec[len(rec)-2] == "ok"
		for k, v := range rec[2+na : len(rec)-2] {
			final[k] = math.NaN()
			if ok && v != "" { // a metric this run does not have is empty
				if final[k], err = strconv.ParseFloat(v, 64); err != nil {
					return errorf("%s: run %s: %s = %q is not a number", path, rec[0], r.metrics[k], v)
				}
			}
		}
		if finals != nil {
			if i >= len(r.runs) || r.runs[i].ID != rec[0] {
				return errorf("%s changed while it was read", path)
			}
			finals(i, final)
			continue
		}
		// Copies: the reader's strings share one string per line, which
		// holds the run's every final value (100 MB for 100,000 runs).
		params := make([]string, na)
		for k, p := range rec[2 : 2+na] {
			params[k] = strings.Clone(p)
		}
		r.runs = append(r.runs, Run{ID: strings.Clone(rec[0]), OK: ok, Params: params})
	}
}

// RunConfig returns run i's resolved config: a sweep's base config with
// the run's parameters and seed, or a run folder's config.
func (r *Folder) RunConfig(i int) (*sim.Config, error) {
	if i < 0 || i >= len(r.runs) {
		panic(fmt.Sprintf("results: RunConfig(%d) of %d runs", i, len(r.runs)))
	}
	if !r.sweep {
		return r.cfg, nil
	}
	id := r.runs[i].ID
	k, err := strconv.Atoi(strings.TrimPrefix(id, "r"))
	if err != nil || k < 0 || k >= r.sw.Len() || r.sw.Run(k).ID != id {
		return nil, errorf("%s: run %q of runs.csv is not a run of its sweep.toml", r.path, id)
	}
	return r.sw.Config(r.sw.Run(k))
}

// At returns each run's values of metrics at a step of its own: steps[i]
// for run i, or its final step where steps[i] < 0. A value the folder
// does not hold (a failed run, a step past the run's end) is NaN. Final
// values of a sweep come from runs.csv; any other step takes one pass
// over the steps table.
func (r *Folder) At(metrics []string, steps []int) ([][]float64, error) {
	if len(steps) != len(r.runs) {
		panic(fmt.Sprintf("results: At with %d steps for %d runs", len(steps), len(r.runs)))
	}
	if err := CheckMetrics(r, metrics...); err != nil {
		return nil, err
	}
	out := nanRows(len(r.runs), len(metrics))
	want := slices.Clone(steps)
	stream := false
	finals := false
	for i, t := range want {
		switch {
		case t >= 0:
			stream = true
		case r.sweep:
			finals = true
		default:
			want[i], stream = r.cfg.Train.Steps, true // a run folder's final step
		}
	}
	if finals {
		cols := make([]int, len(metrics))
		for j, m := range metrics {
			cols[j] = slices.Index(r.metrics, m)
		}
		err := r.readRuns(func(i int, final []float64) {
			if want[i] < 0 {
				for j, k := range cols {
					out[i][j] = final[k]
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	if !stream {
		return out, nil
	}
	err := r.scan(metrics, func(run, j, step int, value float64) {
		if r.runs[run].OK && step == want[run] {
			out[run][j] = value
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func nanRows(n, m int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, m)
		for j := range out[i] {
			out[i][j] = math.NaN()
		}
	}
	return out
}

// recorded returns an *Error naming the first of metrics that the steps
// table does not record ([output] metrics): their final values are in
// runs.csv, their series nowhere.
func (r *Folder) recorded(metrics []string) error {
	for _, m := range metrics {
		if !r.cfg.Output.Records(m) {
			return errorf("%s records no series of %s in its steps table ([output] metrics = %q); its final values are in runs.csv", r.path, m, r.cfg.Output.Metrics)
		}
	}
	return nil
}

// stepsTable returns the path of the steps table in dir (steps.parquet,
// or steps.csv), or "" if it has none.
func stepsTable(dir string) string {
	for _, n := range []string{StepsParquetFile, StepsFile} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
			return filepath.Join(dir, n)
		}
	}
	return ""
}

// firstMetrics returns the metrics of a run folder's steps table, in order
// of first appearance in its first block (a run's table is one block).
func firstMetrics(path string) ([]string, error) {
	var ms []string
	errStop := errors.New("stop")
	err := scanSteps(path, false, func(b *stepBlock) error {
		seen := make([]bool, len(b.metrics))
		for _, k := range b.metric {
			if !seen[k] {
				seen[k] = true
				ms = append(ms, string(b.metrics[k]))
			}
		}
		return errStop
	})
	if err != nil && err != errStop {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, errorf("%s: empty", path)
	}
	return ms, nil
}

// Steps streams the folder's steps table once and accumulates the metrics
// per group and step. Memory grows with metrics x groups x steps, never
// with the number of runs.
func (r *Folder) Steps(metrics []string, g Groups, sr StepRange) (*StepStats, error) {
	if err := r.recorded(metrics); err != nil {
		return nil, err
	}
	st := newStepStats(metrics, len(g.Labels))
	err := r.scan(metrics, func(run, mi, step int, value float64) {
		if g.Of[run] >= 0 && sr.Has(step) {
			st.add(mi, g.Of[run], step, value)
		}
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// scan streams the steps table and calls fn with each row of metrics:
// its run (the index in Runs), the metric's index in metrics, its step and
// value. Block by block, the run ids and metric names are translated once
// (a row costs integer lookups). A run id that runs.csv does not hold is
// an *Error.
func (r *Folder) scan(metrics []string, fn func(run, col, step int, value float64)) error {
	runIndex := make(map[string]int, len(r.runs))
	for i, run := range r.runs {
		runIndex[run.ID] = i
	}
	want := make(map[string]int, len(metrics))
	for j, m := range metrics {
		want[m] = j
	}
	var runOf, colOf []int
	return scanSteps(r.steps, r.sweep, func(b *stepBlock) error {
		colOf = colOf[:0]
		for _, m := range b.metrics {
			j, ok := want[string(m)]
			if !ok {
				j = -1
			}
			colOf = append(colOf, j)
		}
		if r.sweep {
			runOf = runOf[:0]
			for _, id := range b.ids {
				i, ok := runIndex[string(id)]
				if !ok {
					return errorf("%s: %s: run %q is not in runs.csv", r.steps, b.first, id)
				}
				runOf = append(runOf, i)
			}
		}
		for i, k := range b.metric {
			j := colOf[k]
			if j < 0 {
				continue
			}
			run := 0 // a run folder's only run
			if r.sweep {
				run = runOf[b.id[i]]
			}
			fn(run, j, int(b.step[i]), b.value[i])
		}
		return nil
	})
}

// Points reads agg.csv: for one metric, each parameter point's axis values
// and mean.
func (r *Folder) Points(metric string) ([]Point, error) {
	if !r.sweep {
		return nil, errorf("%s is a run folder: it has no parameter points", r.path)
	}
	path := filepath.Join(r.path, AggFile)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errorf("%s: a sweep folder without agg.csv", r.path)
		}
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	cr.ReuseRecord = true
	head, err := cr.Read()
	na := len(r.axes)
	if err != nil || len(head) != na+6 || head[na] != "metric" || head[na+2] != "mean" {
		return nil, errorf("%s: not a rewardmix agg.csv", path)
	}
	var out []Point
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if rec[na] != metric {
			continue
		}
		v, err := strconv.ParseFloat(rec[na+2], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: mean %q: %w", path, rec[na+2], err)
		}
		out = append(out, Point{Params: append([]string(nil), rec[:na]...), Mean: v})
	}
}

// ReadSummary reads a run folder's summary.json.
func ReadSummary(dir string) (*Summary, error) {
	var s Summary
	data, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err == nil {
		err = json.Unmarshal(data, &s)
	}
	if err != nil {
		return nil, errorf("%s: a run folder without a readable summary.json: %v", dir, err)
	}
	return &s, nil
}
