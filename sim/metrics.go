package sim

import (
	"math"

	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim/internal/vmath"
)

// metricIndex fixes the position of every metric in a row. Metric names are
// slash-separated tags, as written to steps.csv.
type metricIndex struct {
	names []string

	syc, sycSeg                int // sycSeg: first of len(segments)
	gold, help, honest, well   int
	proxy, kl, up, upSeg, offl int
	rew, weight, infl, inflKL  int // rew, weight, infl, align, advShare: first of len(signals)
	align, advShare            int
	memSeg, share, gnorm       int // memSeg: -1 without memory
	rmAcc, rmAgree             int // first of the reward-model signals'
}

// newMetricIndex lays out the metrics of a run of c. They depend on its
// segments, signals, responses and memory only, the names a world takes
// from the config (newWorld), so no world is built: a config's check of
// its [output] patterns costs next to nothing.
func newMetricIndex(c *Config) metricIndex {
	segments, signals, responses := Names(c.Segments), Names(c.Signals), Names(c.Responses)
	var ix metricIndex
	add := func(n ...string) int {
		i := len(ix.names)
		ix.names = append(ix.names, n...)
		return i
	}
	prefixed := func(p string, xs []string) []string {
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = p + x
		}
		return out
	}
	ix.syc = add("sycophancy_rate")
	ix.sycSeg = add(prefixed("sycophancy_rate/", segments)...)
	ix.gold = add("gold_utility")
	ix.help = add("gold/helpfulness")
	ix.honest = add("gold/honesty")
	ix.well = add("gold/wellbeing")
	ix.proxy = add("proxy_reward")
	ix.kl = add("kl")
	ix.up = add("thumbs_up_rate")
	ix.upSeg = add(prefixed("thumbs_up_rate/", segments)...)
	ix.offl = add("eval/offline_correctness")
	ix.rew = add(prefixed("reward/", signals)...)
	ix.weight = add(prefixed("weight/", signals)...)
	ix.infl = add(prefixed("influence/", signals)...)
	ix.inflKL = add("influence/kl")
	ix.align = add(prefixed("alignment/", signals)...)
	ix.advShare = add(prefixed("advantage_share/", signals)...)
	ix.memSeg = -1
	if c.Memory.Enabled { // the world's memDim > 0
		ix.memSeg = add(prefixed("memory/", segments)...)
	}
	ix.share = add(prefixed("response_share/", responses)...)
	var rm []string
	for _, n := range signals {
		if c.Signals[n].RewardModel() {
			rm = append(rm, n)
		}
	}
	ix.rmAcc = add(prefixed("rm_accuracy/", rm)...)
	ix.rmAgree = add(prefixed("rm_agreement/", rm)...)
	ix.gnorm = add("grad_norm")
	return ix
}

func (tr *trainer) metricNames() []string {
	return append([]string(nil), tr.idx.names...)
}

