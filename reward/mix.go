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
// advantages.
type Aggregation string

// The aggregations.
const (
	// AggNone centres the weighted sum of rewards on its group mean.
	AggNone Aggregation = "none"
	// AggSumThenNormalize sums the weighted rewards, then standardises the
	// sum within the group (GRPO with a combined reward).
	AggSumThenNormalize Aggregation = "sum_then_normalize"
	// AggNormalizeThenSum standardises each signal within the group, then
	// sums with the weights (GDPO-style decoupled normalisation).
	AggNormalizeThenSum Aggregation = "normalize_then_sum"
)

// WeightModes and Aggregations list the accepted values in a fixed order.
var (
	WeightModes  = []WeightMode{WeightsAbsolute, WeightsSumToOne}
	Aggregations = []Aggregation{AggNone, AggSumThenNormalize, AggNormalizeThenSum}
)

// minSD is the group standard deviation below which a normalised advantage
// is taken as zero: a group whose rewards do not vary carries no signal.
const minSD = 1e-9

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

// Advantages computes each signal's contribution to the advantage of every
// sample in one group. r[i][n] is signal i's reward on sample n, p[n] the
// sample's weight in the group (summing to one: 1/G for a sampled group,
// pi(a|x) for an exact expectation over responses), and w[i] the effective
// weights. On return dst[i][n] holds signal i's share of sample n's
// advantage, so that the advantage itself is sum_i dst[i][n]. The
// decomposition is exact for every aggregation because each one is linear
// in the per-signal centred rewards once the group's scale is fixed.
func Advantages(dst, r [][]float64, w, p []float64, agg Aggregation) {
	S := len(w)
	switch agg {
	case AggNone, AggNormalizeThenSum:
		for i := 0; i < S; i++ {
			ri, di := r[i][:len(p)], dst[i][:len(p)]
			if w[i] == 0 {
				clear(di)
				continue
			}
			m := wmean(ri, p)
			scale := w[i]
			if agg == AggNormalizeThenSum {
				sd := wsd(ri, p, m)
				if sd < minSD {
					clear(di)
					continue
				}
				scale /= sd
			}
			for n, v := range ri {
				di[n] = scale * (v - m)
			}
		}
	case AggSumThenNormalize:
		// Two passes over the weighted sum, without materialising it.
		mean := 0.0
		for n, pn := range p {
			mean += pn * wsum(r, w, n)
		}
		sq := 0.0
		for n, pn := range p {
			d := wsum(r, w, n) - mean
			sq += pn * d * d
		}
		sd := math.Sqrt(sq)
		for i := 0; i < S; i++ {
			di := dst[i][:len(p)]
			if sd < minSD || w[i] == 0 {
				clear(di)
				continue
			}
			ri := r[i][:len(p)]
			m := wmean(ri, p)
			scale := w[i] / sd
			for n, v := range ri {
				di[n] = scale * (v - m)
			}
		}
	default:
		panic("reward: unknown aggregation " + agg)
	}
}

func wmean(x, p []float64) float64 {
	s := 0.0
	for n, v := range x {
		s += p[n] * v
	}
	return s
}

func wsd(x, p []float64, m float64) float64 {
	s := 0.0
	for n, v := range x {
		d := v - m
		s += p[n] * d * d
	}
	return math.Sqrt(s)
}

func wsum(r [][]float64, w []float64, n int) float64 {
	t := 0.0
	for i, wi := range w {
		t += wi * r[i][n]
	}
	return t
}
