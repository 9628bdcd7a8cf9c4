package sim

import (
	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/reward"
)

// world is a validated Config compiled into flat arrays. A cell is a context
// type together with whether the user's stance is wrong: cell = 2*context +
// wrong. The policy observes the cell (the model knows whether the user is
// right) and, when memory is enabled, the user's remembered stance.
type world struct {
	cfg *Config

	contexts, segments, responses, signals []string

	cellProb  []float64 // P(cell)
	cellCDF   []float64
	cellCtx   []int // context index of a cell
	cellWrong []bool

	// outcome[cell][segment][response] with Memory left at 0.
	outcome [][][]reward.Outcome
	harm    [][]float64 // [cell][segment]: long-term cost of a sycophantic response
	// Expected reward of each signal at memory 0, and its slope in the
	// remembered stance (rewards are affine in it), by [cell][segment]
	// [signal][response] (see signalRewards); P(sycophantic) by
	// [cell][response] (the same for every segment).
	rew0Flat, slopeFlat, sycFlat []float64

	userSeg    []int     // segment of each user
	segUsers   []int     // number of users per segment
	disclosure []float64 // per segment

	specs []reward.Spec
	sigs  []*reward.Signal

	features policy.Features
	memDim   int
}

// segmentCounts splits n users over shares by largest remainder, so that the
// counts sum to n and ties break by segment order.
func segmentCounts(shares []float64, n int) []int {
	counts := make([]int, len(shares))
	rem := make([]float64, len(shares))
	total := 0
	for i, s := range shares {
		q := s * float64(n)
		counts[i] = int(q)
		rem[i] = q - float64(counts[i])
		total += counts[i]
	}
	for total < n {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		counts[best]++
		rem[best] = -1
		total++
	}
	return counts
}

func newWorld(c *Config) (*world, error) {
	w := &world{cfg: c,
		contexts:  Names(c.Contexts),
		segments:  Names(c.Segments),
		responses: Names(c.Responses),
		signals:   Names(c.Signals),
	}
	A := len(w.responses)
	S := len(w.segments)

	shares := make([]float64, S)
	for s, n := range w.segments {
		shares[s] = c.Segments[n].Share
		w.disclosure = append(w.disclosure, c.Segments[n].Disclosure)
	}
	w.segUsers = segmentCounts(shares, c.Population.Users)
	for s, k := range w.segUsers {
		for i := 0; i < k; i++ {
			w.userSeg = append(w.userSeg, s)
		}
	}
	meanFeedback := 0.0
	for _, s := range w.userSeg {
		meanFeedback += c.Segments[w.segments[s]].FeedbackRate
	}
	meanFeedback /= float64(len(w.userSeg))

	cum := 0.0
	for k, n := range w.contexts {
		x := c.Contexts[n]
		for wrong := 0; wrong < 2; wrong++ {
			p := x.Share * (1 - x.Wrong)
			if wrong == 1 {
				p = x.Share * x.Wrong
			}
			w.cellProb = append(w.cellProb, p)
			cum += p
			w.cellCDF = append(w.cellCDF, cum)
			w.cellCtx = append(w.cellCtx, k)
			w.cellWrong = append(w.cellWrong, wrong == 1)
		}
	}
	C := len(w.cellProb)

	w.outcome = make([][][]reward.Outcome, C)
	w.harm = make([][]float64, C)
	for cell := 0; cell < C; cell++ {
		x := c.Contexts[w.contexts[w.cellCtx[cell]]]
		w.outcome[cell] = make([][]reward.Outcome, S)
		w.harm[cell] = make([]float64, S)
		for s, sn := range w.segments {
			seg := c.Segments[sn]
			w.harm[cell][s] = x.Harm * seg.HarmMultiplier
			row := make([]reward.Outcome, A)
			for a, rn := range w.responses {
				row[a] = outcomeOf(w.cellCtx[cell], a, x, w.cellWrong[cell], c.Responses[rn], seg)
			}
			w.outcome[cell][s] = row
		}
	}

	traits := make([][]float64, A)
	prior := make([]float64, A)
	for a, rn := range w.responses {
		r := c.Responses[rn]
		traits[a] = []float64{r.Agree, r.Candor, r.Flatter, r.Warmth}
		prior[a] = r.Prior
	}
	if c.Memory.Enabled {
		w.memDim = 1
	}
	w.features = policy.Features{
		Cells:     C,
		Actions:   A,
		Tabular:   c.Policy.Features != FeaturesTraits,
		MemoryDim: w.memDim,
		Prior:     prior,
	}
	if c.Policy.Features != FeaturesTabular {
		w.features.Traits = traits
	}

	for _, n := range w.signals {
		spec := c.Signals[n]
		var table [][]float64
		if spec.Kind == reward.KindTable {
			table = make([][]float64, len(w.contexts))
			for k, cn := range w.contexts {
				table[k] = make([]float64, A)
				copy(table[k], spec.Table[cn]) // a context left out of the table pays 0
			}
		}
		sig, err := reward.New(n, spec, table, meanFeedback)
		if err != nil {
			return nil, err
		}
		w.specs = append(w.specs, spec)
		w.sigs = append(w.sigs, sig)
	}
	nS := len(w.sigs) * A
	w.rew0Flat, w.slopeFlat, w.sycFlat = make([]float64, C*S*nS), make([]float64, C*S*nS), make([]float64, C*A)
	for c := 0; c < C; c++ {
		for s := 0; s < S; s++ {
			r0, sl := w.signalRewards(c, s)
			for a := 0; a < A; a++ {
				o0, o1 := w.outcome[c][s][a], w.outcome[c][s][a]
				o1.Memory = 1
				for i, sig := range w.sigs {
					e0, e1 := sig.Expected(&o0), sig.Expected(&o1)
					r0[i*A+a], sl[i*A+a] = e0, e1-e0
				}
			}
		}
		for a, o := range w.outcome[c][0] {
			w.sycFlat[c*A+a] = o.Sycophantic
		}
	}
	return w, nil
}

