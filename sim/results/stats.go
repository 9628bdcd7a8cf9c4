package results

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"gonum.org/v1/gonum/stat/distuv"
)

// StepRange is an inclusive range of steps; Hi < 0 means no upper bound.
type StepRange struct{ Lo, Hi int }

// AllSteps is the range of every step.
var AllSteps = StepRange{0, -1}

// Has reports whether step t is in the range.
func (s StepRange) Has(t int) bool { return t >= s.Lo && (s.Hi < 0 || t <= s.Hi) }

// ParseStepRange parses "a:b", "a:" or ":b" (inclusive); "" is AllSteps.
func ParseStepRange(v string) (StepRange, error) {
	if v == "" {
		return AllSteps, nil
	}
	a, b, ok := strings.Cut(v, ":")
	r := AllSteps
	var err error
	if ok && a != "" {
		r.Lo, err = strconv.Atoi(a)
	}
	if ok && err == nil && b != "" {
		r.Hi, err = strconv.Atoi(b)
	}
	if !ok || err != nil || r.Lo < 0 || (r.Hi >= 0 && r.Hi < r.Lo) {
		return r, errorf("%q: want a:b with 0 <= a <= b (either may be left out)", v)
	}
	return r, nil
}

// Welford accumulates a mean and variance in one pass (Welford 1962).
type Welford struct {
	N       int
	Mean, s float64
}

// Add adds one observation.
func (w *Welford) Add(x float64) {
	w.N++
	d := x - w.Mean
	w.Mean += d / float64(w.N)
	w.s += d * (x - w.Mean)
}

// CI95 returns the half-width of the 95% confidence interval of the mean,
// T975(n) sqrt(s^2/n); 0 for n < 2.
func (w *Welford) CI95() float64 {
	if w.N < 2 {
		return 0
	}
	return T975(w.N) * math.Sqrt(w.s/float64(w.N-1)/float64(w.N))
}

// T975 is the 0.975 quantile of Student's t with n-1 degrees of freedom:
// the factor of the two-sided 95% confidence interval of a mean of n
// observations, mean +- T975(n) sd / sqrt(n). It panics for n < 2.
// Values for n below 1024 are kept once computed: a sweep's agg.csv and
// a figure's bands ask for the same few n thousands of times, and each
// quantile is an inverse incomplete beta function (about 10 us).
func T975(n int) float64 {
	if n < 2 {
		panic("results: T975 of fewer than two observations")
	}
	if n < len(t975s) {
		if b := t975s[n].Load(); b != 0 {
			return math.Float64frombits(b)
		}
	}
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975)
	if n < len(t975s) {
		t975s[n].Store(math.Float64bits(q))
	}
	return q
}

// t975s holds the bits of T975(n) at n once computed (0: not yet).
var t975s [1024]atomic.Uint64

// Groups assigns a source's runs (by their index in Runs) to groups: all
// finished runs to one, or one group per value of a swept key.
type Groups struct {
	// Key is the swept key the runs are grouped by; "" pools every run.
	Key string
	// Labels names each group: the key's value (of its first run, for a
	// group binned from several).
	Labels []string
	// Of is the group of each run, -1 for a run left out (one that failed).
	Of []int
}

// Pool puts every finished run of src in one group.
func Pool(src Source) Groups {
	runs := src.Runs()
	g := Groups{Labels: []string{""}, Of: make([]int, len(runs))}
	for i, r := range runs {
		if !r.OK {
			g.Of[i] = -1
		}
	}
	return g
}

// GroupBy groups the finished runs of src by the value of the swept key,
// ordered numerically where the values are numbers.
func GroupBy(src Source, key string) (Groups, error) {
	if key == "" {
		return Pool(src), nil
	}
	ax, err := AxisIndex(src, key)
	if err != nil {
		return Groups{}, err
	}
	runs := src.Runs()
	var labels []string
	seen := map[string]bool{}
	for _, run := range runs {
		if run.OK && !seen[run.Params[ax]] {
			seen[run.Params[ax]] = true
			labels = append(labels, run.Params[ax])
		}
	}
	slices.SortStableFunc(labels, func(a, b string) int {
		x, ea := strconv.ParseFloat(a, 64)
		y, eb := strconv.ParseFloat(b, 64)
		if ea == nil && eb == nil {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
		return strings.Compare(a, b)
	})
	idx := map[string]int{}
	for i, l := range labels {
		idx[l] = i
	}
	g := Groups{Key: key, Labels: labels, Of: make([]int, len(runs))}
	for i, run := range runs {
		g.Of[i] = -1
		if run.OK {
			g.Of[i] = idx[run.Params[ax]]
		}
	}
	return g, nil
}

// StepStats holds, per metric and group, one accumulator per step.
type StepStats struct {
	metrics []string
	index   map[string]int
	acc     [][][]Welford // [metric][group][step]
}

func newStepStats(metrics []string, groups int) *StepStats {
	st := &StepStats{metrics: metrics, index: make(map[string]int, len(metrics)), acc: make([][][]Welford, len(metrics))}
	for i, m := range metrics {
		st.index[m] = i
		st.acc[i] = make([][]Welford, groups)
	}
	return st
}

// add adds value v of metric index mi at step t to group g.
func (st *StepStats) add(mi, g, t int, v float64) {
	a := st.acc[mi][g]
	for len(a) <= t {
		a = append(a, Welford{})
	}
	a[t].Add(v)
	st.acc[mi][g] = a
}

// Has reports whether every one of metrics was aggregated.
func (st *StepStats) Has(metrics ...string) bool {
	for _, m := range metrics {
		if _, ok := st.index[m]; !ok {
			return false
		}
	}
	return true
}

// Series returns, for a metric and group, the steps that have data and the
// mean, lower and upper 95% bound at each, and the largest number of runs
// at a step. It panics if the metric was not aggregated.
func (st *StepStats) Series(metric string, group int) (x, mean, lo, hi []float64, n int) {
	mi, ok := st.index[metric]
	if !ok {
		panic(fmt.Sprintf("results: Series of %q, which was not aggregated", metric))
	}
	for t, w := range st.acc[mi][group] {
		if w.N == 0 {
			continue
		}
		h := w.CI95()
		x = append(x, float64(t))
		mean = append(mean, w.Mean)
		lo = append(lo, w.Mean-h)
		hi = append(hi, w.Mean+h)
		n = max(n, w.N)
	}
	return x, mean, lo, hi, n
}
