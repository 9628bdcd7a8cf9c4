package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

// resultDir is a run folder (steps.csv step,metric,value and config.toml)
// or a finished sweep folder (manifest.json, sweep.toml, runs.csv,
// steps.csv run_id,step,metric,value and agg.csv), opened for plotting.
type resultDir struct {
	label string // the folder's name in titles, when path is a temporary folder
	path  string
	sweep bool
	cfg   *sim.Config // the run's config, or the sweep's base config
	axes  []string    // swept keys (sweep only)
	// metrics lists the metric names, in file order.
	metrics []string
	// runs are the sweep's runs.csv rows: run_id, status and one value
	// per axis. Small (one row per run); the steps are never held.
	runs []sweepRun
	// pooled, when set, holds every run pooled into one group for the
	// metrics and step range it was made with (see prefetch).
	pooled      *stepStats
	pooledRange stepRange
}

// prefetch aggregates metrics over all runs in one pass, so that several
// figures of the standard set share one read of steps.csv.
func (r *resultDir) prefetch(metrics []string, sr stepRange) error {
	var ms []string
	for _, m := range metrics {
		if r.hasMetric(m) {
			ms = append(ms, m)
		}
	}
	_, group, _ := r.groupsBy("")
	st, err := r.aggregateSteps(ms, 1, group, sr)
	if err != nil {
		return err
	}
	r.pooled, r.pooledRange = st, sr
	return nil
}

// pooledSteps returns the metrics aggregated over all ok runs as one
// group, from the prefetched pass when it covers them.
func (r *resultDir) pooledSteps(metrics []string, sr stepRange) (*stepStats, error) {
	if r.pooled != nil && r.pooledRange == sr {
		have := map[string]bool{}
		for _, m := range r.pooled.metrics {
			have[m] = true
		}
		all := true
		for _, m := range metrics {
			all = all && have[m]
		}
		if all {
			return r.pooled, nil
		}
	}
	_, group, _ := r.groupsBy("")
	return r.aggregateSteps(metrics, 1, group, sr)
}

type sweepRun struct {
	id     string
	ok     bool
	params []string
}

// openResults reads what a folder is and which metrics it holds, without
// reading its steps.
func openResults(dir string) (*resultDir, error) {
	r := &resultDir{path: dir}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return nil, inputErrorf("%s: not a folder (want a run or sweep folder)", dir)
	}
	exists := func(n string) bool { _, err := os.Stat(filepath.Join(dir, n)); return err == nil }
	switch {
	case exists(manifestName):
		r.sweep = true
		if !exists("steps.csv") || !exists("runs.csv") {
			return nil, inputErrorf("%s: a sweep folder without runs.csv and steps.csv (unfinished? resume it with 'rewardmix sweep --resume', or merge its shards)", dir)
		}
		path := filepath.Join(dir, sweepName)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, inputErrorf("%s: a sweep folder without %s: %v", dir, sweepName, err)
		}
		s, err := configs.LoadSweep(path, data, nil, math.MaxInt32)
		if err != nil {
			return nil, err
		}
		r.cfg = s.Base
		for _, ax := range s.Axes {
			r.axes = append(r.axes, ax.Key)
		}
		if err := r.readRuns(); err != nil {
			return nil, err
		}
	case exists("steps.csv") && exists("config.toml"):
		path := filepath.Join(dir, "config.toml")
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if r.cfg, err = configs.Load(path, data, readRelative); err != nil {
			return nil, err
		}
		if r.metrics, err = firstStepMetrics(filepath.Join(dir, "steps.csv")); err != nil {
			return nil, err
		}
	default:
		return nil, inputErrorf("%s is not a run or sweep folder (a run folder holds steps.csv and config.toml, a sweep folder manifest.json)", dir)
	}
	return r, nil
}

// readRuns reads runs.csv: the run ids, statuses, parameters and, from
// the header, the metric names.
func (r *resultDir) readRuns() error {
	path := filepath.Join(r.path, "runs.csv")
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
		return inputErrorf("%s: not a rewardmix runs.csv (header %q)", path, strings.Join(head, ","))
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
		r.runs = append(r.runs, sweepRun{id: rec[0], ok: rec[len(rec)-2] == "ok", params: append([]string(nil), rec[2:2+na]...)})
	}
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
		return nil, inputErrorf("%s: empty", path)
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
			return nil, inputErrorf("%s: not a rewardmix steps.csv (line %q)", path, line)
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

