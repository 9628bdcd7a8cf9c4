package sim

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim/internal/vmath"
)

// The deployment loop (Config.Feedback). Training never talks to users:
// at each deployment step the policy serves conversations to users drawn
// uniformly and prompts drawn by traffic; what it says moves the users'
// remembered stances (when memory is active), and the users give thumbs at
// their segment's feedback rate from their own thumbs model, which know the
// truth. The thumbs are logged, and each reward-model signal's ThumbsModel
// is fitted again on them, seeing what the model saw: the cell, the
// response and the remembered stance. Training then goes on with the new
// stances and reward models until the next deployment.

// streamFeedback is the first of the deployments' random streams (one per
// deployment), apart from training's and the review's.
const streamFeedback uint64 = 0xfeedbac0

// heldOut is one in heldOutEvery logged conversations, whose thumb (if
// any) is kept out of the fit to measure the reward model's accuracy.
const heldOutEvery = 5

// feedbackLoop is the state of the deployment loop over a run.
type feedbackLoop struct {
	steps []int // deployment steps, ascending
	next  int   // the next deployment's index in steps
	rm    []int // the reward-model signals
	// Per reward-model signal, as of the last fit: its pairwise accuracy
	// on the held-out thumbs (see heldOutAccuracy), and the share of
	// response pairs it ranks as the population's thumbs-up rate does
	// (see agreement).
	accuracy, agreement []float64
	thumbs              []reward.ThumbCounts // the fit's data
	held                []loggedThumb        // the held-out thumbs
	logits, probs       []float64            // per cell and response, workspaces
	memLogits, userL    []float64            // per response
	// Per cell and response, and per cell: userExp's exponentials and
	// sums for a memory block of zeros.
	cellExp, cellSum []float64
}

// loggedThumb is one logged thumb: what the model saw, its response, and
// whether the thumb was up.
type loggedThumb struct {
	cell, action int
	mem          float64
	up           bool
}

func newFeedbackLoop(w *world, cfg *Config) feedbackLoop {
	fb := feedbackLoop{steps: cfg.Deployments()}
	for i, sig := range w.sigs {
		if sig.RewardModel() {
			fb.rm = append(fb.rm, i)
		}
	}
	A, C := len(w.responses), len(w.cellProb)
	fb.accuracy, fb.agreement = make([]float64, len(fb.rm)), make([]float64, len(fb.rm))
	fb.logits, fb.probs = make([]float64, C*A), make([]float64, C*A)
	fb.memLogits, fb.userL = make([]float64, A), make([]float64, A)
	fb.cellExp, fb.cellSum = make([]float64, C*A), make([]float64, C)
	return fb
}

// deployIfDue runs the deployment of step t, if there is one.
func (tr *trainer) deployIfDue(t int) error {
	fb := &tr.fb
	if fb.next >= len(fb.steps) || fb.steps[fb.next] != t {
		return nil
	}
	round := fb.next
	fb.next++
	if err := tr.deploy(t, round); err != nil {
		return err
	}
	tr.updateMemSums()
	if tr.onDeploy != nil {
		tr.onDeploy(t, tr.mem)
	}
	return nil
}

// updateMemSums sums the remembered stances over each segment's users
// (consecutive), in order.
func (tr *trainer) updateMemSums() {
	end := 0
	for s, n := range tr.w.segUsers {
		sum := 0.0
		for _, m := range tr.mem[end : end+n] {
			sum += m
		}
		tr.memSums[s] = sum
		end += n
	}
}

