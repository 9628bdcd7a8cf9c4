package sim

import (
	"math"

	"github.com/rewardmix/rewardmix/policy"
)

// metricIndex fixes the position of every metric in a row. Metric names are
// slash-separated tags, as written to steps.csv.
type metricIndex struct {
	names []string

	syc, sycSeg                 int // sycSeg: first of len(segments)
	gold, help, honest, well    int
	proxy, kl, up, upSeg, offl  int
	rew, weight, infl, inflKL   int // rew, weight, infl, align: first of len(signals)
	align, memSeg, share, gnorm int // memSeg: -1 without memory
	nSeg, nSig, nResp           int
}

func newMetricIndex(w *world) metricIndex {
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
	ix.nSeg, ix.nSig, ix.nResp = len(w.segments), len(w.signals), len(w.responses)
	ix.syc = add("sycophancy_rate")
	ix.sycSeg = add(prefixed("sycophancy_rate/", w.segments)...)
	ix.gold = add("gold_utility")
	ix.help = add("gold/helpfulness")
	ix.honest = add("gold/honesty")
	ix.well = add("gold/wellbeing")
	ix.proxy = add("proxy_reward")
	ix.kl = add("kl")
	ix.up = add("thumbs_up_rate")
	ix.upSeg = add(prefixed("thumbs_up_rate/", w.segments)...)
	ix.offl = add("eval/offline_correctness")
	ix.rew = add(prefixed("reward/", w.signals)...)
	ix.weight = add(prefixed("weight/", w.signals)...)
	ix.infl = add(prefixed("influence/", w.signals)...)
	ix.inflKL = add("influence/kl")
	ix.align = add(prefixed("alignment/", w.signals)...)
	ix.memSeg = -1
	if w.memDim > 0 {
		ix.memSeg = add(prefixed("memory/", w.segments)...)
	}
	ix.share = add(prefixed("response_share/", w.responses)...)
	ix.gnorm = add("grad_norm")
	return ix
}

func (tr *trainer) metricNames() []string {
	return append([]string(nil), tr.idx.names...)
}

// segAcc accumulates traffic-weighted expectations for one segment.
type segAcc struct {
	syc, gold, help, honest, well, kl, fb, up float64
	rew                                       []float64
	share                                     []float64
	mem                                       float64
}

// evaluate writes the exact expected metrics of the current policy over the
// whole population into row: every user, every cell weighted by its
// probability, every response weighted by pi. Nothing here is sampled.
func (tr *trainer) evaluate(row []float64, t int) {
	w := tr.w
	ix := &tr.idx
	A := len(w.responses)
	S := len(w.sigs)
	memOn := tr.memoryActive(t)

	for c := range w.cellProb {
		tr.pol.Probs(tr.cellProbs[c], tr.context(c, 0))
	}
	accs := make([]segAcc, len(w.segments))
	for s := range accs {
		accs[s].rew = make([]float64, S)
		accs[s].share = make([]float64, A)
	}
	probs := make([]float64, A)
	for u, s := range w.userSeg {
		acc := &accs[s]
		m := 0.0
		if memOn {
			m = tr.mem[u]
		}
		acc.mem += tr.mem[u]
		for c, pc := range w.cellProb {
			if pc == 0 {
				continue
			}
			p := tr.cellProbs[c]
			if m != 0 {
				tr.pol.Probs(probs, tr.context(c, m))
				p = probs
			}
			harm := w.harm[c][s]
			acc.kl += pc * policy.KL(p, tr.ref)
			for a, pa := range p {
				if pa == 0 {
					continue
				}
				o := tr.outcome(c, u, a, m)
				q := pc * pa
				g, help, honest, well := w.gold(&o, harm)
				acc.syc += q * o.Sycophantic
				acc.gold += q * g
				acc.help += q * help
				acc.honest += q * honest
				acc.well += q * well
				acc.fb += q * o.FeedbackRate
				acc.up += q * o.FeedbackRate * o.ThumbsUp
				acc.share[a] += q
				for i, sig := range w.sigs {
					acc.rew[i] += q * sig.Expected(&o)
				}
			}
		}
	}
	var tot segAcc
	tot.rew = make([]float64, S)
	tot.share = make([]float64, A)
	N := float64(len(w.userSeg))
	for s, acc := range accs {
		n := float64(w.segUsers[s])
		tot.syc += acc.syc
		tot.gold += acc.gold
		tot.help += acc.help
		tot.honest += acc.honest
		tot.well += acc.well
		tot.kl += acc.kl
		tot.fb += acc.fb
		tot.up += acc.up
		for i := range acc.rew {
			tot.rew[i] += acc.rew[i]
		}
		for a := range acc.share {
			tot.share[a] += acc.share[a]
		}
		row[ix.sycSeg+s] = ratio(acc.syc, n)
		row[ix.upSeg+s] = ratio(acc.up, acc.fb)
		if ix.memSeg >= 0 {
			row[ix.memSeg+s] = ratio(acc.mem, n)
		}
	}
	row[ix.syc] = tot.syc / N
	row[ix.gold] = tot.gold / N
	row[ix.help] = tot.help / N
	row[ix.honest] = tot.honest / N
	row[ix.well] = tot.well / N
	row[ix.kl] = tot.kl / N
	row[ix.up] = ratio(tot.up, tot.fb)
	weights := make([]float64, S)
	effectiveWeights(weights, w, t, tr.cfg.Train.Weights)
	proxy := 0.0
	for i := range w.sigs {
		row[ix.rew+i] = tot.rew[i] / N
		row[ix.weight+i] = weights[i]
		proxy += weights[i] * tot.rew[i] / N
	}
	row[ix.proxy] = proxy
	for a := range tot.share {
		row[ix.share+a] = tot.share[a] / N
	}
	row[ix.offl] = tr.offlineCorrectness()
}

// offlineCorrectness is the offline eval: P(correct) on verifiable prompts
// whose user holds no wrong stance, with no memory, as an eval set of
// maths and coding questions would measure it.
func (tr *trainer) offlineCorrectness() float64 {
	w := tr.w
	num, den := 0.0, 0.0
	for c, pc := range w.cellProb {
		if w.cellWrng[c] || !w.outcome[c][0][0].Verifiable || pc == 0 {
			continue
		}
		for a, pa := range tr.cellProbs[c] {
			num += pc * pa * w.outcome[c][0][a].Correct
		}
		den += pc
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
	norms := make([]float64, S+1)
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
