package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"

	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim/internal/vmath"
)

// Result is a finished run: every metric at every step 0..Steps, in the
// order of Metrics, and the before/after summary.
type Result struct {
	Metrics []string
	Values  [][]float64 // Values[step][metric]
	Summary Summary
	// Policy is the trained policy (theta = 0 is the frozen reference).
	Policy *policy.Policy
	// Incumbent is the policy at train.update_step-1, before the update.
	Incumbent *policy.Policy
	// Review is the release review of Policy against Incumbent, nil when
	// review.enabled is false; Deployment is what its launch cost, nil
	// unless the review let it launch.
	Review     *Review
	Deployment *Deployment

	cfg   *Config
	world *world
	mem   []float64 // remembered stances at the end, nil without memory
}

// Rejudge reviews the run's candidate again under cfg, which may differ from
// the run's config only in [review] and [deployment] (training is not
// repeated). It returns an error naming the first other difference.
func (r *Result) Rejudge(cfg *Config) (*Review, *Deployment, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	same := cfg.Clone()
	same.Review, same.Deployment = r.cfg.Review, r.cfg.Deployment
	if !reflect.DeepEqual(same, r.cfg) {
		return nil, nil, errors.New("sim: Rejudge: the config differs from the run's outside [review] and [deployment]")
	}
	rev, dep := release(r.world, r.Policy, r.Incumbent, r.mem, cfg)
	return rev, dep, nil
}

// Summary holds every metric at three steps: the last step trained with the
// old mix (before), the first step under the new mix (at_update: its
// influence figures describe the first update the new mix makes) and the
// final step (after).
type Summary struct {
	Name       string             `json:"name"`
	Seed       uint64             `json:"seed"`
	Algorithm  string             `json:"algorithm"`
	Steps      int                `json:"steps"`
	UpdateStep int                `json:"update_step"`
	Primary    string             `json:"primary_signal"`
	Segments   []string           `json:"segments"`
	Signals    []string           `json:"signals"`
	BeforeStep int                `json:"before_step"`
	AfterStep  int                `json:"after_step"`
	Before     map[string]float64 `json:"before"`
	AtUpdate   map[string]float64 `json:"at_update"`
	After      map[string]float64 `json:"after"`
}

// Value returns metric m at step, or NaN if there is no such metric.
func (r *Result) Value(step int, m string) float64 {
	for k, n := range r.Metrics {
		if n == m {
			return r.Values[step][k]
		}
	}
	return math.NaN()
}

// Series returns metric m over all steps, or nil.
func (r *Result) Series(m string) []float64 {
	for k, n := range r.Metrics {
		if n == m {
			s := make([]float64, len(r.Values))
			for t, row := range r.Values {
				s[t] = row[k]
			}
			return s
		}
	}
	return nil
}

// DivergedError reports a run whose parameters stopped being finite.
type DivergedError struct{ Step int }

func (e *DivergedError) Error() string {
	return fmt.Sprintf("training diverged at step %d (non-finite parameters or metrics); lower train.learning_rate", e.Step)
}

// Run validates cfg, trains the policy and returns every metric at every
// step. It is deterministic: the same cfg gives the same Result. It returns
// ctx.Err() if ctx is cancelled.
func Run(ctx context.Context, cfg *Config) (*Result, error) {
	return RunWith(ctx, cfg, Options{})
}

// Options are the optional hooks of RunWith.
type Options struct {
	// OnBatch, if set, is called at every step with the prompts the trainer
	// drew (users[n], cells[n], in batch order), so that a peer
	// implementation can replay them. The slices are reused: copy what you
	// keep. It is not called for a full batch (batch_size = 0), which draws
	// nothing.
	OnBatch func(step int, users, cells []int)
}

// RunWith is Run with hooks.
func RunWith(ctx context.Context, cfg *Config, opt Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr, err := newTrainer(cfg)
	if err != nil {
		return nil, err
	}
	tr.onBatch = opt.OnBatch
	T := cfg.Train.Steps
	res := &Result{Metrics: tr.metricNames(), Values: make([][]float64, T+1)}
	M := len(res.Metrics)
	values := make([]float64, (T+1)*M) // one block for every row
	for t := 0; t <= T; t++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row := values[t*M : t*M+M : t*M+M]
		tr.evaluate(row, t)
		if t == cfg.Train.UpdateStep-1 {
			res.Incumbent = tr.pol.Clone()
		}
		tr.step(t, row, t < T)
		res.Values[t] = row
		if !finite(tr.pol.Theta) || !finite(row) {
			return nil, &DivergedError{Step: t}
		}
	}
	res.Policy = tr.pol
	res.Summary = tr.summary(res)
	res.cfg, res.world = cfg.Clone(), tr.w
	if tr.memoryActive(T) {
		res.mem = tr.mem
	}
	if cfg.Review.Enabled {
		res.Review, res.Deployment = release(tr.w, res.Policy, res.Incumbent, res.mem, cfg)
	}
	return res, nil
}