// evaluate writes the exact expected metrics of the current policy over the
// whole population into row: every user, every cell weighted by its
// probability, every response weighted by pi. Nothing here is sampled.
//
// Every per-response quantity is affine in the user's remembered stance m
// (only memory signals read it, linearly), and the policy's logits are
// logits(cell, 0) + m * memLogits. So the loop over users only accumulates,
// per segment, cell and response, the probability mass sum_u pi_u and its
// memory moment sum_u m_u pi_u, plus the KL; the metrics are formed from
// those sums and the world's precomputed per-response values.
func (tr *trainer) evaluate(row []float64, t int) {
	w := tr.w
	ix := &tr.idx
	A := len(w.responses)
	C := len(w.cellProb)
	nSeg := len(w.segments)
	memOn := tr.memoryActive(t)

	e := &tr.eval
	zero(e.mass)
	zero(e.moment)
	for c := range w.cellProb {
		tr.pol.Logits(e.cellLogits[c], tr.context(c, 0))
	}
	if w.memDim > 0 {
		tr.pol.Logits(e.memLogits, tr.context(0, 1))
		for a := range e.memLogits {
			e.memLogits[a] -= e.cellLogits[0][a]
		}
	}
	// exp(l) factorises as exp(cell logits) x exp(m memLogits): per step one
	// exponential per cell and response, per user one per response.
	for c := range w.cellProb {
		e.cellMax[c] = maxOf(e.cellLogits[c])
		for a, v := range e.cellLogits[c] {
			e.cellExp[c][a] = v - e.cellMax[c]
		}
	}
	vmath.Exp(e.cellExpFlat, e.cellExpFlat) // every cell's at once
	for c := range w.cellProb {
		// pi at memory 0: the softmax of the cell's logits.
		sum := 0.0
		for _, q := range e.cellExp[c] {
			sum += q
		}
		inv := 1 / sum
		for a, q := range e.cellExp[c] {
			tr.cellProbs[c][a] = q * inv
		}
	}
	kl := 0.0
	if memOn {
		kl = tr.evaluateMemory()
	} else {
		// Every user sees the memory-free policy: one pass per segment. (No
		// memory has built up yet, so e.mem stays 0.)
		zero(e.mem)
		for c, pc := range w.cellProb {
			zkl := policy.KL(tr.cellProbs[c], tr.ref)
			for s, n := range w.segUsers {
				base := (s*C + c) * A
				for a, p := range tr.cellProbs[c] {
					e.mass[base+a] = float64(n) * p
				}
				kl += float64(n) * pc * zkl
			}
		}
	}
	e.step, e.memOn = t, memOn

	weights, rew, share := e.weights, e.rew, e.share
	reward.EffectiveWeights(weights, w.specs, t, tr.cfg.Train.Weights)
	N := float64(len(w.userSeg))
	var syc, gold, help, honest, well, fb, up float64
	zero(rew)
	zero(share)
	for s := 0; s < nSeg; s++ {
		var sSyc, sFb, sUp float64
		for st, ps := range w.sitProb {
			base := (s*C + w.sitCell[st]) * A
			r0, slope := w.signalRewards(st, s)
			r0, slope = r0[:len(rew)*A], slope[:len(rew)*A] // a reward per signal and response
			terms := w.terms[(st*nSeg+s)*A : (st*nSeg+s+1)*A]
			for a := range terms {
				P, M := ps*e.mass[base+a], ps*e.moment[base+a]
				if P == 0 {
					continue
				}
				x := &terms[a]
				sSyc += P * x.syc
				gold += P * x.gold
				help += P * x.help
				honest += P * x.honest
				well += P * x.well
				sFb += P * x.feedback
				sUp += P * x.feedback * x.up
				share[a] += P
				// Each signal's reward at this response: r0 and slope hold
				// them signal by signal, A apart.
				for i, k := 0, a; i < len(rew) && k < len(r0) && k < len(slope); i, k = i+1, k+A {
					rew[i] += P*r0[k] + M*slope[k]
				}
			}
		}
		n := float64(w.segUsers[s])
		row[ix.sycSeg+s] = ratio(sSyc, n)
		row[ix.upSeg+s] = ratio(sUp, sFb)
		if ix.memSeg >= 0 {
			row[ix.memSeg+s] = ratio(e.mem[s], n)
		}
		syc += sSyc
		fb += sFb
		up += sUp
	}
	row[ix.syc] = syc / N
	row[ix.gold] = gold / N
	row[ix.help] = help / N
	row[ix.honest] = honest / N
	row[ix.well] = well / N
	row[ix.kl] = kl / N
	row[ix.up] = ratio(up, fb)
	proxy := 0.0
	for i := range w.sigs {
		row[ix.rew+i] = rew[i] / N
		row[ix.weight+i] = weights[i]
		proxy += weights[i] * rew[i] / N
	}
	row[ix.proxy] = proxy
	for a := range share {
		row[ix.share+a] = share[a] / N
	}
	row[ix.offl] = tr.offlineCorrectness()
	copy(row[ix.rmAcc:], tr.fb.accuracy)
	copy(row[ix.rmAgree:], tr.fb.agreement)
}

