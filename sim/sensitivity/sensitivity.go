// Package sensitivity estimates variance-based (Sobol) sensitivity indices
// from the outputs of a Saltelli design (configs.SaltelliPoints; a sweep
// with mode = "sobol"): which inputs drive an output, alone (first order)
// and with everything they interact with (total order). It does no I/O.
package sensitivity

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// Index is one input's Sobol indices for one output, with the 95%
// percentile interval of each over bootstrap resamples of the design's
// base samples.
type Index struct {
	S1, S1Low, S1High float64 // first order: the share of Var(Y) due to the input alone
	ST, STLow, STHigh float64 // total order: with all its interactions
}

// Design is the outputs of a Saltelli design with N base samples and d
// inputs: A[j] = f(A_j), B[j] = f(B_j), and AB[i][j] = f(A_j with input i
// from B_j).
type Design struct {
	A, B []float64
	AB   [][]float64
}

// NewDesign returns a Design for n base samples and d inputs, every output
// NaN until Set.
func NewDesign(n, d int) Design {
	nans := func() []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = math.NaN()
		}
		return x
	}
	des := Design{A: nans(), B: nans(), AB: make([][]float64, d)}
	for i := range des.AB {
		des.AB[i] = nans()
	}
	return des
}

// Set records output y of base sample j's point of the given role in its
// block, as configs.SaltelliPoints lays a block out: 0 for A, 1 for B, 2+i
// for A with input i from B.
func (d Design) Set(j, role int, y float64) {
	switch role {
	case 0:
		d.A[j] = y
	case 1:
		d.B[j] = y
	default:
		d.AB[role-2][j] = y
	}
}

// Indices estimates each input's indices: the first order with Saltelli et
// al. (2010, "Variance based sensitivity analysis of model output", table 2
// (b)), S1_i = mean_j (f(B_j) - m) (f(AB_ij) - f(A_j)) / V, where centring
// f(B_j) on the outputs' mean m leaves the estimator's expectation as it
// is (f(AB_i) and f(A) have the same mean) and cuts its variance when the
// mean is large against the spread, and the total order
// with Jansen (1999), ST_i = mean_j (f(A_j) - f(AB_ij))^2 / 2V, where V is
// the variance of the f(A_j) and f(B_j) together. Its intervals are the
// 2.5% and 97.5% percentiles of the estimates over resamples bootstrap
// resamples of the base samples, drawn from seed. A base sample with a
// non-finite output (a failed run) is left out; fewer than two usable
// samples, or an output that does not vary, is an error.
func Indices(d Design, resamples int, seed uint64) ([]Index, error) {
	N, dims := len(d.A), len(d.AB)
	if len(d.B) != N {
		panic("sensitivity: A and B differ in length")
	}
	for _, ab := range d.AB {
		if len(ab) != N {
			panic("sensitivity: AB and A differ in length")
		}
	}
	var keep []int
	for j := range N {
		ok := finite(d.A[j]) && finite(d.B[j])
		for _, ab := range d.AB {
			ok = ok && finite(ab[j])
		}
		if ok {
			keep = append(keep, j)
		}
	}
	if len(keep) < 2 {
		return nil, fmt.Errorf("sensitivity: %d of %d base samples have every output: too few to estimate", len(keep), N)
	}
	est := func(js []int, s1, st []float64) bool {
		var mean, sq float64
		for _, j := range js {
			mean += d.A[j] + d.B[j]
		}
		mean /= float64(2 * len(js))
		for _, j := range js {
			sq += (d.A[j]-mean)*(d.A[j]-mean) + (d.B[j]-mean)*(d.B[j]-mean)
		}
		v := sq / float64(2*len(js))
		if !(v > 0) {
			return false
		}
		for i, ab := range d.AB {
			var a, b float64
			for _, j := range js {
				a += (d.B[j] - mean) * (ab[j] - d.A[j])
				b += (d.A[j] - ab[j]) * (d.A[j] - ab[j])
			}
			s1[i] = a / float64(len(js)) / v
			st[i] = b / float64(2*len(js)) / v
		}
		return true
	}
	s1, st := make([]float64, dims), make([]float64, dims)
	if !est(keep, s1, st) {
		return nil, errors.New("sensitivity: the output does not vary over the design: no variance to apportion")
	}
	out := make([]Index, dims)
	for i := range out {
		out[i].S1, out[i].ST = s1[i], st[i]
	}
	if resamples < 1 {
		return out, nil
	}
	rng := rand.New(rand.NewPCG(seed, 0xb0075))
	bs1, bst := make([][]float64, dims), make([][]float64, dims)
	js := make([]int, len(keep))
	for range resamples {
		for k := range js {
			js[k] = keep[rng.IntN(len(keep))]
		}
		if !est(js, s1, st) {
			continue // a resample with no variance says nothing
		}
		for i := range dims {
			bs1[i], bst[i] = append(bs1[i], s1[i]), append(bst[i], st[i])
		}
	}
	for i := range out {
		out[i].S1Low, out[i].S1High = percentiles(bs1[i])
		out[i].STLow, out[i].STHigh = percentiles(bst[i])
	}
	return out, nil
}

// percentiles returns the 2.5% and 97.5% percentiles of xs (sorted in
// place); NaN for none.
func percentiles(xs []float64) (lo, hi float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	slices.Sort(xs)
	return quantile(xs, 0.025), quantile(xs, 0.975)
}

// quantile is the p quantile of sorted xs, interpolated linearly between
// the order statistics at p(n-1) (NumPy's default, Hyndman and Fan's type 7).
func quantile(xs []float64, p float64) float64 {
	h := p * float64(len(xs)-1)
	k := int(h)
	if k+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[k] + (h-float64(k))*(xs[k+1]-xs[k])
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Spread is the distribution of an output over a design's A and B points,
// which sample the inputs' ranges independently and evenly: the headline's
// uncertainty when the ranges are the inputs' plausible values.
type Spread struct {
	N                      int // finite outputs
	Mean, Median, Q05, Q95 float64
}

// SpreadOf returns the Spread of the finite outputs of d's A and B points
// (quantiles as NumPy takes them by default); zero with N = 0 when there
// are none.
func SpreadOf(d Design) Spread {
	var ys []float64
	for _, y := range slices.Concat(d.A, d.B) {
		if finite(y) {
			ys = append(ys, y)
		}
	}
	if len(ys) == 0 {
		return Spread{}
	}
	slices.Sort(ys)
	return Spread{N: len(ys), Mean: stat.Mean(ys, nil), Median: quantile(ys, 0.5), Q05: quantile(ys, 0.05), Q95: quantile(ys, 0.95)}
}