// deploy serves one deployment's conversations with the policy the config
// names, moves the users' remembered stances, logs the thumbs and refits
// the reward models.
func (tr *trainer) deploy(t, round int) error {
	w, fb, cfg := tr.w, &tr.fb, tr.cfg
	A, C := len(w.responses), len(w.cellProb)
	p := tr.pol
	if cfg.Feedback.LogPolicy == LogReference {
		p = policy.New(w.features)
	}
	memOn := tr.memoryActive(t)
	// The served policy's logits are affine in memory: the cells' at
	// memory 0 and the memory block's, once; without memory each cell's
	// probabilities are fixed.
	for c := 0; c < C; c++ {
		p.Logits(fb.logits[c*A:c*A+A], tr.context(c, 0))
	}
	copy(fb.probs, fb.logits)
	softmaxRows(fb.probs, A)
	memFree := false // whether the memory block is zero
	if memOn && w.memDim > 0 {
		p.Logits(fb.memLogits, tr.context(0, 1))
		memFree = true
		for a := range fb.memLogits {
			fb.memLogits[a] -= fb.logits[a]
			memFree = memFree && fb.memLogits[a] == 0
		}
	}
	if memFree {
		// Memory has not been trained on yet (as at a first deployment
		// that turns it on): m times the block is +-0, which changes a
		// logit at most in a zero's sign, which no exponential sees, so a
		// user's softmax in a cell is the same bits at every stance,
		// taken once per cell.
		for c := 0; c < C; c++ {
			fb.cellSum[c] = fb.userExp(fb.cellExp[c*A:c*A+A], c, 1)
		}
	}
	seed := uint64(cfg.Feedback.Seed)
	if seed == 0 {
		seed = cfg.Seed
	}
	rng := newDraws(seed, streamFeedback+uint64(round))
	fb.thumbs, fb.held = fb.thumbs[:0], fb.held[:0]
	perUser := len(fb.rm) > 0 && w.memDim > 0 // thumbs kept one by one, with their stance
	if len(fb.rm) > 0 && !perUser {
		for c := 0; c < C; c++ {
			for a := 0; a < A; a++ {
				fb.thumbs = append(fb.thumbs, reward.ThumbCounts{Cell: c, Action: a})
			}
		}
	}
	rate := cfg.Memory.Rate
	logged := len(fb.rm) > 0 // whether thumbs are logged (for the reward models)
	for i := 0; i < cfg.Feedback.LogSize; i++ {
		// Five draws a conversation, whatever happens in it: the thumb's
		// two, if no thumb is logged, skipped in one step of the stream.
		u := rng.IntN(len(w.userSeg))
		st := w.sampleSituation(rng.Bits53())
		uResp := rng.Float64()
		var uThumb, uUp float64
		if logged {
			uThumb, uUp = rng.Float64(), rng.Float64()
		} else {
			rng.Skip2()
		}
		c, seg := w.sitCell[st], w.userSeg[u]
		m, a := 0.0, 0
		if memOn {
			m = tr.mem[u]
		}
		if w.memDim > 0 && m != 0 {
			// The user's own softmax, sampled without normalising it.
			l, sum := fb.cellExp[c*A:c*A+A], fb.cellSum[c]
			if !memFree {
				l = fb.userL
				sum = fb.userExp(l, c, m)
			}
			a = sampleIndex(l, uResp*sum)
		} else {
			a = sampleIndex(fb.probs[c*A:c*A+A], uResp)
		}
		o := &w.outcome[w.sitTruth[st]][seg][a]
		if memOn {
			tr.mem[u] += rate * (w.memoryTarget(seg, o.Sycophantic) - tr.mem[u])
		}
		if !logged || uThumb >= o.FeedbackRate {
			continue
		}
		up := uUp < o.ThumbsUp
		switch {
		case i%heldOutEvery == heldOutEvery-1:
			fb.held = append(fb.held, loggedThumb{c, a, m, up})
		case perUser:
			d := reward.ThumbCounts{Cell: c, Action: a, Memory: m}
			if up {
				d.Ups = 1
			} else {
				d.Downs = 1
			}
			fb.thumbs = append(fb.thumbs, d)
		case up:
			fb.thumbs[c*A+a].Ups++
		default:
			fb.thumbs[c*A+a].Downs++
		}
	}
	for k, i := range fb.rm {
		sig := w.sigs[i]
		model, err := reward.FitThumbsModel(C, A, w.memDim > 0, fb.thumbs, sig.Spec.L2)
		if err != nil {
			return fmt.Errorf("deployment at step %d: signal %s: %w", t, sig.Name, err)
		}
		sig.SetModel(model)
		w.signalChanged(i)
		fb.accuracy[k] = heldOutAccuracy(model, fb.held)
		fb.agreement[k] = tr.agreement(model)
	}
	return nil
}

// userExp writes into l the exponentials of the served policy's logits in
// cell c for a user of remembered stance m, shifted by their maximum, and
// returns their sum: the user's softmax, not normalised.
func (fb *feedbackLoop) userExp(l []float64, c int, m float64) float64 {
	A := len(l)
	for k := range l {
		l[k] = fb.logits[c*A+k] + m*fb.memLogits[k]
	}
	mx := maxOf(l)
	for k := range l {
		l[k] -= mx
	}
	vmath.Exp(l, l)
	sum := 0.0
	for _, v := range l {
		sum += v
	}
	return sum
}

