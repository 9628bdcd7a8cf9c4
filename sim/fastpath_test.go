package sim_test

import (
	"testing"

	"github.com/rewardmix/rewardmix/sim"
)

// The tests of fast paths that are not stated in vmath: each pins one to
// the plain computation it replaces.

// TestSampleSituation: the bucketed inverse CDF that draws prompts equals
// a scan of the whole CDF, with cues that mislead (twelve situations) and
// without (six), and with situations of probability 0 left out.
func TestSampleSituation(t *testing.T) {
	for _, tc := range []struct {
		name      string
		exactCue  bool
		noneWrong bool
	}{{"preset", false, false}, {"exact cue", true, false}, {"no wrong opinion", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := preset(t, "incident")
			for n, x := range cfg.Contexts {
				if tc.exactCue {
					x.CueAccuracy = 1
				}
				if tc.noneWrong && n == "opinion" {
					x.Wrong = 0
				}
				cfg.Contexts[n] = x
			}
			tr, err := sim.NewTrainerForTest(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tr.CheckSampleSituationForTest(t)
		})
	}
}