func finite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// trainer holds one run's state and reusable workspaces.
type trainer struct {
	w   *world
	cfg *Config
	rng *rand.Rand
	pol *policy.Policy
	ref []float64
	mem []float64 // remembered stance per user

	weights []float64   // effective weights at the current step
	grads   [][]float64 // per signal, then the KL term last
	total   []float64
	adamM   []float64
	adamV   []float64

	// workspaces
	probs, coef, memv []float64
	logits, logRef    []float64
	// The expected step's per-prompt probabilities and logits, and its
	// coefficient sums per signal (then KL): by cell, and by memory, all
	// in coefFlat (cleared after each step).
	batchProbs, batchLogits []float64
	stepLogits              []float64 // per cell at memory 0, then per unit of memory
	cellCoef, memCoef       [][][]float64
	coefFlat                []float64
	batch4                  *batch4     // expectedBatch4's arguments
	r, adv                  [][]float64 // [signal][sample]
	sampleP                 []float64
	batch                   []batchItem

	onBatch        func(step int, users, cells []int)
	traceU, traceC []int
	curStep        int         // the step being computed
	norms          []float64   // per signal and KL: gradient norms (decompose)
	actions        []int       // a GRPO group's sampled responses
	cellProbs      [][]float64 // policy at memory 0, per cell
	eval           evalWork

	idx metricIndex
}

type batchItem struct {
	user, cell int
	mem        float64
	probs      []float64
	action     int
	syc        float64
}

func newTrainer(cfg *Config) (*trainer, error) {
	w, err := newWorld(cfg)
	if err != nil {
		return nil, err
	}
	S := len(w.sigs)
	A := len(w.responses)
	tr := &trainer{
		w:   w,
		cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		pol: policy.New(w.features),
		mem: make([]float64, len(w.userSeg)),
	}
	D := tr.pol.Dim()
	tr.ref = make([]float64, A)
	tr.pol.RefProbs(tr.ref)
	tr.weights = make([]float64, S)
	tr.grads = make([][]float64, S+1)
	for i := range tr.grads {
		tr.grads[i] = make([]float64, D)
	}
	tr.total = make([]float64, D)
	if cfg.Train.Optimizer == "adam" {
		tr.adamM = make([]float64, D)
		tr.adamV = make([]float64, D)
	}
	tr.probs = make([]float64, A)
	tr.coef = make([]float64, A)
	tr.logits = make([]float64, A)
	tr.logRef = make([]float64, A)
	for a, r := range tr.ref {
		tr.logRef[a] = math.Log(r)
	}
	tr.memv = make([]float64, 1)
	n := A
	switch cfg.Train.Algorithm {
	case "reinforce":
		n = cfg.Train.BatchSize
	case "grpo":
		n = cfg.Train.GroupSize
	}
	tr.r = make([][]float64, S)
	tr.adv = make([][]float64, S)
	for i := range tr.r {
		tr.r[i] = make([]float64, n)
		tr.adv[i] = make([]float64, n)
	}
	tr.sampleP = make([]float64, n)
	nb := cfg.Train.BatchSize
	if nb == 0 {
		nb = len(w.userSeg)
	}
	tr.batch = make([]batchItem, nb)
	tr.batchProbs = make([]float64, nb*A) // the items' probs, consecutive
	for i := range tr.batch {
		tr.batch[i].probs = tr.batchProbs[i*A : i*A+A : i*A+A]
	}
	tr.batchLogits = make([]float64, nb*A)
	tr.stepLogits = make([]float64, (len(w.cellProb)+1)*A)
	// The coefficient sums, each in one flat array by signal, cell (or
	// memory component) and response.
	C := len(w.cellProb)
	tr.coefFlat = make([]float64, (S+1)*(C+w.memDim)*A)
	cellFlat, memFlat := tr.coefFlat[:(S+1)*C*A], tr.coefFlat[(S+1)*C*A:]
	tr.cellCoef, tr.memCoef = make([][][]float64, S+1), make([][][]float64, S+1)
	for i := range tr.cellCoef {
		tr.cellCoef[i] = make([][]float64, C)
		for c := range tr.cellCoef[i] {
			k := (i*C + c) * A
			tr.cellCoef[i][c] = cellFlat[k : k+A : k+A]
		}
		tr.memCoef[i] = make([][]float64, w.memDim)
		for j := range tr.memCoef[i] {
			k := (i*w.memDim + j) * A
			tr.memCoef[i][j] = memFlat[k : k+A : k+A]
		}
	}
	if cfg.Train.Algorithm == "expected" && cfg.Train.Aggregation == reward.AggNone {
		tr.batch4 = newBatch4(w, nb, cellFlat, memFlat) // nil unless four responses
	}
	tr.cellProbs = make([][]float64, len(w.cellProb))
	for c := range tr.cellProbs {
		tr.cellProbs[c] = make([]float64, A)
	}
	tr.idx = newMetricIndex(w)
	tr.eval = newEvalWork(w)
	tr.norms = make([]float64, S+1)
	tr.actions = make([]int, cfg.Train.GroupSize)
	return tr, nil
}

