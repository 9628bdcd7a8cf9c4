package reward

import "math"

// WeightMode is how configured weights become effective weights.
type WeightMode string

// The weighting modes.
const (
	// WeightsAbsolute uses each active signal's weight as given.
	WeightsAbsolute WeightMode = "absolute"
	// WeightsSumToOne divides the active signals' weights by their sum, so
	// adding a signal dilutes every other signal's effective weight.
	WeightsSumToOne WeightMode = "sum_to_one"
)

// Aggregation is how per-signal rewards of a group of samples become
// advantages, as TRL's GRPOTrainer names it (multi_objective_aggregation).
type Aggregation string

// The aggregations. With a sample's weighted summed reward x = sum_i w_i r_i:
const (
	// AggNone centres x on its group mean: A = x - mean(x). It is
	// AggSumThenNormalize with ScaleNone (Dr. GRPO), under its own name.
	AggNone Aggregation = "none"
	// AggSumThenNormalize centres x on its group mean and divides by a
	// standard deviation of x chosen by the Scaling (GRPO; TRL's default):
	// A = (x - mean(x)) / (sd(x) + Epsilon).
	AggSumThenNormalize Aggregation = "sum_then_normalize"
	// AggNormalizeThenSum standardises each signal within its group, sums
	// with the weights, and standardises the sum over the whole batch
	// (GDPO, arXiv 2601.05242; TRL's normalize_then_sum):
	// s = sum_i w_i (r_i - mean(r_i)) / (sd(r_i) + Epsilon),
	// A = (s - mean_batch(s)) / (sd_batch(s) + Epsilon).
	AggNormalizeThenSum Aggregation = "normalize_then_sum"
)

// Scaling is the standard deviation AggSumThenNormalize divides by (TRL's
// scale_rewards); the other aggregations do not read it.
type Scaling string

// The scalings.
const (
	ScaleGroup Scaling = "group" // the group's sd of x (GRPO)
	ScaleBatch Scaling = "batch" // the whole batch's sd of x, across groups
	ScaleNone  Scaling = "none"  // none: centring only (Dr. GRPO)
)

// Epsilon is added to every standard deviation an advantage is divided by,
// as TRL does: a group whose rewards do not vary gets advantage 0.
const Epsilon = 1e-4

// WeightModes, Aggregations and Scalings list the accepted values in a
// fixed order.
var (
	WeightModes  = []WeightMode{WeightsAbsolute, WeightsSumToOne}
	Aggregations = []Aggregation{AggNone, AggSumThenNormalize, AggNormalizeThenSum}
	Scalings     = []Scaling{ScaleGroup, ScaleBatch, ScaleNone}
)

// EffectiveWeights writes into dst the weight each signal carries at step:
// zero when inactive, the configured weight for WeightsAbsolute, and the
// weight divided by the sum over active signals for WeightsSumToOne. It
// panics on an unknown mode.
func EffectiveWeights(dst []float64, specs []Spec, step int, mode WeightMode) {
	sum := 0.0
	for i := range specs {
		dst[i] = 0
		if specs[i].Active(step) {
			dst[i] = specs[i].Weight
			sum += specs[i].Weight
		}
	}
	switch mode {
	case WeightsAbsolute:
	case WeightsSumToOne:
		if sum > 0 {
			for i := range dst[:len(specs)] {
				dst[i] /= sum
			}
		}
	default:
		panic("reward: unknown weighting mode " + mode)
	}
}