// hasMetric reports whether the folder holds metric m.
func (r *resultDir) hasMetric(m string) bool {
	for _, x := range r.metrics {
		if x == m {
			return true
		}
	}
	return false
}

// checkMetrics returns an input error naming the first metric that the
// folder does not hold, with the ones it does.
func (r *resultDir) checkMetrics(ms ...string) error {
	for _, m := range ms {
		if !r.hasMetric(m) {
			return inputErrorf("%s has no metric %q; it has: %s", r.path, m, strings.Join(r.metrics, ", "))
		}
	}
	return nil
}

// numericAxes returns the swept keys whose every value (over all runs) is
// a number: the axes a heatmap can be drawn over.
func (r *resultDir) numericAxes() []string {
	var out []string
	for i, a := range r.axes {
		numeric := true
		for _, run := range r.runs {
			if _, err := strconv.ParseFloat(run.params[i], 64); err != nil {
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

// axisIndex returns the index of the swept key, or an input error naming
// the swept keys.
func (r *resultDir) axisIndex(key string) (int, error) {
	for i, a := range r.axes {
		if a == key {
			return i, nil
		}
	}
	if !r.sweep {
		return 0, inputErrorf("%s is a run folder: nothing is swept, so there is no %q to group by", r.path, key)
	}
	if len(r.axes) == 0 {
		return 0, inputErrorf("%s sweeps only seeds: no axis %q", r.path, key)
	}
	return 0, inputErrorf("%s has no swept key %q; its axes are: %s", r.path, key, strings.Join(r.axes, ", "))
}

// stepRange is an inclusive range of steps; Hi < 0 means no upper bound.
type stepRange struct{ lo, hi int }

var allSteps = stepRange{0, -1}

func (s stepRange) has(t int) bool { return t >= s.lo && (s.hi < 0 || t <= s.hi) }

// parseStepRange parses "a:b", "a:" or ":b" (inclusive).
func parseStepRange(v string) (stepRange, error) {
	if v == "" {
		return allSteps, nil
	}
	a, b, ok := strings.Cut(v, ":")
	r := allSteps
	var err error
	if ok && a != "" {
		r.lo, err = strconv.Atoi(a)
	}
	if ok && err == nil && b != "" {
		r.hi, err = strconv.Atoi(b)
	}
	if !ok || err != nil || r.lo < 0 || (r.hi >= 0 && r.hi < r.lo) {
		return r, inputErrorf("--step-range %q: want a:b with 0 <= a <= b (either may be left out)", v)
	}
	return r, nil
}

// welford accumulates a mean and variance in one pass.
type welford struct {
	n       int
	mean, s float64
}

func (w *welford) add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.s += d * (x - w.mean)
}

// ci95 returns the half-width of the 95% confidence interval of the mean
// (Student's t with n-1 degrees of freedom); 0 for n < 2.
func (w *welford) ci95() float64 {
	if w.n < 2 {
		return 0
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(w.n - 1)}.Quantile(0.975)
	return t * math.Sqrt(w.s/float64(w.n-1)/float64(w.n))
}

// stepStats holds, per metric and group, one accumulator per step.
type stepStats struct {
	metrics []string
	groups  int
	acc     [][][]welford // [metric][group][step]
	steps   int           // 1 + the highest step seen
}

// aggregateSteps streams the folder's steps.csv and accumulates the given
// metrics per group and step. group maps a run (its index in r.runs; 0 for
// a run folder) to a group in [0, groups), or -1 to leave it out. Memory
// grows with metrics x groups x steps, never with the number of runs.
func (r *resultDir) aggregateSteps(metrics []string, groups int, group func(run int) int, sr stepRange) (*stepStats, error) {
	st := &stepStats{metrics: metrics, groups: groups, acc: make([][][]welford, len(metrics))}
	for i := range st.acc {
		st.acc[i] = make([][]welford, groups)
	}
	want := make(map[string]int, len(metrics))
	for i, m := range metrics {
		want[m] = i
	}
	runIndex := make(map[string]int, len(r.runs))
	for i, run := range r.runs {
		runIndex[run.id] = i
	}
	path := filepath.Join(r.path, "steps.csv")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	if _, err := br.ReadSlice('\n'); err != nil {
		return nil, inputErrorf("%s: empty", path)
	}
	lineNo := 1
	var lastID []byte
	g := 0
	if !r.sweep {
		g = group(0)
	}
	bad := func() error { return inputErrorf("%s:%d: not a rewardmix steps.csv line", path, lineNo) }
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return nil, bad()
		}
		if len(line) == 0 && err != nil {
			break
		}
		lineNo++
		line = bytes.TrimSuffix(line, []byte{'\n'})
		if r.sweep {
			k := bytes.IndexByte(line, ',')
			if k < 0 {
				return nil, bad()
			}
			id := line[:k]
			if !bytes.Equal(id, lastID) {
				i, ok := runIndex[string(id)]
				if !ok {
					return nil, inputErrorf("%s:%d: run %q is not in runs.csv", path, lineNo, id)
				}
				g = group(i)
				lastID = append(lastID[:0], id...)
			}
			line = line[k+1:]
		}
		k1 := bytes.IndexByte(line, ',')
		if k1 < 0 {
			return nil, bad()
		}
		rest := line[k1+1:]
		k2 := bytes.IndexByte(rest, ',')
		if k2 < 0 {
			return nil, bad()
		}
		mi, ok := want[string(rest[:k2])]
		if !ok || g < 0 {
			continue
		}
		t, err1 := strconv.Atoi(string(line[:k1]))
		v, err2 := strconv.ParseFloat(string(rest[k2+1:]), 64)
		if err1 != nil || err2 != nil || t < 0 || t > sim.MaxSteps {
			return nil, bad()
		}
		if !sr.has(t) {
			continue
		}
		a := st.acc[mi][g]
		for len(a) <= t {
			a = append(a, welford{})
		}
		a[t].add(v)
		st.acc[mi][g] = a
		st.steps = max(st.steps, t+1)
		if err != nil {
			break
		}
	}
	return st, nil
}

// series returns, for a metric and group, the steps that have data and the
// mean, lower and upper 95% bound at each, and the largest n.
func (st *stepStats) series(metric string, g int) (x, mean, lo, hi []float64, n int) {
	mi := -1
	for i, m := range st.metrics {
		if m == metric {
			mi = i
		}
	}
	if mi < 0 {
		panic("rewardmix: series of a metric that was not aggregated")
	}
	for t, w := range st.acc[mi][g] {
		if w.n == 0 {
			continue
		}
		h := w.ci95()
		x = append(x, float64(t))
		mean = append(mean, w.mean)
		lo = append(lo, w.mean-h)
		hi = append(hi, w.mean+h)
		n = max(n, w.n)
	}
	return x, mean, lo, hi, n
}

// groupsBy assigns the sweep's ok runs to groups by the value of axis key,
// ordered numerically where the values are numbers. An empty key puts
// every ok run in one group.
func (r *resultDir) groupsBy(key string) (labels []string, group func(int) int, err error) {
	if key == "" {
		return []string{""}, func(i int) int {
			if r.sweep && !r.runs[i].ok {
				return -1
			}
			return 0
		}, nil
	}
	ax, err := r.axisIndex(key)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, run := range r.runs {
		if run.ok && !seen[run.params[ax]] {
			seen[run.params[ax]] = true
			labels = append(labels, run.params[ax])
		}
	}
	sort.SliceStable(labels, func(i, j int) bool {
		a, ea := strconv.ParseFloat(labels[i], 64)
		b, eb := strconv.ParseFloat(labels[j], 64)
		if ea == nil && eb == nil {
			return a < b
		}
		return labels[i] < labels[j]
	})
	idx := map[string]int{}
	for i, l := range labels {
		idx[l] = i
	}
	return labels, func(i int) int {
		if !r.runs[i].ok {
			return -1
		}
		return idx[r.runs[i].params[ax]]
	}, nil
}

// aggRows reads agg.csv: for one metric, each parameter point's axis
// values and mean.
func (r *resultDir) aggRows(metric string) (params [][]string, means []float64, err error) {
	path := filepath.Join(r.path, "agg.csv")
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, inputErrorf("%s: a sweep folder without agg.csv", r.path)
		}
		return nil, nil, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	cr.ReuseRecord = true
	head, err := cr.Read()
	na := len(r.axes)
	if err != nil || len(head) != na+6 || head[na] != "metric" || head[na+2] != "mean" {
		return nil, nil, inputErrorf("%s: not a rewardmix agg.csv", path)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return params, means, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		if rec[na] != metric {
			continue
		}
		v, err := strconv.ParseFloat(rec[na+2], 64)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: mean %q: %w", path, rec[na+2], err)
		}
		params = append(params, append([]string(nil), rec[:na]...))
		means = append(means, v)
	}
}
