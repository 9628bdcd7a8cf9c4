package results

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

// A Source is a set of finished runs: one run (in memory, or a run folder)
// or the runs of a sweep folder.
type Source interface {
	// Name names the source in messages: the folder's path as given, or
	// the run's name for a run in memory.
	Name() string
	// Label is the short name figure titles use: the folder's base name,
	// or the run's name.
	Label() string
	// Sweep reports whether the source is a sweep (its figures show means
	// across runs).
	Sweep() bool
	// Config is the run's config, or the sweep's base config. It is
	// shared: do not modify it.
	Config() *sim.Config
	// Metrics lists the metrics recorded at every step, in file order.
	Metrics() []string
	// Axes lists the swept keys; none for a single run.
	Axes() []string
	// Runs describes each run, in run order; a single run has one.
	Runs() []Run
	// Steps aggregates the metrics at each step in r over the runs of each
	// group of g: the mean and the 95% confidence interval across runs.
	Steps(metrics []string, g Groups, r StepRange) (*StepStats, error)
	// Points returns the mean final value of metric at each parameter
	// point of a sweep (agg.csv), with the point's axis values.
	Points(metric string) ([]Point, error)
	// At returns each run's values of metrics (a row per run, in run
	// order) at a step of its own: steps[i] for run i, or its final step
	// where steps[i] < 0. A value the source does not hold (a failed run,
	// a step past the run's end) is NaN.
	At(metrics []string, steps []int) ([][]float64, error)
	// RunConfig returns run i's resolved config: its parameters set in
	// the base config, and its own seed.
	RunConfig(i int) (*sim.Config, error)
}

// Run is one run of a source.
type Run struct {
	ID     string   // run_id in a sweep; "" for a single run
	OK     bool     // finished (not failed)
	Params []string // its value of each axis, as runs.csv writes them
}

// Point is one parameter point of a sweep and the mean of a metric's
// final value over its seeds.
type Point struct {
	Params []string
	Mean   float64
}

// Error reports a folder that is not what was asked for, or a request the
// results cannot answer (a metric or axis they do not have): the user's
// input, not a failure of the machine.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, a ...any) error { return &Error{fmt.Sprintf(format, a...)} }

// CheckMetrics returns an *Error naming the first of ms that src does not
// hold, with the ones it does.
func CheckMetrics(src Source, ms ...string) error {
	have := src.Metrics()
	for _, m := range ms {
		if !slices.Contains(have, m) {
			return errorf("%s has no metric %q; it has: %s", src.Name(), m, strings.Join(have, ", "))
		}
	}
	return nil
}

// AxisIndex returns the index of a swept key among src's axes, or an
// *Error naming the axes there are.
func AxisIndex(src Source, key string) (int, error) {
	axes := src.Axes()
	if i := slices.Index(axes, key); i >= 0 {
		return i, nil
	}
	switch {
	case !src.Sweep():
		return 0, errorf("%s is a run folder: nothing is swept, so there is no %q to group by", src.Name(), key)
	case len(axes) == 0:
		return 0, errorf("%s sweeps only seeds: no axis %q", src.Name(), key)
	}
	return 0, errorf("%s has no swept key %q; its axes are: %s", src.Name(), key, strings.Join(axes, ", "))
}

// NumericAxes returns the swept keys whose every value (over all runs) is a
// number: the axes a heatmap can be drawn over.
func NumericAxes(src Source) []string {
	var out []string
	runs := src.Runs()
	for i, a := range src.Axes() {
		numeric := true
		for _, run := range runs {
			if _, err := strconv.ParseFloat(run.Params[i], 64); err != nil {
				numeric = false
				break
			}
		}
		if numeric {
			out = append(out, a)
		}
	}
	return out
}

// FromResult returns a finished run held in memory as a Source, so that
// figures are drawn from it without a folder.
func FromResult(res *sim.Result) Source {
	return &memory{res: res}
}

// memory is a run in memory.
type memory struct{ res *sim.Result }

func (m *memory) Name() string        { return m.res.Config().Name }
func (m *memory) Label() string       { return m.res.Config().Name }
func (m *memory) Sweep() bool         { return false }
func (m *memory) Config() *sim.Config { return m.res.Config() }
func (m *memory) Metrics() []string   { return m.res.Metrics }
func (m *memory) Axes() []string      { return nil }
func (m *memory) Runs() []Run         { return []Run{{OK: true}} }

func (m *memory) Steps(metrics []string, g Groups, r StepRange) (*StepStats, error) {
	st := newStepStats(metrics, len(g.Labels))
	group := g.Of[0]
	for mi, name := range metrics {
		k := slices.Index(m.res.Metrics, name)
		if k < 0 {
			return nil, errorf("%s has no metric %q", m.Name(), name)
		}
		if group < 0 {
			continue
		}
		a := make([]Welford, len(m.res.Values))
		for t, row := range m.res.Values {
			if r.Has(t) {
				a[t] = Welford{N: 1, Mean: row[k]} // the value itself, as it is
			}
		}
		st.acc[mi][group] = a
	}
	return st, nil
}

func (m *memory) At(metrics []string, steps []int) ([][]float64, error) {
	if len(steps) != 1 {
		panic(fmt.Sprintf("results: At with %d steps for one run", len(steps)))
	}
	if err := CheckMetrics(m, metrics...); err != nil {
		return nil, err
	}
	out := nanRows(1, len(metrics))
	t := steps[0]
	if t < 0 {
		t = len(m.res.Values) - 1
	}
	if t < len(m.res.Values) {
		for j, name := range metrics {
			out[0][j] = m.res.Values[t][slices.Index(m.res.Metrics, name)]
		}
	}
	return out, nil
}

func (m *memory) RunConfig(i int) (*sim.Config, error) {
	if i != 0 {
		panic(fmt.Sprintf("results: RunConfig(%d) of one run", i))
	}
	return m.res.Config(), nil
}

func (m *memory) Points(string) ([]Point, error) {
	return nil, errorf("%s is a single run: it has no parameter points", m.Name())
}

// Errorf returns an *Error: for the packages that read and write results
// folders to refuse a folder in the user's terms.
func Errorf(format string, a ...any) error { return errorf(format, a...) }

// PointMeans returns a lookup of a sweep's mean final value of metric by a
// parameter point's values (agg.csv): ok is false for a point it does not
// hold (every run of it failed, or it is not the sweep's).
func PointMeans(src Source, metric string) (func(params []any) (mean float64, ok bool), error) {
	points, err := src.Points(metric)
	if err != nil {
		return nil, err
	}
	means := make(map[string]float64, len(points))
	for _, p := range points {
		means[strings.Join(p.Params, "\x00")] = p.Mean
	}
	var key []string
	return func(params []any) (float64, bool) {
		key = key[:0]
		for _, v := range params {
			key = append(key, configs.FormatParam(v))
		}
		m, ok := means[strings.Join(key, "\x00")]
		return m, ok
	}, nil
}