func (tr *trainer) memoryActive(t int) bool {
	return tr.cfg.Memory.Enabled && t >= tr.cfg.Memory.StartStep
}

func (tr *trainer) context(cell int, m float64) policy.Context {
	x := policy.Context{Cell: cell}
	if tr.w.memDim > 0 {
		tr.memv[0] = m
		x.Memory = tr.memv
	}
	return x
}

// draw samples the user and cell of one prompt.
func (tr *trainer) draw(t int) (user, cell int, m float64) {
	user = tr.rng.IntN(len(tr.w.userSeg))
	cell = tr.w.sampleCell(tr.rng.Float64())
	if tr.memoryActive(t) {
		m = tr.mem[user]
	}
	return
}

// step computes the update at step t, writes its decomposition into row
// (influence and alignment per signal, the KL share and the gradient norm)
// and applies it when apply is true.
func (tr *trainer) step(t int, row []float64, apply bool) {
	tr.curStep = t
	w := tr.w
	cfg := &tr.cfg.Train
	reward.EffectiveWeights(tr.weights, w.specs, t, cfg.Weights)
	for _, g := range tr.grads {
		zero(g)
	}
	B := len(tr.batch) // prompts, or users in a full batch (whose cell weights sum to 1)
	switch cfg.Algorithm {
	case "expected":
		tr.stepExpected(t)
	case "reinforce":
		tr.stepReinforce(t)
	case "grpo":
		tr.stepGRPO(t)
	}
	if tr.onBatch != nil && cfg.BatchSize > 0 {
		tr.traceU, tr.traceC = tr.traceU[:0], tr.traceC[:0]
		for _, b := range tr.batch {
			tr.traceU = append(tr.traceU, b.user)
			tr.traceC = append(tr.traceC, b.cell)
		}
		tr.onBatch(t, tr.traceU, tr.traceC)
	}
	S := len(w.sigs)
	inv := 1 / float64(B)
	for i := 0; i < S; i++ {
		scale(tr.grads[i], inv)
	}
	scale(tr.grads[S], -cfg.Beta*inv)
	zero(tr.total)
	for _, g := range tr.grads {
		for j, v := range g {
			tr.total[j] += v
		}
	}
	tr.decompose(row)
	if apply {
		tr.apply(t)
		if tr.memoryActive(t) {
			r := tr.cfg.Memory.Rate
			for _, b := range tr.batch {
				seg := w.userSeg[b.user]
				tr.mem[b.user] += r * (w.memoryTarget(seg, b.syc) - tr.mem[b.user])
			}
		}
	}
}

// outcome returns the outcome of response a in cell for user, with the
// user's remembered stance filled in.
func (tr *trainer) outcome(cell, user, a int, m float64) reward.Outcome {
	o := tr.w.outcome[cell][tr.w.userSeg[user]][a]
	o.Memory = m
	return o
}

// addKL adds the gradient of KL(pi(.|x) || ref) to the KL accumulator.
func (tr *trainer) addKL(x policy.Context, probs []float64) {
	policy.KLCoef(tr.coef, probs, tr.ref)
	tr.pol.AddScore(tr.grads[len(tr.grads)-1], x, tr.coef)
}

