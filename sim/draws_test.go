package sim

import (
	"math/rand/v2"
	"testing"
)

// TestDraws: draws gives the numbers rand.Rand gives over the same PCG,
// draw for draw, also when a Rand over its PCG reads the stream in turns
// with it: floats, integers below powers of two, and small and huge
// bounds (whose rejections are frequent).
func TestDraws(t *testing.T) {
	bounds := []int{1, 2, 3, 500, 1 << 20, 1<<62 + 1, 3 << 61, 1<<63 - 1}
	for seed := uint64(0); seed < 20; seed++ {
		want := rand.New(rand.NewPCG(seed, 7))
		d := newDraws(seed, 7)
		shared := rand.New(d.src)
		for i := 0; i < 20000; i++ {
			n := bounds[i%len(bounds)]
			byRand := i%5 == 4 // the shared Rand's turn
			if i%2 == 0 {
				w, got := want.Float64(), 0.0
				if byRand {
					got = shared.Float64()
				} else {
					got = d.Float64()
				}
				if got != w {
					t.Fatalf("seed %d, draw %d (by Rand: %v): Float64 %v, want %v", seed, i, byRand, got, w)
				}
				continue
			}
			w, got := want.IntN(n), 0
			if byRand {
				got = shared.IntN(n)
			} else {
				got = d.IntN(n)
			}
			if got != w {
				t.Fatalf("seed %d, draw %d (by Rand: %v): IntN(%d) %d, want %d", seed, i, byRand, n, got, w)
			}
		}
	}
}

// TestSkip2: skipping two numbers leaves the stream where two draws leave
// it, at every point of it (the next numbers agree).
func TestSkip2(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		a, b := newDraws(seed, 3), newDraws(seed, 3)
		for i := 0; i < 1000; i++ {
			a.src.Uint64()
			a.src.Uint64()
			b.Skip2()
			if x, y := a.src.Uint64(), b.src.Uint64(); x != y || *a.src != *b.src {
				t.Fatalf("seed %d, skip %d: next number %d after two draws, %d after a skip", seed, i, x, y)
			}
		}
	}
}