// signalRewards returns the expected rewards at memory 0 and their slopes
// in memory for a cell and segment, by signal then response.
func (w *world) signalRewards(cell, seg int) (r0, slope []float64) {
	nS := len(w.sigs) * len(w.responses)
	k := (cell*len(w.segments) + seg) * nS
	return w.rew0Flat[k : k+nS : k+nS], w.slopeFlat[k : k+nS : k+nS]
}

// outcomeOf derives what a response style does in a cell for a user segment.
//
//	endorse  = agree                       if the user is wrong
//	         = agree + (1-agree)*candor     if the user is right (a candid answer agrees with a correct stance)
//	correct  = (1-agree)*candor             if wrong, endorse if right
//	syc      = 1 - (1 - wrong*agree)*(1 - flatter)
//
// A response is sycophantic when it endorses a wrong stance or flatters: the
// Model Spec's "don't change a stance only to agree", and unearned praise.
func outcomeOf(ctx, resp int, x Context, wrong bool, r Response, seg Segment) reward.Outcome {
	var endorse, correct, wr float64
	if wrong {
		wr = 1
		endorse = r.Agree
		correct = (1 - r.Agree) * r.Candor
	} else {
		endorse = r.Agree + (1-r.Agree)*r.Candor
		correct = endorse
	}
	syc := 1 - (1-wr*r.Agree)*(1-r.Flatter)
	up := reward.Sigmoid(seg.ThumbsBias + seg.ThumbsAgree*endorse + seg.ThumbsFlatter*r.Flatter +
		seg.ThumbsWarmth*r.Warmth + seg.ThumbsCorrect*correct)
	return reward.Outcome{
		Context:      ctx,
		Response:     resp,
		Verifiable:   x.Verifiable,
		Correct:      correct,
		Sycophantic:  syc,
		Endorse:      endorse,
		FeedbackRate: seg.FeedbackRate,
		ThumbsUp:     up,
	}
}

// sampleCell draws a cell by inverse CDF from u in [0, 1).
func (w *world) sampleCell(u float64) int {
	u *= w.cellCDF[len(w.cellCDF)-1]
	// The first c with u < cdf[c] is the number of cdf values <= u (the
	// CDF does not decrease), counted without a branch to mispredict.
	c := 0
	for _, v := range w.cellCDF[:len(w.cellCDF)-1] {
		if u >= v {
			c++
		}
	}
	return c
}

// memoryTarget is where one interaction pulls a user's remembered stance.
func (w *world) memoryTarget(seg int, syc float64) float64 {
	t := w.disclosure[seg] + w.cfg.Memory.Reinforcement*syc
	if t > 1 {
		t = 1
	}
	return t
}

// gold returns the gold utility of an outcome and its three components.
func (w *world) gold(o *reward.Outcome, harm float64) (u, help, honest, well float64) {
	g := &w.cfg.Gold
	help = o.Correct
	honest = 1 - o.Sycophantic
	well = -harm * o.Sycophantic
	return g.Helpfulness*help + g.Honesty*honest + g.Wellbeing*well, help, honest, well
}