// stepExpected: the exact expectation over responses for each sampled
// prompt; advantages are taken with pi(.|x) as the group weights.
func (tr *trainer) stepExpected(t int) {
	if tr.cfg.Train.BatchSize == 0 { // full batch: every user, every cell
		memOn := tr.memoryActive(t)
		for u := range tr.batch {
			m := 0.0
			if memOn {
				m = tr.mem[u]
			}
			syc := 0.0
			for c, pc := range tr.w.cellProb {
				if pc > 0 {
					tr.promptProbs(tr.probs, tr.logits, u, c, m)
					syc += pc * tr.expectedPrompt(u, c, m, pc, tr.probs, tr.logits)
				}
			}
			tr.batch[u].user, tr.batch[u].syc = u, syc
		}
	} else {
		A := len(tr.w.responses)
		for n := range tr.batch {
			b := &tr.batch[n]
			b.user, b.cell, b.mem = tr.draw(t)
		}
		tr.computeBatchProbs()
		if tr.batch4 != nil {
			tr.expectedBatch4()
		} else {
			for n := range tr.batch {
				b := &tr.batch[n]
				b.syc = tr.expectedPrompt(b.user, b.cell, b.mem, 1, b.probs, tr.batchLogits[n*A:n*A+A])
			}
		}
	}
	for i, g := range tr.grads {
		tr.pol.AddScoreSums(g, tr.cellCoef[i], tr.memCoef[i])
	}
	zero(tr.coefFlat)
}

// promptProbs writes pi(.|x) and the logits of one prompt.
func (tr *trainer) promptProbs(probs, logits []float64, user, cell int, m float64) {
	if !tr.probsFromEvaluation(probs, logits, user, cell, m) {
		tr.pol.Logits(logits, tr.context(cell, m))
		copy(probs, logits)
		policy.Softmax(probs)
	}
}

// computeBatchProbs writes every prompt's pi(.|x) into its probs and its logits
// into tr.batchLogits: from evaluate's factors where it ran at this step,
// else by a softmax whose exponentials are taken all at once.
func (tr *trainer) computeBatchProbs() {
	A := len(tr.w.responses)
	if tr.eval.step == tr.curStep {
		for n := range tr.batch {
			b := &tr.batch[n]
			tr.promptProbs(b.probs, tr.batchLogits[n*A:n*A+A], b.user, b.cell, b.mem)
		}
		return
	}
	// Logits are affine in memory: the cells' at memory 0, plus m times
	// the memory block's.
	C := len(tr.w.cellProb)
	cellL, memL := tr.stepLogits[:C*A], tr.stepLogits[C*A:]
	for c := 0; c < C; c++ {
		tr.pol.Logits(cellL[c*A:c*A+A], tr.context(c, 0))
	}
	if tr.w.memDim > 0 {
		tr.pol.Logits(memL, tr.context(0, 1))
		for a := range memL {
			memL[a] -= cellL[a]
		}
	}
	for n := range tr.batch {
		b := &tr.batch[n]
		l, cl := tr.batchLogits[n*A:n*A+A], cellL[b.cell*A:b.cell*A+A]
		if b.mem == 0 {
			copy(l, cl)
		} else {
			for a := range l {
				l[a] = cl[a] + b.mem*memL[a]
			}
		}
	}
	copy(tr.batchProbs, tr.batchLogits) // the items' probs are consecutive in it
	softmaxRows(tr.batchProbs, A)
}