// evaluateMemory fills e.mass and e.moment (pi and m pi summed over each
// segment's users, per cell and response), e.mem and the factors the
// training step reuses, and returns the KL to the reference summed over
// users and cells (weighted by P(cell)).
//
// With F_ua = exp(m_u (d_a - max d)) and E_ca = exp(l_ca - max_a l_ca),
// pi_uca = E_ca F_ua / Z_uc where Z_uc = sum_a E_ca F_ua, so the sums over
// users need only sum_u F_ua / Z_uc and sum_u m_u F_ua / Z_uc, times E_ca
// once at the end; and
//
//	KL = sum_uca pi_uca (l_uca - log ref_a) - sum_uc log sum_a exp(l_uca)
//	   = sum_uca pi_uca (l_ca - max l_c + m_u (d_a - max d) - log ref_a) - sum_uc log Z_uc
//
// with l_uca = l_ca + m_u d_a is formed from those sums and the sum of
// log Z_uc, which is the log of one product per segment and cell (mantissa
// and binary exponent kept apart); the maxima drop out of the second form,
// so no two large terms cancel however large the logits grow. Where Z_uc underflows (the two factors'
// maxima at different responses and very far apart) that user and cell
// take the softmax directly.
func (tr *trainer) evaluateMemory() float64 {
	w, e := tr.w, &tr.eval
	A, C := len(w.responses), len(w.cellProb)
	blk := len(e.et) // per segment: cells in groups of four, by response
	zero(e.massF)
	zero(e.momentF)
	for i := range e.prod {
		e.prod[i], e.prodExp[i] = 1, 0
	}
	for c := 0; c < C; c++ {
		for a := 0; a < A; a++ {
			e.et[(c/4*A+a)*4+c%4] = e.cellExp[c][a]
		}
	}
	dMax := maxOf(e.memLogits)
	for a, d := range e.memLogits {
		e.memShift[a] = d - dMax // <= 0, and 0 at the argmax; so is m times it, as m >= 0
	}
	vmath.ExpOuter(e.userExp, tr.mem, e.memShift)
	klD := 0.0 // the KL of the directly taken users and cells, weighted by P(cell)
	end, nc := 0, len(e.prod)/len(w.segments)
	for s, n := range w.segUsers { // a segment's users are consecutive
		u := end
		end += n
		e.mem[s] = tr.memSums[s]
		massF, momentF := e.massF[s*blk:(s+1)*blk], e.momentF[s*blk:(s+1)*blk]
		prod, prodExp := e.prod[s*nc:(s+1)*nc], e.prodExp[s*nc:(s+1)*nc]
		for u < end {
			u += vmath.NormalizedSums(e.userExp[u*A:end*A], tr.mem[u:end], e.et, massF, momentF, prod, prodExp, e.zbuf)
			if u == end {
				break
			}
			// User u has a cell whose factorisation underflows: the same
			// sums in Go for its other cells, that one directly.
			m, F := tr.mem[u], e.userExp[u*A:u*A+A]
			for c := 0; c < C; c++ {
				z := vmath.ColumnSum(e.et, F, c)
				if !(z > vmath.MinSum) {
					base := (s*C + c) * A
					klD += w.cellProb[c] * tr.addDirect(e.mass[base:base+A], e.moment[base:base+A], c, m)
					continue
				}
				vmath.AddColumn(F, m, z, c, massF, momentF, prod, prodExp)
			}
			u++
		}
	}
	// pi sums: exp(cell logits) times the factored sums, plus the direct ones.
	kl := klD
	for s := range w.segments {
		nc := len(e.prod) / len(w.segments)
		for c, pc := range w.cellProb {
			base := (s*C + c) * A
			E, cl, cm := e.cellExp[c], e.cellLogits[c], e.cellMax[c]
			// The logits enter shifted by their maxima (cm and dMax), which
			// the log-sum-exp's n cm + mem dMax would otherwise have to
			// cancel: with sum_a P_a = n and sum_a M_a = mem, the shifts
			// drop out exactly, and logits of any size keep the KL exact.
			// The directly taken users' KL is in klD already; their pi
			// (mass and moment so far) joins the factorised users' after.
			v := 0.0
			for a := 0; a < A; a++ {
				k := s*blk + (c/4*A+a)*4 + c%4
				P, M := E[a]*e.massF[k], E[a]*e.momentF[k]
				v += P*(cl[a]-cm-tr.logRef[a]) + M*e.memShift[a]
				e.mass[base+a] += P
				e.moment[base+a] += M
			}
			pi := s*nc + c
			kl += pc * (v - math.Log(e.prod[pi]) - float64(e.prodExp[pi])*math.Ln2)
		}
	}
	return kl
}

