package sim_test

import (
	"slices"
	"testing"

	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// TestTrainingLeavesUsersAlone: no rollout moves a user's remembered
// stance; only deployments do, at their steps. Every trainer, with the
// thumbs from a reward model and drawn directly.
func TestTrainingLeavesUsersAlone(t *testing.T) {
	for _, alg := range sim.Algorithms {
		for _, src := range reward.ThumbsSources {
			cfg := preset(t, "incident")
			cfg.Train.Algorithm = alg
			cfg.Feedback.Rounds = 2 // deployments at 150 and 225
			th := cfg.Signals["thumbs"]
			th.Source = src
			cfg.Signals["thumbs"] = th
			tr, err := sim.NewTrainerForTest(cfg)
			if err != nil {
				t.Fatal(err)
			}
			row := make([]float64, tr.NumMetrics())
			var before []float64
			for step := 0; step < 230; step++ {
				switch step {
				case 151:
					before = slices.Clone(tr.Memory())
					if slices.Max(before) == 0 {
						t.Fatalf("%s, %s: the deployment at 150 moved no stance", alg, src)
					}
				case 225:
					if !slices.Equal(tr.Memory(), before) {
						t.Fatalf("%s, %s: training between deployments moved the users' stances", alg, src)
					}
				case 226:
					if slices.Equal(tr.Memory(), before) {
						t.Fatalf("%s, %s: the deployment at 225 moved no stance", alg, src)
					}
				}
				tr.StepForTest(step, row)
			}
		}
	}
}

// TestRewardModelLearnsThePopulation: with a large log from the reference
// policy (which serves every response), the reward model ranks the
// responses of each cell as the population's thumbs do, and predicts
// held-out thumbs better than the base rate.
func TestRewardModelLearnsThePopulation(t *testing.T) {
	cfg := preset(t, "incident")
	cfg.Memory.Enabled = false
	delete(cfg.Signals, "memory")
	cfg.Feedback.LogSize = 1_000_000
	cfg.Feedback.LogPolicy = sim.LogReference
	cfg.Train.Steps, cfg.Train.UpdateStep = 152, 150
	res := run(t, cfg)
	if a := final(res, "rm_agreement/thumbs"); a < 0.95 {
		t.Errorf("a reward model fitted on a million conversations ranks %.3f of response pairs as the population does; want at least 0.95", a)
	}
	small := cfg.Clone()
	small.Feedback.LogSize = 2000
	if a, b := final(run(t, small), "rm_agreement/thumbs"), final(res, "rm_agreement/thumbs"); !(a < b) {
		t.Errorf("agreement from 2,000 conversations %.3f, not below %.3f from a million", a, b)
	}
	if acc := final(res, "rm_accuracy/thumbs"); !(acc > 0.6) {
		t.Errorf("held-out pairwise accuracy %.3f, want well above chance (0.5)", acc)
	}
}
