package sim

import (
	"math"
	"math/bits"

	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/reward"
)

// world is a validated Config compiled into flat arrays.
//
// A prompt's situation is a context type, whether the user's stance is
// wrong (the truth, which outcomes and rewards depend on) and the cue the
// model reads off the prompt: whether the stance looks wrong, which matches
// the truth with the context's cue_accuracy. The policy sees only the cell,
// the context type and the cue (cell = 2*context + cue), and with memory
// on the user's remembered stance; never the truth. A truth is indexed the
// same way, 2*context + wrong. Only situations of positive probability are
// listed.
type world struct {
	cfg *Config

	contexts, segments, responses, signals []string

	cellProb []float64 // P(cell): what the policy sees
	// The situations: P, its CDF, the cell the policy sees and the truth.
	sitProb, sitCDF   []float64
	sitCell, sitTruth []int
	// sampleSituation's tables (see there): sitStart[j] is where its
	// search starts for a draw in bucket j of K = len(sitStart); it takes
	// sitSteps steps over sitThresh, the least draw of each situation
	// after the first.
	sitStart   []int32
	sitSteps   int
	sitThresh  []uint64
	truthCtx   []int  // context index of a truth
	truthWrong []bool // whether the user's stance is wrong

	// outcome[truth][segment][response] with Memory left at 0.
	outcome [][][]reward.Outcome
	harm    [][]float64 // [truth][segment]: long-term cost of a sycophantic response
	// Expected reward of each signal at memory 0, and its slope in the
	// remembered stance (rewards are affine in it), by [situation][segment]
	// [signal][response] (see signalRewards); P(sycophantic) by
	// [truth][response] (the same for every segment).
	rew0Flat, slopeFlat, sycFlat []float64
	// The variance of each signal's sampled reward around its expectation
	// at memory 0, and its coefficient in the square of the remembered
	// stance (a variance is v0 + m^2 v2 for every kind), laid out as
	// rew0Flat.
	var0Flat, var2Flat []float64
	cellSyc            []float64 // [cell][response]: P(sycophantic | what the model sees)
	terms              []term    // [situation][segment][response]: what evaluate weights by pi

	userSeg    []int     // segment of each user
	segUsers   []int     // number of users per segment
	disclosure []float64 // per segment
	feedback   []float64 // per segment: P(a thumb at all)

	specs []reward.Spec
	sigs  []*reward.Signal

	features policy.Features
	memDim   int
	// rewardsVersion counts the changes of rew0Flat and slopeFlat, so that
	// a copy of them knows when it is stale.
	rewardsVersion int
}