// expectedPrompt adds weight times the exact gradient, over responses, of
// one prompt's objective to the per-signal and KL coefficient sums (by
// cell and by memory, for policy.AddScoreSums), and returns P(sycophantic)
// under the policy for that prompt, whose pi and logits it is given.
func (tr *trainer) expectedPrompt(user, cell int, m, weight float64, probs, logits []float64) float64 {
	w := tr.w
	A := len(w.responses)
	probs, logits = probs[:A], logits[:A]
	r0, slope := w.signalRewards(cell, w.userSeg[user])
	out := w.outcome[cell][0]
	syc := 0.0
	for a, p := range probs {
		syc += p * out[a].Sycophantic
	}
	mem := w.memDim > 0 && m != 0
	if tr.cfg.Train.Aggregation == reward.AggNone {
		tr.addRewardCoefNone(cell, m, weight, probs, r0, slope, mem)
	} else {
		for i, wi := range tr.weights {
			if wi != 0 { // rewards are affine in memory
				ri, b0, bs := tr.r[i][:A], r0[i*A:i*A+A], slope[i*A:i*A+A]
				for a := range ri {
					ri[a] = b0[a] + m*bs[a]
				}
			}
		}
		reward.Advantages(tr.adv, tr.r, tr.weights, probs, tr.cfg.Train.Aggregation)
		for i, wi := range tr.weights {
			if wi != 0 {
				tr.addCoef(i, cell, mem, m, weight, probs, tr.adv[i][:A])
			}
		}
	}
	// KL gradient: sum_a pi_a (v_a - KL) phi_a with v_a = log(pi_a/ref_a)
	// = l_a - lse - log ref_a; lse cancels in v_a - KL, so no log is taken.
	kl := 0.0
	v := tr.coef[:A]
	for a, p := range probs {
		v[a] = logits[a] - tr.logRef[a]
		kl += p * v[a]
	}
	for a := range v {
		v[a] -= kl
	}
	tr.addCoef(len(tr.weights), cell, mem, m, weight, probs, v)
	return syc
}

// addCoef adds weight pi_a x_a to the coefficient sums of signal i (the
// KL penalty after the signals) in cell and, if mem, m times it to its
// memory sums.
func (tr *trainer) addCoef(i, cell int, mem bool, m, weight float64, probs, x []float64) {
	cs := tr.cellCoef[i][cell][:len(probs)]
	if !mem {
		for a, p := range probs {
			cs[a] += weight * p * x[a]
		}
		return
	}
	ms := tr.memCoef[i][0][:len(probs)]
	for a, p := range probs {
		c := weight * p * x[a]
		cs[a] += c
		ms[a] += m * c
	}
}

// addRewardCoefNone is expectedPrompt's reward part for aggregation none,
// reward.Advantages fused into it (the same operations in the same order):
// signal i's advantage is w_i (r_ia - sum_b pi_b r_ib), and its
// coefficient weight pi_a times that, added by cell and, if mem, by memory.
func (tr *trainer) addRewardCoefNone(cell int, m, weight float64, probs, r0, slope []float64, mem bool) {
	A := len(probs)
	r := tr.r[0][:A]
	for i, wi := range tr.weights {
		if wi == 0 {
			continue
		}
		b0, bs := r0[i*A:i*A+A], slope[i*A:i*A+A]
		mean := 0.0
		for a, p := range probs {
			v := b0[a] + m*bs[a] // rewards are affine in memory
			r[a] = v
			mean += p * v
		}
		for a := range r {
			r[a] = wi * (r[a] - mean)
		}
		tr.addCoef(i, cell, mem, m, weight, probs, r)
	}
}

// probsFromEvaluation fills logits and probs for a prompt from the factors
// that evaluate computed for this step (same parameters, same memory),
// saving the exponentials; it returns false if there are none.
func (tr *trainer) probsFromEvaluation(probs, logits []float64, user, cell int, m float64) bool {
	e := &tr.eval
	if e.step != tr.curStep {
		return false
	}
	A := len(probs)
	if !e.memOn {
		copy(logits, e.cellLogits[cell])
		copy(probs, tr.cellProbs[cell])
		return true
	}
	ue, ce, cl := e.userExp[user*A:user*A+A], e.cellExp[cell][:A], e.cellLogits[cell][:A]
	sum := 0.0
	for a := range probs {
		q := ce[a] * ue[a]
		probs[a] = q
		sum += q
		logits[a] = cl[a] + m*e.memLogits[a]
	}
	if !(sum > vmath.MinSum) {
		return false
	}
	inv := 1 / sum
	for a := range probs {
		probs[a] *= inv
	}
	return true
}

