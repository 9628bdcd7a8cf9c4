package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// adamCoefs are the simulator's Adam settings at step t.
func adamCoefs(t int) *AdamCoefs {
	const b1, b2 = 0.9, 0.999
	return &AdamCoefs{B1: b1, OneMinusB1: 1 - b1, B2: b2, OneMinusB2: 1 - b2, LR: 0.05,
		C1: 1 - math.Pow(b1, float64(t)), C2: 1 - math.Pow(b2, float64(t)), Eps: 1e-8}
}

// TestAdamStep: every path gives the Go twin's bits, on every length to 37
// (vectors and tails), special values included; and Adam's first step
// from zero moments is LR g / (|g| + Eps) (m/C1 = g and sqrt(v/C2) = |g|,
// to rounding): LR in the gradient's sign, less where |g| is near Eps.
func TestAdamStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	special := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1e-300, -1e300, 5e-324}
	for n := 0; n <= 37; n++ {
		x, m, v, g := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for j := range g {
			x[j], m[j], v[j], g[j] = rng.NormFloat64(), rng.NormFloat64(), rng.ExpFloat64(), rng.NormFloat64()
			if rng.IntN(6) == 0 {
				g[j] = special[rng.IntN(len(special))]
			}
		}
		var ref [3][]float64
		for i, path := range Paths() {
			was := SetPathForTest(path)
			xs, ms, vs := append([]float64(nil), x...), append([]float64(nil), m...), append([]float64(nil), v...)
			AdamStep(xs, ms, vs, g, adamCoefs(7))
			SetPathForTest(was)
			if i == 0 {
				ref = [3][]float64{xs, ms, vs}
				continue
			}
			for k, got := range [3][]float64{xs, ms, vs} {
				if j := sameBits(got, ref[k]); j >= 0 {
					t.Fatalf("n=%d %s: %s[%d] = %v, Go %v", n, path, "xmv"[k:k+1], j, got[j], ref[k][j])
				}
			}
		}
	}

	g := []float64{3, -0.5, 1e-3, -7e4, 2, 2, 2, 2, -1}
	x, m, v := make([]float64, len(g)), make([]float64, len(g)), make([]float64, len(g))
	k := adamCoefs(1)
	AdamStep(x, m, v, g, k)
	for j, gj := range g {
		if want := k.LR * gj / (math.Abs(gj) + k.Eps); math.Abs(x[j]-want) > 1e-12*k.LR {
			t.Errorf("first step along %v: %v, want %v", gj, x[j], want)
		}
	}
}
