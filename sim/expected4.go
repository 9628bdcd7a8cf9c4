package sim

import "github.com/rewardmix/rewardmix/sim/internal/vmath"

// batch4 holds expectedBatch4's arguments. Its first fields are read by
// the assembly at fixed offsets (all eight bytes wide): pointers to the
// first elements of the slices that follow them, which the Go path reads.
type batch4 struct {
	probs, logits, mems *float64 // per prompt: 4, 4 and 1 values
	k, cell             *int     // per prompt: cell*len(segments)+segment, and cell
	n                   int      // prompts
	rew0, slope         *float64 // world.rew0Flat, slopeFlat: [k][signal][4]
	cellSyc             *float64 // world.sycFlat: [cell][4]
	weights             *float64 // [signal]
	S                   int      // signals
	cellCoef            *float64 // [signal, then KL][cell][4]
	C                   int      // cells
	memCoef             *float64 // [signal, then KL][4]
	ref                 *float64 // log pi_ref, 4
	memOK               int      // 1 if the policy has a memory block
	syc                 *float64 // out, per prompt: P(sycophantic)

	probsS, logitsS, memsS, weightsS []float64
	kS, cellS                        []int
	rew0S, slopeS, cellSycS, refS    []float64
	cellCoefS, memCoefS, sycS        []float64
}

// newBatch4 sets up the arguments of a batch of nb prompts for a world
// with four responses; nil for any other.
func newBatch4(w *world, nb int, cellCoef, memCoef []float64) *batch4 {
	if len(w.responses) != 4 {
		return nil
	}
	b := &batch4{
		memsS: make([]float64, nb), kS: make([]int, nb), cellS: make([]int, nb), sycS: make([]float64, nb),
		rew0S: w.rew0Flat, slopeS: w.slopeFlat, cellSycS: w.sycFlat,
		cellCoefS: cellCoef, memCoefS: memCoef,
		S: len(w.sigs), C: len(w.cellProb), n: nb,
	}
	if w.memDim > 0 {
		b.memOK = 1
	} else {
		b.memCoefS = make([]float64, 4) // never written
	}
	b.mems, b.k, b.cell, b.syc = &b.memsS[0], &b.kS[0], &b.cellS[0], &b.sycS[0]
	b.rew0, b.slope, b.cellSyc = &b.rew0S[0], &b.slopeS[0], &b.cellSycS[0]
	b.cellCoef, b.memCoef = &b.cellCoefS[0], &b.memCoefS[0]
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
	b.probsS, b.logitsS, b.weightsS, b.refS = tr.batchProbs, tr.batchLogits, tr.weights, tr.logRef
	b.probs, b.logits, b.weights, b.ref = &b.probsS[0], &b.logitsS[0], &b.weightsS[0], &b.refS[0]
	for n := range tr.batch {
		it := &tr.batch[n]
		b.memsS[n], b.cellS[n] = it.mem, it.cell
		b.kS[n] = it.cell*len(w.segments) + w.userSeg[it.user]
	}
	if vmath.Accelerated() {
		expected4AVX2(b)
	} else {
		expected4Go(b)
	}
	for n := range tr.batch {
		tr.batch[n].syc = b.sycS[n]
	}
}

// expected4Go is expected4AVX2 in Go. Products that feed a sum are
// converted explicitly so that no compiler fuses them (the assembly does
// not).
func expected4Go(b *batch4) {
	S, C := b.S, b.C
	ref := (*[4]float64)(b.refS)
	for n := 0; n < b.n; n++ {
		p := (*[4]float64)(b.probsS[4*n:])
		l := (*[4]float64)(b.logitsS[4*n:])
		m := b.memsS[n]
		mem := b.memOK != 0 && m != 0
		k, cell := b.kS[n], b.cellS[n]
		sy := (*[4]float64)(b.cellSycS[4*cell:])
		b.sycS[n] = sum4(float64(p[0]*sy[0]), float64(p[1]*sy[1]), float64(p[2]*sy[2]), float64(p[3]*sy[3]))
		for i, wi := range b.weightsS[:S] {
			if wi == 0 {
				continue
			}
			b0, bs := (*[4]float64)(b.rew0S[(k*S+i)*4:]), (*[4]float64)(b.slopeS[(k*S+i)*4:])
			var r [4]float64
			for a := range r {
				r[a] = b0[a] + float64(m*bs[a]) // rewards are affine in memory
			}
			mean := sum4(float64(p[0]*r[0]), float64(p[1]*r[1]), float64(p[2]*r[2]), float64(p[3]*r[3]))
			cs := (*[4]float64)(b.cellCoefS[(i*C+cell)*4:])
			ms := (*[4]float64)(b.memCoefS[i*4*b.memOK:])
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
		cs := (*[4]float64)(b.cellCoefS[(S*C+cell)*4:])
		ms := (*[4]float64)(b.memCoefS[S*4*b.memOK:])
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