// addDirect adds one user's pi and m pi in cell c to mass and moment by a
// softmax of the logits themselves, and returns the user's KL to the
// reference in that cell, taken from its own log-probabilities.
func (tr *trainer) addDirect(mass, moment []float64, c int, m float64) float64 {
	e := &tr.eval
	A := len(mass)
	l := e.direct[:A]
	for a := range l { // shifted by cellMax_c + m dMax term by term: nothing large cancels
		l[a] = (e.cellLogits[c][a] - e.cellMax[c]) + m*e.memShift[a]
	}
	mx := maxOf(l)
	sum := 0.0
	for _, v := range l {
		sum += math.Exp(v - mx)
	}
	inv, lse := 1/sum, math.Log(sum)
	kl := 0.0
	for a, v := range l {
		p := math.Exp(v-mx) * inv
		mass[a] += p
		moment[a] += m * p
		if p > 0 {
			kl += p * ((v - mx) - lse - tr.logRef[a]) // log p_a - log ref_a
		}
	}
	return kl
}

// evalWork holds evaluate's reusable workspaces.
type evalWork struct {
	mass, moment []float64 // [segment][cell][response]: sum over the segment's users of pi and m pi
	// The same sums over the users whose pi is factorised, without the
	// factor exp(cell logits) (see evaluateMemory), per segment laid out as
	// vmath.NormalizedSums wants: cells in groups of four, by response.
	massF, momentF []float64
	et             []float64 // exp(cell logits) in that layout (padding cells 1)
	zbuf           []float64 // NormalizedSums' scratch: sumsBlock rows
	mem            []float64 // per segment: sum of remembered stances
	direct         []float64 // per response: addDirect's workspace
	cellLogits     [][]float64
	memLogits      []float64
	memShift       []float64   // memLogits less their maximum
	cellMax        []float64   // max logit per cell at memory 0
	cellExp        [][]float64 // exp(logit - cellMax) per cell and response, views of cellExpFlat
	cellExpFlat    []float64
	userExp        []float64 // per user and response: the memory factor exp(m (d_a - max d))
	step           int       // the step these factors belong to (-1: none yet)
	memOn          bool      // whether memory was active at that step
	prod           []float64 // per segment and cell (padded to four): product over users of the softmax sums (mantissa)
	prodExp        []int64   // and its binary exponent
	weights, rew   []float64 // per signal
	share          []float64 // per response
}

// sumsBlock is how many users NormalizedSums takes at a time.
const sumsBlock = 64

// newEvalWork allocates evaluate's workspaces for a world.
func newEvalWork(w *world) evalWork {
	A, C, S, nSeg := len(w.responses), len(w.cellProb), len(w.sigs), len(w.segments)
	nc := (C + 3) / 4 * 4 // cells padded to groups of four
	e := evalWork{
		mass:      make([]float64, nSeg*C*A),
		moment:    make([]float64, nSeg*C*A),
		massF:     make([]float64, nSeg*nc*A),
		momentF:   make([]float64, nSeg*nc*A),
		et:        make([]float64, nc*A),
		zbuf:      make([]float64, sumsBlock*nc),
		mem:       make([]float64, nSeg),
		direct:    make([]float64, A),
		memLogits: make([]float64, A),
		memShift:  make([]float64, A),
		cellMax:   make([]float64, C),
		userExp:   make([]float64, len(w.userSeg)*A),
		step:      -1,
		prod:      make([]float64, nSeg*nc),
		prodExp:   make([]int64, nSeg*nc),
		weights:   make([]float64, S),
		rew:       make([]float64, S),
		share:     make([]float64, A),
	}
	e.cellLogits, e.cellExp = make([][]float64, C), make([][]float64, C)
	e.cellExpFlat = make([]float64, C*A)
	for c := 0; c < C; c++ {
		e.cellLogits[c], e.cellExp[c] = make([]float64, A), e.cellExpFlat[c*A:c*A+A:c*A+A]
	}
	for i := range e.et {
		e.et[i] = 1 // padding cells: their sums are never read, and never underflow
	}
	return e
}

