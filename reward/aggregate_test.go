package reward

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Test helpers, written from the definitions rather than from Aggregator:
// the unbiased standard deviation as torch.std computes it, and a mean.
func meanOf(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func stdUnbiased(x []float64) float64 {
	m, s := meanOf(x), 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

// uniform returns n equal weights.
func uniform(n int) []float64 {
	p := make([]float64, n)
	for i := range p {
		p[i] = 1 / float64(n)
	}
	return p
}

func grid(s, n int) [][]float64 {
	out := make([][]float64, s)
	for i := range out {
		out[i] = make([]float64, n)
	}
	return out
}

// TestAggregatorHandComputed: two sampled groups of three rollouts, two
// signals, every aggregation and scaling, against the advantages TRL's
// GRPOTrainer forms, computed here sample by sample.
func TestAggregatorHandComputed(t *testing.T) {
	w := []float64{1, 0.5}
	groups := [][][]float64{
		{{1, 0, 1}, {0.5, 2, -1}},
		{{0, 0, 1}, {3, 1, 1}},
	}
	// x = sum_i w_i r_i, per group.
	x := make([][]float64, len(groups))
	var all []float64
	for gi, r := range groups {
		for n := range r[0] {
			x[gi] = append(x[gi], w[0]*r[0][n]+w[1]*r[1][n])
		}
		all = append(all, x[gi]...)
	}
	want := map[string][][]float64{}
	for _, mode := range []string{"none", "sum_then_normalize/group", "sum_then_normalize/batch", "sum_then_normalize/none", "normalize_then_sum"} {
		want[mode] = make([][]float64, len(groups))
	}
	var s [][]float64 // GDPO's weighted sum of standardised rewards
	var sAll []float64
	for gi, r := range groups {
		m, sd := meanOf(x[gi]), stdUnbiased(x[gi])
		sg := make([]float64, 3)
		for n := range x[gi] {
			want["none"][gi] = append(want["none"][gi], x[gi][n]-m)
			want["sum_then_normalize/none"][gi] = append(want["sum_then_normalize/none"][gi], x[gi][n]-m)
			want["sum_then_normalize/group"][gi] = append(want["sum_then_normalize/group"][gi], (x[gi][n]-m)/(sd+1e-4))
			want["sum_then_normalize/batch"][gi] = append(want["sum_then_normalize/batch"][gi], (x[gi][n]-m)/(stdUnbiased(all)+1e-4))
			for i := range w {
				sg[n] += w[i] * (r[i][n] - meanOf(r[i])) / (stdUnbiased(r[i]) + 1e-4)
			}
		}
		s = append(s, sg)
		sAll = append(sAll, sg...)
	}
	for gi := range groups {
		for n := range s[gi] {
			want["normalize_then_sum"][gi] = append(want["normalize_then_sum"][gi], (s[gi][n]-meanOf(sAll))/(stdUnbiased(sAll)+1e-4))
		}
	}
	for mode, wantAdv := range want {
		agg, scale := Aggregation(mode), ScaleGroup
		if a, sc, ok := cut(mode); ok {
			agg, scale = Aggregation(a), Scaling(sc)
		}
		g := NewAggregator(agg, scale, 2)
		g.Reset(w)
		parts := make([][][]float64, len(groups))
		for gi, r := range groups {
			parts[gi] = grid(2, 3)
			g.Add(parts[gi], r, nil, uniform(3), 1)
		}
		b := g.BatchScale()
		for gi := range groups {
			for n := 0; n < 3; n++ {
				got := b * (parts[gi][0][n] + parts[gi][1][n])
				if math.Abs(got-wantAdv[gi][n]) > 1e-12 {
					t.Errorf("%s: group %d sample %d: advantage %.15g, want %.15g", mode, gi, n, got, wantAdv[gi][n])
				}
			}
		}
	}
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// TestAggregatorLargeGroupLimit: a group in the large-group limit (p =
// pi, each response's reward variance given) has the advantages that
// sampled groups of many rollouts approach: for each response, the mean
// advantage of its rollouts over 400,000 samples, within 5 standard errors.
func TestAggregatorLargeGroupLimit(t *testing.T) {
	pi := []float64{0.5, 0.3, 0.2}
	mean := [][]float64{{1, 0.2, 0.6}, {0, 2, -1}}
	sd := [][]float64{{0.5, 0.4, 0.5}, {1.5, 0.1, 2}}
	w := []float64{0.7, 0.3}
	v := grid(2, 3)
	for i := range sd {
		for a := range sd[i] {
			v[i][a] = sd[i][a] * sd[i][a]
		}
	}
	const N = 400_000
	rng := rand.New(rand.NewPCG(3, 4))
	acts := make([]int, N)
	r := grid(2, N)
	for n := range acts {
		u, a := rng.Float64(), 0
		for c := pi[0]; u >= c && a < 2; c += pi[a] {
			a++
		}
		acts[n] = a
		for i := range r {
			r[i][n] = mean[i][a] + sd[i][a]*rng.NormFloat64()
		}
	}
	for _, c := range []struct {
		agg   Aggregation
		scale Scaling
	}{{AggNone, ScaleGroup}, {AggSumThenNormalize, ScaleGroup}, {AggNormalizeThenSum, ScaleGroup}} {
		lim := NewAggregator(c.agg, c.scale, 2)
		lim.Reset(w)
		limit := grid(2, 3)
		lim.Add(limit, mean, v, pi, 1)
		smp := NewAggregator(c.agg, c.scale, 2)
		smp.Reset(w)
		parts := grid(2, N)
		smp.Add(parts, r, nil, uniform(N), 1)
		// normalize_then_sum's batch scale: one group is the whole batch.
		bl, bs := lim.BatchScale(), smp.BatchScale()
		for a := range pi {
			var sum, sq, n float64
			for k, act := range acts {
				if act == a {
					adv := bs * (parts[0][k] + parts[1][k])
					sum += adv
					sq += adv * adv
					n++
				}
			}
			m := sum / n
			se := math.Sqrt((sq/n - m*m) / n)
			want := bl * (limit[0][a] + limit[1][a])
			if math.Abs(m-want) > 5*se {
				t.Errorf("%s/%s response %d: sampled mean advantage %.5f, limit %.5f (se %.5f)", c.agg, c.scale, a, m, want, se)
			}
		}
	}
}

// TestAdvantageSharesClosedForm: for independent signals, the share of
// the advantage's variance is w_i^2 Var(r_i) / sum_j w_j^2 Var(r_j) under
// sum_then_normalize, and w_i^2 / sum_j w_j^2 under normalize_then_sum; in
// the large-group limit exactly (to Epsilon's effect), over sampled
// rollouts within sampling error.
func TestAdvantageSharesClosedForm(t *testing.T) {
	w := []float64{1, 2, 0.5}
	sd := []float64{0.3, 0.1, 2}
	closed := func(agg Aggregation) []float64 {
		out, sum := make([]float64, 3), 0.0
		for i := range w {
			out[i] = w[i] * w[i]
			if agg != AggNormalizeThenSum {
				out[i] *= sd[i] * sd[i]
			}
			sum += out[i]
		}
		for i := range out {
			out[i] /= sum
		}
		return out
	}
	// Limit: two responses with equal means, so each signal varies only
	// by its own sampling noise, independent of the others.
	pi := []float64{0.4, 0.6}
	r, v := grid(3, 2), grid(3, 2)
	for i := range v {
		for a := range v[i] {
			r[i][a], v[i][a] = float64(i), sd[i]*sd[i]
		}
	}
	// Sampled: 40 groups of 500 rollouts with independent Gaussian rewards.
	rng := rand.New(rand.NewPCG(5, 6))
	const groups, G = 40, 500
	samples := make([][][]float64, groups)
	for g := range samples {
		samples[g] = grid(3, G)
		for i := range w {
			for n := 0; n < G; n++ {
				samples[g][i][n] = sd[i] * rng.NormFloat64()
			}
		}
	}
	for _, agg := range Aggregations {
		want := closed(agg)
		got := make([]float64, 3)
		lim := NewAggregator(agg, ScaleGroup, 3)
		lim.Reset(w)
		lim.Add(grid(3, 2), r, v, pi, 1)
		lim.Shares(got)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-3 {
				t.Errorf("%s limit: share %d = %.6f, want %.6f", agg, i, got[i], want[i])
			}
		}
		smp := NewAggregator(agg, ScaleGroup, 3)
		smp.Reset(w)
		for g := range samples {
			smp.Add(grid(3, G), samples[g], nil, uniform(G), 1)
		}
		smp.Shares(got)
		sum := 0.0
		for i := range want {
			sum += got[i]
			if math.Abs(got[i]-want[i]) > 0.02 {
				t.Errorf("%s sampled: share %d = %.4f, want %.4f", agg, i, got[i], want[i])
			}
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("%s: shares sum to %v", agg, sum)
		}
	}
}

// TestAggregatorConstantGroup: a group whose rewards do not vary carries
// no advantage under any aggregation, sampled or in the limit, and no
// share is NaN.
func TestAggregatorConstantGroup(t *testing.T) {
	r := [][]float64{{1, 1, 1, 1}, {0, 0, 0, 0}}
	for _, agg := range Aggregations {
		for _, scale := range Scalings {
			for _, v := range [][][]float64{nil, grid(2, 4)} {
				g := NewAggregator(agg, scale, 2)
				g.Reset([]float64{1, 1})
				dst := grid(2, 4)
				g.Add(dst, r, v, uniform(4), 1)
				b := g.BatchScale()
				shares := make([]float64, 2)
				g.Shares(shares)
				for i := range dst {
					for n, x := range dst[i] {
						if x*b != 0 || math.IsNaN(x*b) {
							t.Errorf("%s/%s (limit %v): part [%d][%d] = %v, want 0", agg, scale, v != nil, i, n, x*b)
						}
					}
					if shares[i] != 0 {
						t.Errorf("%s/%s: share %d = %v, want 0", agg, scale, i, shares[i])
					}
				}
			}
		}
	}
}

// TestVarianceDominance: mechanism 3 on one group. Under sum_then_normalize
// a single thumbs-up only lifts a sycophantic sample level with the candid
// ones (equal raw scales), but normalise-then-sum rescales the sparse
// signal to unit variance and makes that sample the group's best. (Which
// way dominance runs depends on the signals' scales and sparsity; the
// simulator reports it through the advantage shares, it does not assume
// it.)
func TestVarianceDominance(t *testing.T) {
	// Samples 0-5 candid (spec 1), 6-7 sycophantic (spec 0); one thumbs-up on 7.
	r := [][]float64{{1, 1, 1, 1, 1, 1, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 1}}
	adv := func(agg Aggregation) []float64 {
		g := NewAggregator(agg, ScaleGroup, 2)
		g.Reset([]float64{1, 1})
		dst := grid(2, 8)
		g.Add(dst, r, nil, uniform(8), 1)
		out := make([]float64, 8)
		for n := range out {
			out[n] = g.BatchScale() * (dst[0][n] + dst[1][n])
		}
		return out
	}
	stn := adv(AggSumThenNormalize)
	if math.Abs(stn[7]-stn[0]) > 1e-12 {
		t.Errorf("sum_then_normalize: thumbed sycophantic sample %.3f, want level with candid %.3f", stn[7], stn[0])
	}
	nts := adv(AggNormalizeThenSum)
	if !(nts[7] > nts[0]) {
		t.Errorf("normalize_then_sum: thumbed sycophantic sample %.3f not above candid %.3f", nts[7], nts[0])
	}
}

func ExampleAggregator() {
	// One GRPO group of four rollouts scored by two signals.
	r := [][]float64{{1, 0, 1, 1}, {0, 0, 1, 0}}
	g := NewAggregator(AggSumThenNormalize, ScaleGroup, 2)
	g.Reset([]float64{1, 1})
	parts := grid(2, 4)
	g.Add(parts, r, nil, uniform(4), 1)
	for n := range 4 {
		fmt.Printf("%.3f ", g.BatchScale()*(parts[0][n]+parts[1][n]))
	}
	// Output: 0.000 -1.225 1.225 0.000
}