// heldOutAccuracy is the reward model's pairwise accuracy on the held-out
// thumbs: the share of (up, down) pairs whose up it scores above the down,
// ties counting half (the area under the ROC curve, the accuracy RLHF
// reports for reward models on held-out preferences); 0 without a pair.
func heldOutAccuracy(m *reward.ThumbsModel, held []loggedThumb) float64 {
	type scored struct {
		s  float64
		up bool
	}
	xs := make([]scored, len(held))
	nUp := 0
	for i, h := range held {
		xs[i] = scored{m.Score(h.cell, h.action, h.mem), h.up}
		if h.up {
			nUp++
		}
	}
	nDown := len(xs) - nUp
	if nUp == 0 || nDown == 0 {
		return 0
	}
	slices.SortStableFunc(xs, func(a, b scored) int { return cmp.Compare(a.s, b.s) })
	// Mann-Whitney: for each up, the downs scored below it, and half those
	// tied with it.
	pairs, below := 0.0, 0
	for i := 0; i < len(xs); {
		j, ups, downs := i, 0, 0
		for ; j < len(xs) && xs[j].s == xs[i].s; j++ {
			if xs[j].up {
				ups++
			} else {
				downs++
			}
		}
		pairs += float64(ups) * (float64(below) + float64(downs)/2)
		below += downs
		i = j
	}
	return pairs / (float64(nUp) * float64(nDown))
}

// agreement is the share of response pairs, in each cell weighted by its
// traffic, that m ranks as the population does: by the thumbs-up rate of
// the users who give thumbs in that cell, over the situations it holds
// (ties count half). The model is read at the thumb-givers' mean
// remembered stance.
func (tr *trainer) agreement(m *reward.ThumbsModel) float64 {
	w := tr.w
	A, C := len(w.responses), len(w.cellProb)
	up := w.populationUp()
	memBar, fbSum := 0.0, 0.0
	for u, s := range w.userSeg {
		memBar += w.feedback[s] * tr.mem[u]
		fbSum += w.feedback[s]
	}
	memBar = ratio(memBar, fbSum)
	total, agree := 0.0, 0.0
	for c := 0; c < C; c++ {
		if w.cellProb[c] == 0 {
			continue
		}
		for a := 0; a < A; a++ {
			for b := a + 1; b < A; b++ {
				d1 := up[c*A+a] - up[c*A+b]
				d2 := m.Score(c, a, memBar) - m.Score(c, b, memBar)
				switch {
				case d1*d2 > 0:
					agree += w.cellProb[c]
				case d1 == 0 || d2 == 0:
					agree += w.cellProb[c] / 2
				}
				total += w.cellProb[c]
			}
		}
	}
	return ratio(agree, total)
}

// populationUp returns, per cell and response, P(up | a thumb) among the
// users who give thumbs in that cell: the truth and the segments weighted
// by traffic, segment size and feedback rate. It is what a reward model of
// the cell and the response learns from an unlimited log.
func (w *world) populationUp() []float64 {
	A, C := len(w.responses), len(w.cellProb)
	num, den := make([]float64, C*A), make([]float64, C*A)
	for st, ps := range w.sitProb {
		c := w.sitCell[st]
		for s, n := range w.segUsers {
			for a := 0; a < A; a++ {
				o := &w.outcome[w.sitTruth[st]][s][a]
				f := ps * float64(n) * o.FeedbackRate
				num[c*A+a] += f * o.ThumbsUp
				den[c*A+a] += f
			}
		}
	}
	for k := range num {
		num[k] = ratio(num[k], den[k])
	}
	return num
}

// populationThumbsModel is the reward model an unlimited log would give
// (without memory): each cell and response scored by the log-odds of the
// population's thumbs-up rate there. The closed-form optimum uses it.
func (w *world) populationThumbsModel() *reward.ThumbsModel {
	A, C := len(w.responses), len(w.cellProb)
	m := &reward.ThumbsModel{Cells: C, Actions: A, Memory: w.memDim > 0, Coef: make([]float64, C*A+w.memDim*A)}
	for k, p := range w.populationUp() {
		m.Coef[k] = logit(p)
	}
	return m
}