// term holds a response's per-prompt values in one situation for one
// segment, as the evaluation sums them: P(sycophantic), the gold utility
// and its components, the feedback rate and P(up | a thumb).
type term struct {
	syc, gold, help, honest, well, feedback, up float64
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
		w.feedback = append(w.feedback, c.Segments[n].FeedbackRate)
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

	w.cellProb = make([]float64, 2*len(w.contexts))
	cum := 0.0
	for k, n := range w.contexts {
		x := c.Contexts[n]
		for wrong := 0; wrong < 2; wrong++ {
			w.truthCtx = append(w.truthCtx, k)
			w.truthWrong = append(w.truthWrong, wrong == 1)
		}
		for _, st := range situationsOf(k, x.Share, x.Wrong, x.CueAccuracy) {
			w.sitProb = append(w.sitProb, st.prob)
			cum += st.prob
			w.sitCDF = append(w.sitCDF, cum)
			w.sitCell = append(w.sitCell, st.cell)
			w.sitTruth = append(w.sitTruth, st.truth)
			w.cellProb[st.cell] += st.prob
		}
	}
	w.sitThresh = situationThresholds(w.sitCDF)
	w.sitStart, w.sitSteps = situationBuckets(w.sitThresh)
	C := len(w.cellProb) // cells, and truths

	w.outcome = make([][][]reward.Outcome, C)
	w.harm = make([][]float64, C)
	for truth := 0; truth < C; truth++ {
		x := c.Contexts[w.contexts[w.truthCtx[truth]]]
		w.outcome[truth] = make([][]reward.Outcome, S)
		w.harm[truth] = make([]float64, S)
		for s, sn := range w.segments {
			seg := c.Segments[sn]
			w.harm[truth][s] = x.Harm * seg.HarmMultiplier
			row := make([]reward.Outcome, A)
			for a, rn := range w.responses {
				row[a] = outcomeOf(w.truthCtx[truth], a, x, w.truthWrong[truth], c.Responses[rn], seg)
			}
			w.outcome[truth][s] = row
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
	nSit := len(w.sitProb)
	w.rew0Flat, w.slopeFlat, w.sycFlat = make([]float64, nSit*S*nS), make([]float64, nSit*S*nS), make([]float64, C*A)
	w.var0Flat, w.var2Flat = make([]float64, nSit*S*nS), make([]float64, nSit*S*nS)
	for i := range w.sigs {
		w.signalChanged(i)
	}
	for t := 0; t < C; t++ {
		for a, o := range w.outcome[t][0] {
			w.sycFlat[t*A+a] = o.Sycophantic
		}
	}
	w.terms = make([]term, 0, len(w.sitProb)*S*A)
	for _, truth := range w.sitTruth {
		for s := range w.segments {
			for a := range w.outcome[truth][s] {
				o := &w.outcome[truth][s][a]
				x := term{syc: o.Sycophantic, feedback: o.FeedbackRate, up: o.ThumbsUp}
				x.gold, x.help, x.honest, x.well = w.gold(o, w.harm[truth][s])
				w.terms = append(w.terms, x)
			}
		}
	}
	// P(sycophantic | cell, response), what a system prompt can act on: each
	// situation's weight within its cell first, so that a cell of one
	// situation gets its truth's values exactly.
	w.cellSyc = make([]float64, C*A)
	for st, ps := range w.sitProb {
		c, f := w.sitCell[st], ps/w.cellProb[w.sitCell[st]]
		for a := 0; a < A; a++ {
			w.cellSyc[c*A+a] += f * w.sycFlat[w.sitTruth[st]*A+a]
		}
	}
	return w, nil
}

// signalChanged computes signal i's expected rewards at memory 0, and
// their slopes in memory, in every situation for every segment: when the
// world is made, and again when the signal changes (a reward model refit).
func (w *world) signalChanged(i int) {
	A := len(w.responses)
	sig := w.sigs[i]
	for st := range w.sitProb {
		for s := range w.segments {
			r0, sl := w.signalRewards(st, s)
			for a := 0; a < A; a++ {
				o0 := w.outcome[w.sitTruth[st]][s][a]
				o0.Cell = w.sitCell[st]
				o1 := o0
				o1.Memory = 1
				e0, e1 := sig.Expected(&o0), sig.Expected(&o1)
				r0[i*A+a], sl[i*A+a] = e0, e1-e0
				k := w.rewardIndex(st, s) + i*A + a
				v0 := sig.Variance(&o0)
				w.var0Flat[k], w.var2Flat[k] = v0, sig.Variance(&o1)-v0
			}
		}
	}
	w.rewardsVersion++
}

// rewardIndex is the offset of a situation and segment's block, by signal
// then response, in rew0Flat, slopeFlat, var0Flat and var2Flat.
func (w *world) rewardIndex(sit, seg int) int {
	return (sit*len(w.segments) + seg) * len(w.sigs) * len(w.responses)
}

// signalRewards returns the expected rewards at memory 0 and their slopes
// in memory for a situation and segment, by signal then response.
func (w *world) signalRewards(sit, seg int) (r0, slope []float64) {
	nS, k := len(w.sigs)*len(w.responses), w.rewardIndex(sit, seg)
	return w.rew0Flat[k : k+nS : k+nS], w.slopeFlat[k : k+nS : k+nS]
}

// situation is one situation of a context: its probability among all
// prompts, the cell the policy sees and the truth.
type situation struct {
	prob        float64
	cell, truth int
}

// situationsOf lists the situations of context k of traffic share share,
// whose users' stance is wrong with probability wrong, and whose cue
// (whether the stance looks wrong) matches the truth with probability
// accuracy: those of positive probability, by truth and then cue.
func situationsOf(k int, share, wrong, accuracy float64) []situation {
	var out []situation
	for w := 0; w < 2; w++ {
		pw := share * (1 - wrong)
		if w == 1 {
			pw = share * wrong
		}
		for cue := 0; cue < 2; cue++ {
			p := pw * accuracy
			if cue != w {
				p = pw * (1 - accuracy)
			}
			if p > 0 {
				out = append(out, situation{p, 2*k + cue, 2*k + w})
			}
		}
	}
	return out
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

// sampleSituation draws a situation by inverse CDF from x, a uniform
// draw of 53 bits (draws.Bits53; u = x/2^53 is draws.Float64's number):
// the first s with u T < cdf[s], T = cdf[last], or the last situation, as
// a scan of the CDF in floating point finds it (TestSampleSituation). The
// comparisons are of integers: u T >= cdf[s] holds exactly for x at or
// above sitThresh[s], the least such x (rounding keeps order, so the
// products rise with x). The search starts at the count of thresholds at
// or below the lower end of x's bucket (its top bits), and takes as many
// steps as any bucket needs (sitSteps, most often one), without a branch
// to mispredict.
func (w *world) sampleSituation(x uint64) int {
	K := len(w.sitStart) // a power of two, below 2^53
	s := int(w.sitStart[x>>(53-bits.TrailingZeros(uint(K)))&uint64(K-1)])
	for range w.sitSteps {
		s += b2i(x >= w.sitThresh[s]) // the last threshold is past every draw
	}
	return s
}

// situationThresholds returns, for each CDF value but the last, the least
// 53-bit draw x with (x/2^53) T >= cdf[s] in floating point (T = cdf[last]),
// 2^53 if none, then 2^64-1 (past every draw) for the last situation.
func situationThresholds(cdf []float64) []uint64 {
	T := cdf[len(cdf)-1]
	th := make([]uint64, len(cdf))
	for s, c := range cdf[:len(cdf)-1] {
		lo, hi := uint64(0), uint64(1)<<53
		for lo < hi { // the least x in [lo, hi] with the product at or above c
			mid := lo + (hi-lo)/2
			if float64(mid)/(1<<53)*T >= c {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		th[s] = lo
	}
	th[len(th)-1] = math.MaxUint64
	return th
}

// situationBuckets returns sampleSituation's starting points for its
// thresholds and the steps it takes from them: a power of two of buckets
// of the 53-bit draws, at least 64 and four per situation, doubled up to
// 4096 while a bucket holds more than one threshold.
func situationBuckets(th []uint64) (start []int32, steps int) {
	below := func(x uint64) int { // thresholds at or below x
		s := 0
		for s < len(th) && th[s] <= x {
			s++
		}
		return s
	}
	for K := 64; ; K *= 2 {
		if K < 4*len(th) {
			continue
		}
		width := uint64(1) << 53 / uint64(K)
		start, steps = make([]int32, K), 0
		for j := range start {
			lo, hi := below(uint64(j)*width), below(uint64(j+1)*width-1)
			start[j], steps = int32(lo), max(steps, hi-lo)
		}
		if steps <= 1 || K >= 4096 {
			return start, steps
		}
	}
}

// b2i is 1 for true, 0 for false (compiled without a branch).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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
