package reward_test

import (
	"fmt"

	"github.com/rewardmix/rewardmix/reward"
)

// Dilution (mechanism 1): with weights renormalised over the active
// signals, a signal that joins at step 150 shrinks every other signal's
// effective weight, the primary's included.
func ExampleEffectiveWeights() {
	specs := []reward.Spec{
		{Kind: reward.KindCorrectness, Weight: 1},
		{Kind: reward.KindSpec, Weight: 1},
		{Kind: reward.KindThumbs, Weight: 2, StartStep: 150},
		{Kind: reward.KindMemory, Weight: 0.5, StartStep: 150},
	}
	w := make([]float64, len(specs))
	for _, step := range []int{149, 150} {
		reward.EffectiveWeights(w, specs, step, reward.WeightsSumToOne)
		fmt.Printf("step %d: correctness %.3f spec %.3f thumbs %.3f memory %.3f\n", step, w[0], w[1], w[2], w[3])
	}
	// Output:
	// step 149: correctness 0.500 spec 0.500 thumbs 0.000 memory 0.000
	// step 150: correctness 0.222 spec 0.222 thumbs 0.444 memory 0.111
}
