package configs_test

import (
	"testing"

	"github.com/rewardmix/rewardmix/configs"
)

// TestReviewKeysKeepTrainingSeed: runs that differ only in review or
// deployment settings share their seed (so they judge the same trained
// candidate); a training key changes it.
func TestReviewKeysKeepTrainingSeed(t *testing.T) {
	src := `extends = "incident"
[sweep]
[[sweep.axis]]
key = "review.vibe.testers"
values = [1, 5]
[[sweep.axis]]
key = "deployment.lag_hours"
values = [12.0, 48.0]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [1.0, 2.0]
`
	s, err := configs.LoadSweep("seed.toml", []byte(src), nil, configs.DefaultMaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string]map[uint64]bool{} // thumbs weight -> seeds
	for _, r := range s.Runs() {
		w := configs.FormatParam(r.Params[2])
		if seeds[w] == nil {
			seeds[w] = map[uint64]bool{}
		}
		seeds[w][r.Seed] = true
	}
	if len(seeds["1.0"]) != 1 || len(seeds["2.0"]) != 1 {
		t.Errorf("runs differing only in review/deployment keys got different seeds: %v", seeds)
	}
	for a := range seeds["1.0"] {
		if seeds["2.0"][a] {
			t.Error("a training key (signals.thumbs.weight) did not change the seed")
		}
	}
}