// Aggregator forms a step's advantages group by group, under one
// aggregation and scaling, and keeps the sums over the batch that
// batch-level scaling and the advantage shares need. A group is one
// prompt's samples: G sampled rollouts of equal weight (grpo; reinforce's
// whole batch is one group), or, in GRPO's large-group limit (expected),
// every response a with weight pi(a|x) and the variance of each signal's
// sampled reward given a, so that its statistics are those of infinitely
// many sampled rollouts.
//
// Every aggregation is linear in the centred rewards r_i - mean(r_i) once
// its scales are fixed, so a sample's advantage splits exactly into one
// part per signal: A = b sum_i k_i (r_i - mean(r_i)), with k_i the group's
// scale of signal i (its weight, divided by a group sd when the mode says)
// and b the batch's scale, known once every group is in.
type Aggregator struct {
	agg   Aggregation
	scale Scaling
	w     []float64 // the step's effective weights
	k     []float64 // the last group's k_i
	// Sums over the step's groups, each weighted by its omega: weight,
	// of the batch statistic's mean and second moment, and the samples.
	weight, sum, sumSq float64
	samples            int
	sampled            bool
	// cov[i] sums E[d_i A + k_i^2 Var(r_i)] and varA E[A^2 + sum_i k_i^2
	// Var(r_i)], with d_i = k_i (r_i - mean) and A = sum_i d_i: the
	// advantage's covariance with each signal's part, and its variance.
	cov  []float64
	varA float64
	// per-sample workspaces of Add
	a, va, x []float64
}

// NewAggregator returns an Aggregator for signals signals. It panics on an
// unknown aggregation or scaling.
func NewAggregator(agg Aggregation, scale Scaling, signals int) *Aggregator {
	if !containsMode(Aggregations, agg) || !containsMode(Scalings, scale) {
		panic("reward: unknown aggregation " + string(agg) + " or scaling " + string(scale))
	}
	return &Aggregator{agg: agg, scale: scale, k: make([]float64, signals), cov: make([]float64, signals)}
}

func containsMode[T comparable](xs []T, x T) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Reset starts a step whose effective weights are w.
func (g *Aggregator) Reset(w []float64) {
	g.w = w
	g.weight, g.sum, g.sumSq, g.samples, g.varA = 0, 0, 0, 0, 0
	clear(g.cov)
}

