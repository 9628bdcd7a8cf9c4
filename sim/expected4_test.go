package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/rewardmix/rewardmix/sim/internal/vmath"
)

// TestBatch4Offsets: the field offsets that expected4_amd64.s reads.
func TestBatch4Offsets(t *testing.T) {
	var b batch4
	got := []uintptr{unsafe.Offsetof(b.probs), unsafe.Offsetof(b.logits), unsafe.Offsetof(b.mems),
		unsafe.Offsetof(b.k), unsafe.Offsetof(b.cell), unsafe.Offsetof(b.n), unsafe.Offsetof(b.rew0),
		unsafe.Offsetof(b.slope), unsafe.Offsetof(b.cellSyc), unsafe.Offsetof(b.weights), unsafe.Offsetof(b.S),
		unsafe.Offsetof(b.cellCoef), unsafe.Offsetof(b.C), unsafe.Offsetof(b.memCoef), unsafe.Offsetof(b.ref),
		unsafe.Offsetof(b.memOK), unsafe.Offsetof(b.syc)}
	for i, off := range got {
		if off != uintptr(8*i) {
			t.Errorf("field %d at offset %d, the assembly reads %d", i, off, 8*i)
		}
	}
}

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
		probsS: make([]float64, 4*n), logitsS: fill(4*n, rng.NormFloat64),
		memsS: fill(n, rng.Float64), kS: make([]int, n), cellS: make([]int, n), sycS: make([]float64, n),
		rew0S: fill(K*S*4, rng.NormFloat64), slopeS: fill(K*S*4, rng.NormFloat64), cellSycS: fill(C*4, rng.Float64),
		weightsS: fill(S, rng.Float64), refS: fill(4, func() float64 { return -rng.Float64() }),
		cellCoefS: fill((S+1)*C*4, rng.NormFloat64), memCoefS: fill((S+1)*4, rng.NormFloat64),
	}
	b.weightsS[S/2] = 0
	for i := 0; i < n; i++ {
		b.kS[i], b.cellS[i] = rng.IntN(K), rng.IntN(C)
		if i%5 == 0 {
			b.memsS[i] = 0
		}
		p := b.probsS[4*i : 4*i+4]
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
	b.probs, b.logits, b.mems, b.k, b.cell, b.syc = &b.probsS[0], &b.logitsS[0], &b.memsS[0], &b.kS[0], &b.cellS[0], &b.sycS[0]
	b.rew0, b.slope, b.cellSyc, b.weights, b.ref = &b.rew0S[0], &b.slopeS[0], &b.cellSycS[0], &b.weightsS[0], &b.refS[0]
	b.cellCoef, b.memCoef = &b.cellCoefS[0], &b.memCoefS[0]
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
		if !slices.Equal(bits(a.cellCoefS), bits(g.cellCoefS)) || !slices.Equal(bits(a.memCoefS), bits(g.memCoefS)) ||
			!slices.Equal(bits(a.sycS), bits(g.sycS)) {
			t.Errorf("%+v: assembly and Go differ", tc)
		}
		if tc.memOK {
			continue
		}
		if h := randomBatch4(tc.n, tc.K, tc.C, tc.S, tc.memOK, uint64(tc.n)); !slices.Equal(h.memCoefS, g.memCoefS) {
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
