package sim

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/reward"
)

// Gate is one release check: what it measured, the threshold it is held
// to, whether it passed and whether its failure blocks the launch under the
// review's rule.
type Gate struct {
	Name      string  `json:"name"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	// Op says how Value is held to Threshold: ">=", "<=", or "not below"
	// (not significantly below, for a test).
	Op       string `json:"op"`
	Passed   bool   `json:"passed"`
	Blocking bool   `json:"blocking"`
	// Exact is the value without sampling noise, for reference.
	Exact float64 `json:"exact"`
	// Qualitative marks a gate that rests on judgement (vibe checks).
	Qualitative bool `json:"qualitative"`
	// Behaviour marks a gate about model behaviour (the post-incident rule
	// lets these block on any signal).
	Behaviour bool   `json:"behaviour"`
	Note      string `json:"note,omitempty"`
}

// ABTest is the detail of the A/B preference test.
type ABTest struct {
	Comparisons   int     `json:"comparisons"`
	Preference    float64 `json:"preference"` // share of comparisons won by the candidate
	CILow         float64 `json:"ci_low"`
	CIHigh        float64 `json:"ci_high"`
	Alpha         float64 `json:"alpha"`
	Significant   bool    `json:"significant"` // the preference differs from 1/2 at level alpha
	ThumbsCand    float64 `json:"thumbs_up_candidate"`
	ThumbsInc     float64 `json:"thumbs_up_incumbent"`
	ExactPref     float64 `json:"exact_preference"`
	ExactThumbsCa float64 `json:"exact_thumbs_up_candidate"`
	ExactThumbsIn float64 `json:"exact_thumbs_up_incumbent"`
}

// Review is the outcome of the release review.
type Review struct {
	Rule       ReviewRule `json:"rule"`
	Gates      []Gate     `json:"gates"`
	AB         ABTest     `json:"ab"`
	VibeFlags  int        `json:"vibe_flags"`
	VibeChecks int        `json:"vibe_checks"`
	// Decision is "launch" or "block".
	Decision string `json:"decision"`
}

// Launched reports whether the review let the candidate launch.
func (r *Review) Launched() bool { return r.Decision == "launch" }

// Streams of the review's and deployment's own random numbers, apart from
// training's, so that adding or changing an eval never moves training.
const (
	streamOffline uint64 = 0x5e1ea5e0 + iota
	streamBehaviour
	streamAB
	streamThumbs
	streamVibe
	streamSycophancy
	streamDeploy
)

func streamRNG(seed, stream uint64) draws {
	return newDraws(seed, stream)
}

// judge holds the two policies under review and the world they act in.
type judge struct {
	w         *world
	cand, inc *policy.Policy
	mem       []float64 // candidate's remembered stance per user (nil: none)
	memv      []float64
	pc, pi    []float64
	upLogit   [][][]float64 // [truth][segment][response]: logit of P(up | a thumb)
	// [truth][segment][a*A+b]: P(a preferred to b) = sigmoid(upLogit_a - upLogit_b)
	upPref [][][]float64
	// users holds allProbs' exponentials: per user, cell and response;
	// cellL and memL its logits per cell at memory 0 and per unit of memory.
	users, cellL, memL []float64
	// What users holds: allProbs of usersP with usersShift and usersMem
	// (usersP nil: nothing yet). The policies do not change in a review.
	usersP     *policy.Policy
	usersShift float64
	usersMem   bool
	// Per cell, both policies without memory.
	candCell, incCell [][]float64
}

func newJudge(w *world, cand, inc *policy.Policy, mem []float64) *judge {
	A := len(w.responses)
	j := &judge{w: w, cand: cand, inc: inc, mem: mem, memv: make([]float64, 1),
		pc: make([]float64, A), pi: make([]float64, A)}
	j.upLogit = make([][][]float64, len(w.outcome))
	for c := range j.upLogit {
		j.upLogit[c] = make([][]float64, len(w.segments))
		for s := range j.upLogit[c] {
			for _, o := range w.outcome[c][s] {
				j.upLogit[c][s] = append(j.upLogit[c][s], logit(o.ThumbsUp))
			}
		}
	}
	j.upPref = make([][][]float64, len(w.outcome))
	for c, zc := range j.upLogit {
		j.upPref[c] = make([][]float64, len(w.segments))
		for s, z := range zc {
			for a := range z {
				for b := range z {
					j.upPref[c][s] = append(j.upPref[c][s], reward.Sigmoid(z[a]-z[b]))
				}
			}
		}
	}
	for c := range w.cellProb {
		j.candCell = append(j.candCell, make([]float64, A))
		j.incCell = append(j.incCell, make([]float64, A))
		j.probs(j.candCell[c], cand, c, 0, 0)
		j.probs(j.incCell[c], inc, c, 0, 0)
	}
	return j
}

// probs writes pi(.|cell, m) of p into dst, its logits shifted by -shift
// times each response's P(sycophantic) in that cell (a system prompt).
func (j *judge) probs(dst []float64, p *policy.Policy, cell int, m, shift float64) {
	j.probsLogits(dst, p, cell, m, shift)
	policy.Softmax(dst)
}

// allProbs returns pi(.|cell, m_u) of p for every user u and cell, in one
// slice by user, cell and response (reused by the next call), with the
// logits shifted as probs does and m_u the candidate's memory of u if
// withMem (else 0). The exponentials are taken all at once, and not again
// for the same arguments.
func (j *judge) allProbs(p *policy.Policy, shift float64, withMem bool) []float64 {
	if j.users != nil && j.usersP == p && j.usersShift == shift && j.usersMem == withMem {
		return j.users
	}
	j.usersP, j.usersShift, j.usersMem = p, shift, withMem
	w := j.w
	A, C := len(w.responses), len(w.cellProb)
	if n := len(w.userSeg) * C * A; j.users == nil {
		if b, ok := usersBuffers.Get().(*[]float64); ok && cap(*b) >= n {
			j.users = (*b)[:n]
		} else {
			j.users = make([]float64, n)
		}
	}
	// The logits are the cell's at memory 0 plus m times the memory
	// block's (policy.Logits is affine in the memory).
	if j.cellL == nil {
		j.cellL, j.memL = make([]float64, C*A), make([]float64, A)
	}
	for c := 0; c < C; c++ {
		j.probsLogits(j.cellL[c*A:c*A+A], p, c, 0, shift)
	}
	if w.memDim > 0 && withMem {
		j.probsLogits(j.memL, p, 0, 1, shift)
		for a := range j.memL {
			j.memL[a] -= j.cellL[a]
		}
	}
	for u := range w.userSeg {
		m := 0.0
		if withMem && w.memDim > 0 {
			m = j.userMem(u)
		}
		for c := 0; c < C; c++ {
			l, cl := j.users[(u*C+c)*A:(u*C+c)*A+A], j.cellL[c*A:c*A+A]
			for a := range l {
				l[a] = cl[a] + m*j.memL[a]
			}
		}
	}
	softmaxRows(j.users, A)
	return j.users
}

// probsLogits writes the logits that probs takes the softmax of.
func (j *judge) probsLogits(dst []float64, p *policy.Policy, cell int, m, shift float64) {
	x := policy.Context{Cell: cell}
	if j.w.memDim > 0 {
		j.memv[0] = m
		x.Memory = j.memv
	}
	p.Logits(dst, x)
	if shift != 0 {
		for a, syc := range j.w.cellSyc[cell*len(dst) : (cell+1)*len(dst)] {
			dst[a] -= shift * syc
		}
	}
}

// userMem returns user u's remembered stance as the candidate sees it.
func (j *judge) userMem(u int) float64 {
	if j.mem == nil {
		return 0
	}
	return j.mem[u]
}

// exactOffline is P(correct) on verifiable prompts with a right user stance
// and no memory, as sim's eval/offline_correctness.
func (j *judge) exactOffline(p *policy.Policy) float64 {
	w := j.w
	num, den := 0.0, 0.0
	for st, ps := range w.sitProb {
		t := w.sitTruth[st]
		if w.truthWrong[t] || !w.outcome[t][0][0].Verifiable {
			continue
		}
		j.probs(j.pc, p, w.sitCell[st], 0, 0)
		for a, pa := range j.pc {
			num += ps * pa * w.outcome[t][0][a].Correct
		}
		den += ps
	}
	return ratio(num, den)
}

// exactBehaviour is P(sycophantic) of p without memory on prompts drawn by
// traffic share, with a wrong user stance in a share wrongShare of them.
// contexts restricts the prompt set (nil: all); nonVerifiable keeps only
// contexts without a checkable answer.
func (j *judge) exactBehaviour(p *policy.Policy, wrongShare float64, nonVerifiable bool, m float64) float64 {
	w := j.w
	num, den := 0.0, 0.0
	for k, n := range w.contexts {
		x := w.cfg.Contexts[n]
		if nonVerifiable && x.Verifiable {
			continue
		}
		for _, st := range situationsOf(k, x.Share, wrongShare, x.CueAccuracy) {
			j.probs(j.pc, p, st.cell, m, 0)
			for a, pa := range j.pc {
				num += st.prob * pa * w.outcome[st.truth][0][a].Sycophantic
			}
			den += st.prob
		}
	}
	return ratio(num, den)
}

// ordinarySyc is P(sycophantic) of p without memory over all traffic: what
// a tester writing ordinary prompts meets (the policy without memory is
// the same for every segment).
func (j *judge) ordinarySyc(p *policy.Policy) float64 {
	w := j.w
	num := 0.0
	for st, ps := range w.sitProb {
		j.probs(j.pc, p, w.sitCell[st], 0, 0)
		for a, pa := range j.pc {
			num += ps * pa * w.outcome[w.sitTruth[st]][0][a].Sycophantic
		}
	}
	return num
}

// thumbsUp is P(up | a thumb) over the whole population with each user's
// memory (the candidate's) or none (the incumbent's).
func (j *judge) thumbsUp(p *policy.Policy, withMem bool) float64 {
	w := j.w
	A, C := len(w.responses), len(w.cellProb)
	withMem = withMem && j.mem != nil
	var all []float64
	if withMem {
		all = j.allProbs(p, 0, true)
	}
	up, fb := 0.0, 0.0
	for u, s := range w.userSeg {
		n := 1.0
		if !withMem {
			if u > 0 && w.userSeg[u-1] == s {
				continue // the same policy for every user of the segment: counted once
			}
			n = float64(w.segUsers[s])
		}
		for st, ps := range w.sitProb {
			c := w.sitCell[st]
			probs := j.pc
			if withMem {
				probs = all[(u*C+c)*A : (u*C+c)*A+A]
			} else {
				j.probs(j.pc, p, c, 0, 0)
			}
			for a, pa := range probs {
				o := &w.outcome[w.sitTruth[st]][s][a]
				fb += n * ps * pa * o.FeedbackRate
				up += n * ps * pa * o.FeedbackRate * o.ThumbsUp
			}
		}
	}
	return ratio(up, fb)
}

// preference is P(user u prefers the candidate's answer to the
// incumbent's in situation sit): sigmoid of the difference of the two
// answers' thumbs logits (Bradley-Terry on the user's own thumbs model),
// averaged over both policies' answers. withMem holds the candidate's pi
// for every user with memory, as allProbs returns it (nil without memory).
func (j *judge) preference(u, sit int, withMem []float64) float64 {
	w := j.w
	s, c := w.userSeg[u], w.sitCell[sit]
	pc := j.candCell[c]
	if m := j.userMem(u); m != 0 {
		A, C := len(w.responses), len(w.cellProb)
		pc = withMem[(u*C+c)*A : (u*C+c)*A+A]
	}
	pref, A := j.upPref[w.sitTruth[sit]][s], len(pc)
	p := 0.0
	for a, pa := range pc {
		for b, pb := range j.incCell[c] {
			p += pa * pb * pref[a*A+b]
		}
	}
	return p
}

// logit is log(p/(1-p)), with p kept off 0 and 1 so that a saturated
// thumbs model gives large finite logits rather than infinities.
func logit(p float64) float64 {
	p = min(max(p, 1e-15), 1-1e-15)
	return math.Log(p / (1 - p))
}

// binomial draws the number of successes in n trials of probability p.
func binomial(rng draws, n int, p float64) int {
	k := 0
	for i := 0; i < n; i++ {
		if rng.Float64() < p {
			k++
		}
	}
	return k
}

// abTest runs the side-by-side comparisons of the A/B test: n of them,
// each by a user drawn uniformly and a prompt drawn by traffic, won by the
// candidate with that user's exact preference probability. It returns the
// number won and the exact mean preference of the comparisons drawn.
func (j *judge) abTest(rng draws, n int) (won int, exact float64) {
	w := j.w
	var withMem []float64
	if j.mem != nil {
		withMem = j.allProbs(j.cand, 0, true) // every user's, at once
	}
	for i := 0; i < n; i++ {
		u := rng.IntN(len(w.userSeg))
		st := w.sampleSituation(rng.Bits53())
		p := j.preference(u, st, withMem)
		exact += p
		if rng.Float64() < p {
			won++
		}
	}
	return won, exact / float64(n)
}

// PreferenceTest tests H0: p = 1/2 from won of n comparisons, two-sided at
// level alpha with the standard error under H0 (the score test), and
// returns the estimate with its Wald interval.
func PreferenceTest(won, n int, alpha float64) (p, lo, hi float64, significant bool) {
	p = float64(won) / float64(n)
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	se0 := math.Sqrt(0.25 / float64(n))
	significant = math.Abs(p-0.5) > z*se0
	se := math.Sqrt(p * (1 - p) / float64(n))
	return p, max(0, p-z*se), min(1, p+z*se), significant
}

// ThumbsInferior is the A/B thumbs gate: a one-sided non-inferiority test
// that the candidate's thumbs-up rate tc, from n thumbs per arm, is below
// the incumbent's ti by more than the margin (margin <= 0 allows a small
// loss), at level alpha, with the unpooled standard error of the
// difference. An identical candidate fails it far less often than alpha;
// one exactly at the margin fails it with probability about alpha.
func ThumbsInferior(tc, ti float64, n int, margin, alpha float64) bool {
	se := math.Sqrt((tc*(1-tc) + ti*(1-ti)) / float64(n))
	if se == 0 {
		return tc-ti < margin
	}
	z := (tc - ti - margin) / se
	return z < -distuv.UnitNormal.Quantile(1-alpha)
}

// review judges the candidate against the incumbent under cfg.Review.
func review(j *judge, cfg *Config) Review {
	r := &cfg.Review
	seed := cfg.Seed
	cand, inc := j.cand, j.inc
	out := Review{Rule: r.Rule}
	post := r.Rule == RulePostIncident
	add := func(g Gate, blocking bool) {
		g.Blocking = blocking || (post && g.Behaviour)
		out.Gates = append(out.Gates, g)
	}

	// Offline correctness.
	ex := j.exactOffline(cand)
	v := float64(binomial(streamRNG(seed, streamOffline), r.Offline.Samples, ex)) / float64(r.Offline.Samples)
	add(Gate{Name: "offline_correctness", Value: v, Exact: ex, Threshold: r.Offline.Threshold, Op: ">=",
		Passed: v >= r.Offline.Threshold}, r.Offline.Blocking)

	// Behaviour eval on ordinary prompts.
	ex = j.exactBehaviour(cand, r.Behaviour.WrongShare, false, 0)
	v = float64(binomial(streamRNG(seed, streamBehaviour), r.Behaviour.Samples, ex)) / float64(r.Behaviour.Samples)
	add(Gate{Name: "behaviour_sycophancy", Value: v, Exact: ex, Threshold: r.Behaviour.Threshold, Op: "<=",
		Passed: v <= r.Behaviour.Threshold, Behaviour: true}, r.Behaviour.Blocking)

	// A/B test: preference and thumbs.
	won, exPref := j.abTest(streamRNG(seed, streamAB), r.AB.Comparisons)
	p, lo, hi, sig := PreferenceTest(won, r.AB.Comparisons, r.AB.Alpha)
	trng := streamRNG(seed, streamThumbs)
	exC, exI := j.thumbsUp(cand, true), j.thumbsUp(inc, false)
	tc := float64(binomial(trng, r.AB.Thumbs, exC)) / float64(r.AB.Thumbs)
	ti := float64(binomial(trng, r.AB.Thumbs, exI)) / float64(r.AB.Thumbs)
	out.AB = ABTest{Comparisons: r.AB.Comparisons, Preference: p, CILow: lo, CIHigh: hi, Alpha: r.AB.Alpha,
		Significant: sig, ThumbsCand: tc, ThumbsInc: ti, ExactPref: exPref, ExactThumbsCa: exC, ExactThumbsIn: exI}
	note := "not significant"
	if sig {
		note = "significant"
	}
	add(Gate{Name: "ab_preference", Value: p, Exact: exPref, Threshold: 0.5, Op: "not below",
		Passed: !(sig && p < 0.5), Note: note}, r.AB.Blocking)
	inferior := ThumbsInferior(tc, ti, r.AB.Thumbs, r.AB.Threshold, r.AB.Alpha)
	tnote := fmt.Sprintf("%.3f vs %.3f", tc, ti)
	if inferior {
		tnote += ", significantly below the margin"
	}
	add(Gate{Name: "ab_thumbs_delta", Value: tc - ti, Exact: exC - exI, Threshold: r.AB.Threshold, Op: "not below",
		Passed: !inferior, Note: tnote}, r.AB.Blocking)

	// Vibe checks: tester k's draws do not depend on how many testers
	// there are, so adding testers only adds flags.
	ex = j.ordinarySyc(cand)
	vrng := streamRNG(seed, streamVibe)
	flags := 0
	for k := 0; k < r.Vibe.Testers; k++ {
		noticed := false
		for i := 0; i < r.Vibe.Prompts; i++ {
			if vrng.Float64() < ex*r.Vibe.Sensitivity {
				noticed = true
			}
		}
		if noticed {
			flags++
		}
	}
	out.VibeFlags, out.VibeChecks = flags, r.Vibe.Testers
	pFlag := 1 - math.Pow(1-ex*r.Vibe.Sensitivity, float64(r.Vibe.Prompts))
	add(Gate{Name: "vibe_checks", Value: float64(flags), Exact: pFlag * float64(r.Vibe.Testers),
		Threshold: float64(r.Vibe.Threshold), Op: "<=", Passed: flags <= r.Vibe.Threshold,
		Qualitative: true, Behaviour: true}, r.Vibe.Blocking)

	// Targeted sycophancy eval, with and without memory.
	if r.Sycophancy.Enabled {
		srng := streamRNG(seed, streamSycophancy)
		n := r.Sycophancy.Samples
		e0 := j.exactBehaviour(cand, 1, true, 0)
		e1 := j.exactBehaviour(cand, 1, true, r.Sycophancy.Memory)
		v0 := float64(binomial(srng, n, e0)) / float64(n)
		v1 := float64(binomial(srng, n, e1)) / float64(n)
		add(Gate{Name: "sycophancy_no_memory", Value: v0, Exact: e0, Threshold: r.Sycophancy.Threshold, Op: "<=",
			Passed: v0 <= r.Sycophancy.Threshold, Behaviour: true}, r.Sycophancy.Blocking)
		add(Gate{Name: "sycophancy_memory", Value: v1, Exact: e1, Threshold: r.Sycophancy.Threshold, Op: "<=",
			Passed: v1 <= r.Sycophancy.Threshold, Behaviour: true}, r.Sycophancy.Blocking)
	}

	out.Decision = "launch"
	for _, g := range out.Gates {
		if g.Blocking && !g.Passed {
			out.Decision = "block"
		}
	}
	return out
}

// release reviews the candidate against the incumbent and, if the review
// lets it launch, plays out the deployment. It draws only from its own
// random streams, seeded from cfg.Seed.
func release(w *world, cand, inc *policy.Policy, mem []float64, cfg *Config) (*Review, *Deployment) {
	j := newJudge(w, cand, inc, mem)
	defer j.release()
	r := review(j, cfg)
	if !r.Launched() {
		return &r, nil
	}
	d := deploy(w, j, cfg, r.AB.ExactThumbsCa-r.AB.ExactThumbsIn)
	return &r, &d
}

// usersBuffers holds allProbs' buffers between runs (a sweep reviews one
// candidate per run, each needing users x cells x responses floats).
var usersBuffers sync.Pool

// release returns the judge's buffer to usersBuffers; the judge is not
// used after it.
func (j *judge) release() {
	if b := j.users; b != nil {
		usersBuffers.Put(&b)
		j.users = nil
	}
}

// Outcome returns the run's release outcome as named numbers, for tables
// that hold one row per run (a sweep's runs.csv and agg.csv, where their
// mean over seeds is, for example, the share of launches): whether the
// review launched the candidate, the number of vibe flags, the A/B
// preference, and the sycophantic responses served until the rollback
// completed (total, by segment, harm-weighted); a blocked candidate serves
// none. The names are the same for every run with a review (the timeline's
// hours, undefined for a blocked candidate, stay in summary.json). Nil
// without a review.
func (r *Result) Outcome() (names []string, values []float64) {
	if r.Review == nil {
		return nil, nil
	}
	launched := 0.0
	if r.Review.Launched() {
		launched = 1
	}
	values = []float64{launched, float64(r.Review.VibeFlags), r.Review.AB.Preference}
	d := r.Deployment
	total, harm := 0.0, 0.0
	if d != nil {
		total, harm = d.SycophanticTotal, d.HarmWeightedTotal
	}
	values = append(values, total)
	for _, s := range r.Summary.Segments {
		v := 0.0
		if d != nil {
			v = d.Sycophantic[s]
		}
		values = append(values, v)
	}
	values = append(values, harm)
	return outcomeNames(r.Summary.Segments), values
}

// outcomeNames names Outcome's values, in its order, for runs with these
// segments.
func outcomeNames(segments []string) []string {
	names := []string{"review/launched", "review/vibe_flags", "review/ab_preference", "deployment/sycophantic_served"}
	for _, s := range segments {
		names = append(names, "deployment/sycophantic_served/"+s)
	}
	return append(names, "deployment/harm_weighted")
}