// Add forms one group's advantages before the batch scale: dst[i][n] is
// signal i's part of sample n's advantage, which is BatchScale() times
// sum_i dst[i][n]. r[i][n] is signal i's reward on sample n and p[n] the
// sample's weight in the group (summing to one). v[i][n] is the variance
// of signal i's sampled reward given sample n, for a group in the
// large-group limit; v is nil for a group of sampled rollouts, whose
// standard deviations are then the unbiased sample ones (torch.std's, as
// TRL takes them). omega is the group's weight in the batch (1 for a
// sampled prompt). A signal of weight 0 has part 0.
func (g *Aggregator) Add(dst, r, v [][]float64, p []float64, omega float64) {
	G := len(p)
	g.sampled = v == nil
	// unbiased turns a weighted mean square over the group into the
	// variance estimate: G/(G-1) for G equally weighted samples.
	unbiased := 1.0
	if g.sampled {
		unbiased = 0
		if G > 1 {
			unbiased = float64(G) / float64(G-1)
		}
	}
	if cap(g.a) < G {
		g.a, g.va, g.x = make([]float64, G), make([]float64, G), make([]float64, G)
	}
	a, va, x := g.a[:G], g.va[:G], g.x[:G] // per sample: sum_i parts, their variance, x
	clear(a)
	clear(va)
	clear(x)
	// Centre every signal, and set k_i (signal by signal, over contiguous
	// samples).
	mx := 0.0 // the group mean of x = sum_i w_i r_i
	for i, wi := range g.w {
		di, ri := dst[i][:G], r[i][:G]
		if wi == 0 {
			clear(di)
			g.k[i] = 0
			continue
		}
		m := 0.0
		for n, pn := range p {
			m += pn * ri[n]
		}
		mx += wi * m
		ms := 0.0 // mean square of r_i - m, with its sampling variance
		for n, pn := range p {
			di[n] = ri[n] - m
			ms += pn * di[n] * di[n]
		}
		if v != nil {
			for n, pn := range p {
				ms += pn * v[i][n]
			}
		}
		g.k[i] = wi
		if g.agg == AggNormalizeThenSum {
			g.k[i] = wi / (math.Sqrt(unbiased*ms) + Epsilon)
		}
	}
	if g.agg == AggSumThenNormalize && g.scale == ScaleGroup {
		// x - mean(x) and its sampling variance, in a and va for now.
		for i, wi := range g.w {
			if wi == 0 {
				continue
			}
			for n, d := range dst[i][:G] {
				a[n] += wi * d
			}
			if v != nil {
				for n, vi := range v[i][:G] {
					va[n] += wi * wi * vi
				}
			}
		}
		ms := 0.0
		for n, pn := range p {
			ms += pn * (a[n]*a[n] + va[n])
		}
		s := 1 / (math.Sqrt(unbiased*ms) + Epsilon)
		for i := range g.k {
			g.k[i] *= s
		}
		clear(a)
		clear(va)
	}
	// The parts; per sample their sum A, its sampling variance, and x.
	for i, ki := range g.k {
		if ki == 0 {
			continue
		}
		di := dst[i][:G]
		for n := range di {
			di[n] *= ki
			a[n] += di[n]
		}
		if v != nil {
			for n, vi := range v[i][:G] {
				va[n] += ki * ki * vi
			}
		}
		if g.agg == AggSumThenNormalize {
			wi := g.w[i]
			for n, ri := range r[i][:G] {
				x[n] += wi * ri
			}
		}
	}
	// The shares' sums: the advantage's covariance with each part, and its
	// variance.
	for i, ki := range g.k {
		if ki == 0 {
			continue
		}
		c := 0.0
		for n, d := range dst[i][:G] {
			c += p[n] * d * a[n]
		}
		if v != nil {
			for n, vi := range v[i][:G] {
				c += p[n] * ki * ki * vi
			}
		}
		g.cov[i] += omega * c
	}
	varA := 0.0
	for n, pn := range p {
		varA += pn * (a[n]*a[n] + va[n])
	}
	g.varA += omega * varA
	// The batch statistic's sums: of x itself (sum_then_normalize; its
	// sampling variance is sum_i w_i^2 Var(r_i)), or of s, whose group
	// mean is 0 (normalize_then_sum; a and va hold it).
	batch := 0.0
	switch g.agg {
	case AggSumThenNormalize:
		for n, pn := range p {
			batch += pn * x[n] * x[n]
		}
		if v != nil {
			for i, wi := range g.w {
				if wi == 0 {
					continue
				}
				for n, vi := range v[i][:G] {
					batch += p[n] * wi * wi * vi
				}
			}
		}
		g.sum += omega * mx
	case AggNormalizeThenSum:
		batch = varA
	}
	g.weight += omega
	g.sumSq += omega * batch
	g.samples += G
}

// BatchScale returns b, the factor every advantage of the step takes once
// all its groups are in: 1/(sd_batch + Epsilon) for the batch-level
// standardisation of AggNormalizeThenSum and of AggSumThenNormalize with
// ScaleBatch (unbiased over the batch's samples when they are sampled), 1
// otherwise.
func (g *Aggregator) BatchScale() float64 {
	if !(g.agg == AggNormalizeThenSum || g.agg == AggSumThenNormalize && g.scale == ScaleBatch) || g.weight == 0 {
		return 1
	}
	m := g.sum / g.weight
	v := max(g.sumSq/g.weight-m*m, 0)
	if g.sampled {
		v = 0
		if g.samples > 1 {
			v = max(g.sumSq/g.weight-m*m, 0) * float64(g.samples) / float64(g.samples-1)
		}
	}
	return 1 / (math.Sqrt(v) + Epsilon)
}

// Shares writes into dst each signal's share of the variance of the step's
// advantage over its rollouts: Cov(A_i, A) / Var(A), where A_i is the
// signal's part of the advantage A (batch scale and all, which cancels).
// The shares sum to one; all are 0 when the advantage does not vary. For
// signals whose rewards are independent, under AggSumThenNormalize the
// share is w_i^2 Var(r_i) / sum_j w_j^2 Var(r_j), and under
// AggNormalizeThenSum w_i^2 / sum_j w_j^2.
func (g *Aggregator) Shares(dst []float64) {
	for i, c := range g.cov {
		dst[i] = 0
		if g.varA > 0 {
			dst[i] = c / g.varA
		}
	}
}