// softmaxRows turns x, rows of A logits each, into rows of probabilities:
// each row shifted by its maximum, the exponentials taken all at once, each
// row divided by its sum.
func softmaxRows(x []float64, A int) {
	for k := 0; k < len(x); k += A {
		l := x[k : k+A]
		mx := maxOf(l)
		for a := range l {
			l[a] -= mx
		}
	}
	vmath.Exp(x, x)
	for k := 0; k < len(x); k += A {
		l := x[k : k+A]
		sum := 0.0
		for _, v := range l {
			sum += v
		}
		inv := 1 / sum
		for a := range l {
			l[a] *= inv
		}
	}
}

// maxOf returns the largest element of x, which holds no NaN (math.Max's
// care for NaN and signed zeros costs more here than the rest of the loop).
func maxOf(x []float64) float64 {
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	return m
}

// offlineCorrectness is the offline eval: P(correct) on verifiable prompts
// whose user holds no wrong stance, with no memory, as an eval set of
// maths and coding questions would measure it. The model sees each
// prompt's cue as it would in use; the eval has no blind spot but its
// prompts: none holds a wrong stance.
func (tr *trainer) offlineCorrectness() float64 {
	w := tr.w
	num, den := 0.0, 0.0
	for st, ps := range w.sitProb {
		t := w.sitTruth[st]
		if w.truthWrong[t] || !w.outcome[t][0][0].Verifiable {
			continue
		}
		for a, pa := range tr.cellProbs[w.sitCell[st]] {
			num += ps * pa * w.outcome[t][0][a].Correct
		}
		den += ps
	}
	return ratio(num, den)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// decompose writes each signal's influence on the update just computed:
//
//	influence_i = |g_i| / (sum_j |g_j| + |g_kl|)
//	alignment_i = <g_i, g> / (|g_i| |g|)
//
// where g_i is signal i's weighted gradient and g the total update. The
// influences and the KL share sum to one; alignment says whether a signal
// pulls with (+1) or against (-1) the update that is taken.
func (tr *trainer) decompose(row []float64) {
	ix := &tr.idx
	S := len(tr.w.sigs)
	norms := tr.norms
	sum := 0.0
	for i, g := range tr.grads {
		norms[i] = math.Sqrt(dot(g, g))
		sum += norms[i]
	}
	gn := math.Sqrt(dot(tr.total, tr.total))
	for i := 0; i < S; i++ {
		row[ix.infl+i] = ratio(norms[i], sum)
		if norms[i] > 0 && gn > 0 {
			row[ix.align+i] = dot(tr.grads[i], tr.total) / (norms[i] * gn)
		}
	}
	row[ix.inflKL] = ratio(norms[S], sum)
	row[ix.gnorm] = gn
	copy(row[ix.advShare:ix.advShare+S], tr.shares)
}

// summary collects every metric at the last step before the update, at the
// update step and at the final step.
func (tr *trainer) summary(res *Result) Summary {
	c := tr.cfg
	before, after := c.Train.UpdateStep-1, c.Train.Steps
	s := Summary{
		Name: c.Name, Seed: c.Seed, Algorithm: c.Train.Algorithm,
		Steps: c.Train.Steps, UpdateStep: c.Train.UpdateStep, Primary: c.Primary,
		Segments: tr.w.segments, Signals: tr.w.signals,
		BeforeStep: before, AfterStep: after,
		Before: map[string]float64{}, AtUpdate: map[string]float64{}, After: map[string]float64{},
	}
	for k, n := range res.Metrics {
		s.Before[n] = res.Values[before][k]
		s.AtUpdate[n] = res.Values[c.Train.UpdateStep][k]
		s.After[n] = res.Values[after][k]
	}
	return s
}
