package sim_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// TestLargeGroupLimit: under every aggregation and scaling, grpo with a
// large group converges to expected, which is GRPO's large-group limit (a
// group statistic over infinitely many rollouts: the spread of the expected
// rewards across responses plus each response's sampling variance). The
// world is baseline with a direct thumbs signal from step 0, so that the
// rewards never change (a deployment's reward model would refit on
// slightly different logs and dominate the comparison). The tolerance: the
// two algorithms draw their prompts from different random streams, which
// alone moves the final sycophancy rate by 0.004 under aggregation none
// (where expected is exact in expectation); a group of 256 adds its O(1/G)
// bias. Measured gaps are at most 0.006 in sycophancy and 0.02 in gold.
func TestLargeGroupLimit(t *testing.T) {
	base := preset(t, "baseline")
	base.Train.Beta, base.Train.Steps = 0.3, 150
	thumbs := reward.Default(reward.KindThumbs)
	thumbs.Source, thumbs.Weight = reward.SourceDirect, 1
	base.Signals["thumbs"] = thumbs
	for _, c := range []struct {
		agg   reward.Aggregation
		scale reward.Scaling
	}{
		{reward.AggNone, reward.ScaleGroup},
		{reward.AggSumThenNormalize, reward.ScaleGroup},
		{reward.AggSumThenNormalize, reward.ScaleBatch},
		{reward.AggNormalizeThenSum, reward.ScaleGroup},
	} {
		t.Run(fmt.Sprintf("%s/%s", c.agg, c.scale), func(t *testing.T) {
			final := func(alg sim.Algorithm) (syc, gold float64) {
				cfg := base.Clone()
				cfg.Train.Algorithm, cfg.Train.GroupSize = alg, 256
				cfg.Train.Aggregation, cfg.Train.ScaleRewards = c.agg, c.scale
				res := run(t, cfg)
				return res.Value(cfg.Train.Steps, "sycophancy_rate"), res.Value(cfg.Train.Steps, "gold_utility")
			}
			es, eg := final(sim.AlgorithmExpected)
			gs, gg := final(sim.AlgorithmGRPO)
			if math.Abs(es-gs) > 0.01 || math.Abs(eg-gg) > 0.03 {
				t.Errorf("final sycophancy %.4f (expected) vs %.4f (grpo, G=256); gold %.4f vs %.4f", es, gs, eg, gg)
			}
		})
	}
}

// TestAdvantageShareTableWorld: on a table world whose two signals pay the
// same to every response and differ only in their sampling noise (noise_sd
// 0.3 and 2, independent), the step's advantage_share metrics are the
// closed forms: w_i^2 sd_i^2 / sum_j w_j^2 sd_j^2 under sum_then_normalize
// (and none), and w_i^2 / sum_j w_j^2 under normalize_then_sum (to the
// effect of the 1e-4 added to each sd), for expected (the large-group
// limit, exactly) and for grpo (over its sampled rollouts, within their
// sampling error).
func TestAdvantageShareTableWorld(t *testing.T) {
	w, sd := []float64{2, 0.5}, []float64{0.3, 2}
	for _, alg := range []sim.Algorithm{sim.AlgorithmExpected, sim.AlgorithmGRPO} {
		for _, agg := range reward.Aggregations {
			cfg := tinyWorld(2, 3, 0.5)
			cfg.Train.Steps, cfg.Train.Algorithm, cfg.Train.GroupSize, cfg.Train.Aggregation = 3, alg, 64, agg
			for i, name := range []string{"s0", "s1"} {
				cfg.Signals[name] = reward.Spec{Kind: reward.KindTable, Weight: w[i], NoiseSD: sd[i],
					Table: map[string][]float64{"ctx_a": {1, 1, 1}, "ctx_b": {1, 1, 1}}}
			}
			res := run(t, cfg)
			num := []float64{w[0] * w[0], w[1] * w[1]}
			if agg != reward.AggNormalizeThenSum {
				num[0] *= sd[0] * sd[0]
				num[1] *= sd[1] * sd[1]
			}
			tol := 1e-3 // Epsilon's effect on normalize_then_sum
			if alg == sim.AlgorithmGRPO {
				tol = 0.05 // 64 prompts x 64 rollouts a step
			}
			for i, name := range []string{"s0", "s1"} {
				want := num[i] / (num[0] + num[1])
				for step := range 3 {
					if got := res.Value(step, "advantage_share/"+name); math.Abs(got-want) > tol {
						t.Errorf("%s/%s step %d: advantage_share/%s = %.5f, closed form %.5f", alg, agg, step, name, got, want)
					}
				}
			}
		}
	}
}
