package sim

import "github.com/rewardmix/rewardmix/sim/internal/vmath"

// batch4 holds expectedBatch4's arguments. The assembly reads its fields
// at the offsets go_asm.h gives (a slice's first word is its data pointer).
type batch4 struct {
	probs, logits, mems []float64 // per prompt: 4, 4 and 1 values
	k, cell             []int     // per prompt: cell*len(segments)+segment, and cell
	n                   int       // prompts
	rew0, slope         []float64 // world.rew0Flat, slopeFlat: [k][signal][4]
	cellSyc             []float64 // world.sycFlat: [cell][4]
	weights             []float64 // [signal]
	S                   int       // signals
	cellCoef            []float64 // [signal, then KL][cell][4]
	C                   int       // cells
	memCoef             []float64 // [signal, then KL][4]
	ref                 []float64 // log pi_ref, 4
	memOK               int       // 1 if the policy has a memory block
	syc                 []float64 // out, per prompt: P(sycophantic)
}

// newBatch4 sets up the arguments of a batch of nb prompts for a world
// with four responses; nil for any other.
func newBatch4(w *world, nb int, cellCoef, memCoef []float64) *batch4 {
	if len(w.responses) != 4 {
		return nil
	}
	b := &batch4{
		mems: make([]float64, nb), k: make([]int, nb), cell: make([]int, nb), syc: make([]float64, nb),
		rew0: w.rew0Flat, slope: w.slopeFlat, cellSyc: w.sycFlat,
		cellCoef: cellCoef, memCoef: memCoef,
		S: len(w.sigs), C: len(w.cellProb), n: nb,
	}
	if w.memDim > 0 {
		b.memOK = 1
	} else {
		b.memCoef = make([]float64, 4) // never written
	}
	return b
}

// expectedBatch4 is stepExpected's per-prompt work for a sampled batch
// (weight 1 per prompt) when there are four responses and the aggregation
// is none: expectedPrompt and addRewardCoefNone for one four-wide vector
// per prompt, with every sum over responses taken as (x0 + x2) + (x1 + x3)
// (sum4). With AVX2 and FMA it runs in assembly, elsewhere in
// expected4Go, with the same bits.
func (tr *trainer) expectedBatch4() {
	b, w := tr.batch4, tr.w
	b.probs, b.logits, b.weights, b.ref = tr.batchProbs, tr.batchLogits, tr.weights, tr.logRef
	for n := range tr.batch {
		it := &tr.batch[n]
		b.mems[n], b.cell[n] = it.mem, it.cell
		b.k[n] = it.cell*len(w.segments) + w.userSeg[it.user]
	}
	if vmath.Accelerated() {
		expected4AVX2(b)
	} else {
		expected4Go(b)
	}
	for n := range tr.batch {
		tr.batch[n].syc = b.syc[n]
	}
}

// expected4Go is expected4AVX2 in Go. Products that feed a sum are
// converted explicitly so that no compiler fuses them (the assembly does
// not).
func expected4Go(b *batch4) {
	S, C := b.S, b.C
	ref := (*[4]float64)(b.ref)
	for n := 0; n < b.n; n++ {
		p := (*[4]float64)(b.probs[4*n:])
		l := (*[4]float64)(b.logits[4*n:])
		m := b.mems[n]
		mem := b.memOK != 0 && m != 0
		k, cell := b.k[n], b.cell[n]
		sy := (*[4]float64)(b.cellSyc[4*cell:])
		b.syc[n] = sum4(float64(p[0]*sy[0]), float64(p[1]*sy[1]), float64(p[2]*sy[2]), float64(p[3]*sy[3]))
		for i, wi := range b.weights[:S] {
			if wi == 0 {
				continue
			}
			b0, bs := (*[4]float64)(b.rew0[(k*S+i)*4:]), (*[4]float64)(b.slope[(k*S+i)*4:])
			var r [4]float64
			for a := range r {
				r[a] = b0[a] + float64(m*bs[a]) // rewards are affine in memory
			}
			mean := sum4(float64(p[0]*r[0]), float64(p[1]*r[1]), float64(p[2]*r[2]), float64(p[3]*r[3]))
			cs := (*[4]float64)(b.cellCoef[(i*C+cell)*4:])
			ms := (*[4]float64)(b.memCoef[i*4*b.memOK:])
			for a := range r {
				c := p[a] * (wi * (r[a] - mean))
				cs[a] += c
				if mem {
					ms[a] += float64(m * c)
				}
			}
		}
		// The KL term, as in expectedPrompt.
		var v [4]float64
		for a := range v {
			v[a] = l[a] - ref[a]
		}
		kl := sum4(float64(p[0]*v[0]), float64(p[1]*v[1]), float64(p[2]*v[2]), float64(p[3]*v[3]))
		cs := (*[4]float64)(b.cellCoef[(S*C+cell)*4:])
		ms := (*[4]float64)(b.memCoef[S*4*b.memOK:])
		for a := range v {
			c := p[a] * (v[a] - kl)
			cs[a] += c
			if mem {
				ms[a] += float64(m * c)
			}
		}
	}
}

// sum4 is x0 + x1 + x2 + x3 in the order of a four-wide vector's
// horizontal sum.
func sum4(x0, x1, x2, x3 float64) float64 { return (x0 + x2) + (x1 + x3) }
