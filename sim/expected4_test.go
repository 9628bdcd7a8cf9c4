package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/rewardmix/rewardmix/sim/internal/vmath"
)

// randomBatch4 is a batch of n prompts over K reward rows, C cells and S
// signals (one of weight zero), with some memories zero.
func randomBatch4(n, K, C, S int, memOK bool, seed uint64) *batch4 {
	rng := rand.New(rand.NewPCG(seed, 1))
	fill := func(k int, f func() float64) []float64 {
		x := make([]float64, k)
		for i := range x {
			x[i] = f()
		}
		return x
	}
	b := &batch4{n: n, S: S, C: C,
		probs: make([]float64, 4*n), logits: fill(4*n, rng.NormFloat64),
		mems: fill(n, rng.Float64), k: make([]int, n), cell: make([]int, n), syc: make([]float64, n),
		rew0: fill(K*S*4, rng.NormFloat64), slope: fill(K*S*4, rng.NormFloat64), cellSyc: fill(C*4, rng.Float64),
		weights: fill(S, rng.Float64), ref: fill(4, func() float64 { return -rng.Float64() }),
		cellCoef: fill((S+1)*C*4, rng.NormFloat64), memCoef: fill((S+1)*4, rng.NormFloat64),
	}
	b.weights[S/2] = 0
	for i := 0; i < n; i++ {
		b.k[i], b.cell[i] = rng.IntN(K), rng.IntN(C)
		if i%5 == 0 {
			b.mems[i] = 0
		}
		p := b.probs[4*i : 4*i+4]
		sum := 0.0
		for a := range p {
			p[a] = rng.Float64()
			sum += p[a]
		}
		for a := range p {
			p[a] /= sum
		}
	}
	if memOK {
		b.memOK = 1
	}
	return b
}

// TestExpected4AssemblyMatchesGo: where the CPU has AVX2 and FMA, the
// assembly and expected4Go give the same bits.
func TestExpected4AssemblyMatchesGo(t *testing.T) {
	if !vmath.Accelerated() {
		t.Skip("no AVX2 and FMA on this CPU: only the Go path runs here")
	}
	bits := func(x []float64) []uint64 {
		out := make([]uint64, len(x))
		for i, v := range x {
			out[i] = math.Float64bits(v)
		}
		return out
	}
	for _, tc := range []struct {
		n, K, C, S int
		memOK      bool
	}{{64, 18, 6, 4, true}, {64, 18, 6, 4, false}, {1, 2, 2, 1, true}, {300, 40, 10, 6, true}} {
		a := randomBatch4(tc.n, tc.K, tc.C, tc.S, tc.memOK, uint64(tc.n))
		g := randomBatch4(tc.n, tc.K, tc.C, tc.S, tc.memOK, uint64(tc.n))
		expected4AVX2(a)
		expected4Go(g)
		if !slices.Equal(bits(a.cellCoef), bits(g.cellCoef)) || !slices.Equal(bits(a.memCoef), bits(g.memCoef)) ||
			!slices.Equal(bits(a.syc), bits(g.syc)) {
			t.Errorf("%+v: assembly and Go differ", tc)
		}
		if tc.memOK {
			continue
		}
		if h := randomBatch4(tc.n, tc.K, tc.C, tc.S, tc.memOK, uint64(tc.n)); !slices.Equal(h.memCoef, g.memCoef) {
			t.Errorf("%+v: memory sums written without a memory block", tc)
		}
	}
}

// CheckExpectedBatch4ForTest: one expected step through expectedBatch4
// gives the gradient of the general per-prompt path.
func (tr *trainer) CheckExpectedBatch4ForTest(t *testing.T, general *trainer) {
	if tr.batch4 == nil {
		t.Fatal("no batch4: the world must have four responses")
	}
	general.batch4 = nil
	for _, step := range []int{10, tr.cfg.Train.UpdateStep + 5} {
		a, b := make([]float64, len(tr.idx.names)), make([]float64, len(tr.idx.names))
		tr.step(step, a, false)
		general.step(step, b, false)
		for j := range tr.total {
			if d := math.Abs(tr.total[j] - general.total[j]); d > 1e-13 {
				t.Errorf("step %d: gradient %d: %v, general path %v", step, j, tr.total[j], general.total[j])
			}
		}
		for n := range tr.batch {
			if d := math.Abs(tr.batch[n].syc - general.batch[n].syc); d > 1e-15 {
				t.Errorf("step %d prompt %d: P(syc) %v, general path %v", step, n, tr.batch[n].syc, general.batch[n].syc)
			}
		}
	}
}
