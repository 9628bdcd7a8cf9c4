package results

import (
	"bufio"
	"bytes"
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
	// finals are the runs' final values, one per metric (runs.csv; NaN
	// for a failed run). A run folder's come from its steps when asked.
	finals [][]float64
	sw     *configs.Sweep // the sweep, to resolve each run's config
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
		if !exists(StepsFile) || !exists(RunsFile) {
			return nil, errorf("%s: a sweep folder without runs.csv and steps.csv (unfinished? resume it with 'rewardmix sweep --resume', or merge its shards)", dir)
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
		if err := r.readRuns(); err != nil {
			return nil, err
		}
	case exists(StepsFile) && exists(ConfigFile):
		path := filepath.Join(dir, ConfigFile)
		data, err := ReadConfig(path)
		if err != nil {
			return nil, err
		}
		if r.cfg, err = configs.Load(path, data, ReadRelative); err != nil {
			return nil, err
		}
		if r.metrics, err = firstStepMetrics(filepath.Join(dir, StepsFile)); err != nil {
			return nil, err
		}
		r.runs = []Run{{OK: true}}
	default:
		return nil, errorf("%s is not a run or sweep folder (a run folder holds steps.csv and config.toml, a sweep folder manifest.json)", dir)
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
// the header, the metric names.
func (r *Folder) readRuns() error {
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
	r.metrics = append([]string(nil), head[2+na:len(head)-2]...)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		run := Run{ID: rec[0], OK: rec[len(rec)-2] == "ok", Params: append([]string(nil), rec[2:2+na]...)}
		final := make([]float64, len(r.metrics))
		for i, v := range rec[2+na : len(rec)-2] {
			final[i] = math.NaN()
			if run.OK && v != "" { // a metric this run does not have is empty
				if final[i], err = strconv.ParseFloat(v, 64); err != nil {
					return errorf("%s: run %s: %s = %q is not a number", path, run.ID, r.metrics[i], v)
				}
			}
		}
		r.runs, r.finals = append(r.runs, run), append(r.finals, final)
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
// over steps.csv.
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
	for i, t := range want {
		switch {
		case t >= 0:
			stream = true
		case r.sweep:
			for j, m := range metrics {
				out[i][j] = r.finals[i][slices.Index(r.metrics, m)]
			}
		default:
			want[i], stream = r.cfg.Train.Steps, true // a run folder's final step
		}
	}
	if !stream {
		return out, nil
	}
	index := make(map[string]int, len(metrics))
	for j, m := range metrics {
		index[m] = j
	}
	err := r.scan(func(run int, metric, step, value []byte) error {
		j, ok := index[string(metric)]
		if !ok || !r.runs[run].OK {
			return nil
		}
		t, v, err := parseStepValue(step, value)
		if err == nil && t == want[run] {
			out[run][j] = v
		}
		return err
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

// firstStepMetrics returns the metrics of a run's steps.csv, read from its
// first step (every metric is written at every step).
func firstStepMetrics(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if _, err := br.ReadString('\n'); err != nil {
		return nil, errorf("%s: empty", path)
	}
	var ms []string
	first := ""
	for {
		line, err := br.ReadString('\n')
		if line == "" && err != nil {
			break
		}
		fields := strings.Split(strings.TrimSuffix(line, "\n"), ",")
		if len(fields) != 3 {
			return nil, errorf("%s: not a rewardmix steps.csv (line %q)", path, line)
		}
		if first == "" {
			first = fields[0]
		}
		if fields[0] != first {
			break
		}
		ms = append(ms, fields[1])
	}
	return ms, nil
}

// Steps streams the folder's steps.csv once and accumulates the metrics
// per group and step. Memory grows with metrics x groups x steps, never
// with the number of runs.
func (r *Folder) Steps(metrics []string, g Groups, sr StepRange) (*StepStats, error) {
	st := newStepStats(metrics, len(g.Labels))
	err := r.scan(func(run int, metric, step, value []byte) error {
		mi, ok := st.index[string(metric)]
		if !ok || g.Of[run] < 0 {
			return nil
		}
		t, v, err := parseStepValue(step, value)
		if err != nil || !sr.Has(t) {
			return err
		}
		st.add(mi, g.Of[run], t, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// errBadLine is what a scan callback returns for a line it cannot read.
var errBadLine = errors.New("not a rewardmix steps.csv line")

// parseStepValue reads a steps.csv line's step and value.
func parseStepValue(step, value []byte) (int, float64, error) {
	t, err1 := strconv.Atoi(string(step))
	v, err2 := strconv.ParseFloat(string(value), 64)
	if err1 != nil || err2 != nil || t < 0 || t > sim.MaxSteps {
		return 0, 0, errBadLine
	}
	return t, v, nil
}

// scan streams steps.csv and calls fn with each line's run (its index in
// Runs), metric, and unparsed step and value, which are valid only during
// the call. An error of fn stops the scan, reported at its line.
func (r *Folder) scan(fn func(run int, metric, step, value []byte) error) error {
	runIndex := make(map[string]int, len(r.runs))
	for i, run := range r.runs {
		runIndex[run.ID] = i
	}
	path := filepath.Join(r.path, StepsFile)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	if _, err := br.ReadSlice('\n'); err != nil {
		return errorf("%s: empty", path)
	}
	lineNo := 1
	var lastID []byte
	run := 0
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return errorf("%s:%d: %v", path, lineNo+1, errBadLine)
		}
		if len(line) == 0 && err != nil {
			return nil
		}
		lineNo++
		line = bytes.TrimSuffix(line, []byte{'\n'})
		if r.sweep {
			k := bytes.IndexByte(line, ',')
			if k < 0 {
				return errorf("%s:%d: %v", path, lineNo, errBadLine)
			}
			id := line[:k]
			if !bytes.Equal(id, lastID) {
				i, ok := runIndex[string(id)]
				if !ok {
					return errorf("%s:%d: run %q is not in runs.csv", path, lineNo, id)
				}
				run = i
				lastID = append(lastID[:0], id...)
			}
			line = line[k+1:]
		}
		k1 := bytes.IndexByte(line, ',')
		k2 := bytes.IndexByte(line[k1+1:], ',')
		if k1 < 0 || k2 < 0 {
			return errorf("%s:%d: %v", path, lineNo, errBadLine)
		}
		k2 += k1 + 1
		if ferr := fn(run, line[k1+1:k2], line[:k1], line[k2+1:]); ferr != nil {
			return errorf("%s:%d: %v", path, lineNo, ferr)
		}
		if err != nil {
			return nil
		}
	}
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
