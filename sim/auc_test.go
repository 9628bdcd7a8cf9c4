package sim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rewardmix/rewardmix/reward"
)

// TestHeldOutAccuracy: the rank-sum form of the pairwise accuracy equals
// counting every (up, down) pair, with ties, on thumbs whose scores repeat.
func TestHeldOutAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	m := &reward.ThumbsModel{Cells: 3, Actions: 2, Coef: []float64{0.3, -1, 0.3, 2, 0, -1}}
	for trial := 0; trial < 20; trial++ {
		var held []loggedThumb
		for i := 0; i < 1+rng.IntN(60); i++ {
			held = append(held, loggedThumb{cell: rng.IntN(3), action: rng.IntN(2), up: rng.Float64() < 0.6})
		}
		pairs, right := 0.0, 0.0
		for _, u := range held {
			for _, d := range held {
				if !u.up || d.up {
					continue
				}
				pairs++
				su, sd := m.Score(u.cell, u.action, 0), m.Score(d.cell, d.action, 0)
				switch {
				case su > sd:
					right++
				case su == sd:
					right += 0.5
				}
			}
		}
		want := 0.0
		if pairs > 0 {
			want = right / pairs
		}
		if got := heldOutAccuracy(m, held); math.Abs(got-want) > 1e-12 {
			t.Fatalf("trial %d: %v, counted %v", trial, got, want)
		}
	}
}