// stepReinforce: one sampled response per prompt, advantages over the whole
// batch (the batch mean is the baseline).
func (tr *trainer) stepReinforce(t int) {
	w := tr.w
	A := len(w.responses)
	B := len(tr.batch)
	for n := range tr.batch {
		b := &tr.batch[n]
		b.user, b.cell, b.mem = tr.draw(t)
		x := tr.context(b.cell, b.mem)
		tr.pol.Probs(b.probs, x)
		b.action = sampleIndex(b.probs, tr.rng.Float64())
		o := tr.outcome(b.cell, b.user, b.action, b.mem)
		b.syc = o.Sycophantic
		for i, sig := range w.sigs {
			tr.r[i][n] = 0
			if tr.weights[i] != 0 {
				tr.r[i][n] = sig.Sample(&o, tr.rng)
			}
		}
		tr.sampleP[n] = 1 / float64(B)
	}
	reward.Advantages(tr.adv, tr.r, tr.weights, tr.sampleP, tr.cfg.Train.Aggregation)
	for n := range tr.batch {
		b := &tr.batch[n]
		x := tr.context(b.cell, b.mem)
		for i := range w.sigs {
			if tr.weights[i] == 0 || tr.adv[i][n] == 0 {
				continue
			}
			scoreOfAction(tr.coef[:A], b.probs, b.action, tr.adv[i][n])
			tr.pol.AddScore(tr.grads[i], x, tr.coef)
		}
		tr.addKL(x, b.probs)
	}
}

// stepGRPO: GroupSize sampled responses per prompt, advantages normalised
// within each group. As in GRPO, the group mean includes the sample itself,
// which scales the expected reward gradient by (G-1)/G relative to the
// exact KL term.
func (tr *trainer) stepGRPO(t int) {
	w := tr.w
	A := len(w.responses)
	G := tr.cfg.Train.GroupSize
	actions := tr.actions
	for g := range tr.sampleP {
		tr.sampleP[g] = 1 / float64(G)
	}
	for n := range tr.batch {
		b := &tr.batch[n]
		b.user, b.cell, b.mem = tr.draw(t)
		x := tr.context(b.cell, b.mem)
		tr.pol.Probs(b.probs, x)
		b.syc = 0
		for g := 0; g < G; g++ {
			a := sampleIndex(b.probs, tr.rng.Float64())
			actions[g] = a
			o := tr.outcome(b.cell, b.user, a, b.mem)
			b.syc += o.Sycophantic / float64(G)
			for i, sig := range w.sigs {
				tr.r[i][g] = 0
				if tr.weights[i] != 0 {
					tr.r[i][g] = sig.Sample(&o, tr.rng)
				}
			}
		}
		reward.Advantages(tr.adv, tr.r, tr.weights, tr.sampleP, tr.cfg.Train.Aggregation)
		for i := range w.sigs {
			if tr.weights[i] == 0 {
				continue
			}
			// sum_g A_g (e_{a_g} - pi) / G
			zero(tr.coef[:A])
			sumA := 0.0
			for g, a := range actions {
				tr.coef[a] += tr.adv[i][g]
				sumA += tr.adv[i][g]
			}
			for a := 0; a < A; a++ {
				tr.coef[a] = (tr.coef[a] - b.probs[a]*sumA) / float64(G)
			}
			tr.pol.AddScore(tr.grads[i], x, tr.coef)
		}
		tr.addKL(x, b.probs)
	}
}

// scoreOfAction writes adv * (e_action - probs): the coefficients of
// adv * grad log pi(action|x).
func scoreOfAction(dst, probs []float64, action int, adv float64) {
	for a, p := range probs {
		dst[a] = -adv * p
	}
	dst[action] += adv
}

func sampleIndex(p []float64, u float64) int {
	c := 0.0
	for i, v := range p {
		c += v
		if u < c {
			return i
		}
	}
	return len(p) - 1
}

// apply takes one ascent step along the total gradient.
func (tr *trainer) apply(t int) {
	lr := tr.cfg.Train.LearningRate
	th := tr.pol.Theta
	if tr.adamM == nil {
		for j, g := range tr.total {
			th[j] += lr * g
		}
		return
	}
	const b1, b2, eps = 0.9, 0.999, 1e-8
	c1 := 1 - math.Pow(b1, float64(t+1))
	c2 := 1 - math.Pow(b2, float64(t+1))
	for j, g := range tr.total {
		tr.adamM[j] = b1*tr.adamM[j] + (1-b1)*g
		tr.adamV[j] = b2*tr.adamV[j] + (1-b2)*g*g
		th[j] += lr * (tr.adamM[j] / c1) / (math.Sqrt(tr.adamV[j]/c2) + eps)
	}
}

func zero(x []float64) {
	for i := range x {
		x[i] = 0
	}
}

func scale(x []float64, s float64) {
	for i := range x {
		x[i] *= s
	}
}

func dot(x, y []float64) float64 {
	s := 0.0
	for i, v := range x {
		s += v * y[i]
	}
	return s
}
