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
	Algorithm  Algorithm          `json:"algorithm"`
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
	// drew (users[n] and situations[n], in batch order: a situation is a
	// context, whether the user's stance is wrong and the cue the model
	// sees, numbered by context, truth and cue over those of positive
	// probability), so that a peer implementation can replay them. The
	// slices are reused: copy what you keep. It is not called for a full
	// batch (batch_size = 0), which draws nothing.
	OnBatch func(step int, users, situations []int)
	// OnDeploy, if set, is called after each deployment (see
	// Config.Feedback) with its step and the users' remembered stances it
	// left, which training holds until the next one. The slice is the
	// run's own: copy it.
	OnDeploy func(step int, memory []float64)
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
	tr.onBatch, tr.onDeploy = opt.OnBatch, opt.OnDeploy
	T := cfg.Train.Steps
	res := &Result{Metrics: tr.metricNames(), Values: make([][]float64, T+1)}
	M := len(res.Metrics)
	values := make([]float64, (T+1)*M) // one block for every row
	for t := 0; t <= T; t++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row := values[t*M : t*M+M : t*M+M]
		if err := tr.deployIfDue(t); err != nil {
			return nil, err
		}
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
	rng *rand.Rand // over src
	src draws
	pol *policy.Policy
	ref []float64 // pi_ref
	mem []float64 // remembered stance per user
	// memSums is mem summed over each segment's users, in order; it
	// changes only at deployments (updateMemSums).
	memSums []float64

	logRef  []float64   // log pi_ref
	weights []float64   // effective weights at the current step
	grads   [][]float64 // per signal, then the KL term last
	total   []float64
	adamM   []float64
	adamV   []float64

	// workspaces
	coef, memv []float64
	// The sampled prompts' pi(.|x) and logits, row after row (the items'
	// probs are views of batchProbs); the expected step's rows, which may
	// be fewer than the prompts (see stepExpected).
	batchProbs, batchLogits []float64
	ex                      expectedWork // the expected step's rows and sums
	r, adv                  [][]float64  // [signal][sample]
	sampleP                 []float64
	agg                     *reward.Aggregator // the step's advantages, batch scale and shares
	shares                  []float64          // [signal]: advantage shares of the step
	shareCov                []float64          // [signal]: shareRows' covariances (expected, aggregation none)
	batch                   []batchItem

	onBatch        func(step int, users, situations []int)
	onDeploy       func(step int, memory []float64)
	traceU, traceS []int
	curStep        int         // the step being computed
	norms          []float64   // per signal and KL: gradient norms (decompose)
	actions        []int       // a GRPO group's sampled responses
	cellProbs      [][]float64 // policy at memory 0, per cell
	eval           evalWork
	fb             feedbackLoop

	idx metricIndex
}

type batchItem struct {
	user, sit int // the user, and the prompt's situation
	cell      int // the cell the policy sees (world.sitCell[sit])
	mem       float64
	probs     []float64
	action    int
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
		src: newDraws(cfg.Seed, 0x9e3779b97f4a7c15),
		pol: policy.New(w.features),
		mem: make([]float64, len(w.userSeg)), memSums: make([]float64, len(w.segments)),
	}
	tr.rng = rand.New(tr.src.src) // for the signals' draws: the same stream
	D := tr.pol.Dim()
	tr.ref = make([]float64, A)
	tr.pol.RefProbs(tr.ref)
	tr.weights = make([]float64, S)
	tr.grads = make([][]float64, S+1)
	for i := range tr.grads {
		tr.grads[i] = make([]float64, D)
	}
	tr.total = make([]float64, D)
	if cfg.Train.Optimizer == OptimizerAdam {
		tr.adamM = make([]float64, D)
		tr.adamV = make([]float64, D)
	}
	tr.logRef = make([]float64, A)
	for a, r := range tr.ref {
		tr.logRef[a] = math.Log(r)
	}
	tr.coef = make([]float64, A)
	tr.memv = make([]float64, 1)
	n := A
	switch cfg.Train.Algorithm {
	case AlgorithmReinforce:
		n = cfg.Train.BatchSize
	case AlgorithmGRPO:
		n = cfg.Train.GroupSize
	}
	tr.r = make([][]float64, S)
	tr.adv = make([][]float64, S)
	for i := range tr.r {
		tr.r[i] = make([]float64, n)
		tr.adv[i] = make([]float64, n)
	}
	tr.sampleP = make([]float64, n)
	tr.agg = reward.NewAggregator(cfg.Train.Aggregation, cfg.Train.ScaleRewards, S)
	tr.shares, tr.shareCov = make([]float64, S), make([]float64, S)
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
	if cfg.Train.Algorithm == AlgorithmExpected {
		tr.ex = newExpectedWork(w, cfg.Train.BatchSize, tr.batchProbs, tr.batchLogits)
	}
	tr.cellProbs = make([][]float64, len(w.cellProb))
	for c := range tr.cellProbs {
		tr.cellProbs[c] = make([]float64, A)
	}
	tr.fb = newFeedbackLoop(w, cfg)
	tr.idx = newMetricIndex(cfg)
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

// draw samples the user and situation of prompt b.
func (tr *trainer) draw(t int, b *batchItem) {
	b.user = tr.src.IntN(len(tr.w.userSeg))
	b.sit = tr.w.sampleSituation(tr.src.Bits53())
	b.cell = tr.w.sitCell[b.sit]
	b.mem = 0
	if tr.memoryActive(t) {
		b.mem = tr.mem[b.user]
	}
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
	tr.agg.Reset(tr.weights)
	clear(tr.shareCov)
	switch cfg.Algorithm {
	case AlgorithmExpected:
		tr.stepExpected(t)
	case AlgorithmReinforce:
		tr.stepReinforce(t)
	case AlgorithmGRPO:
		tr.stepGRPO(t)
	}
	if tr.onBatch != nil && cfg.BatchSize > 0 {
		tr.traceU, tr.traceS = tr.traceU[:0], tr.traceS[:0]
		for _, b := range tr.batch {
			tr.traceU = append(tr.traceU, b.user)
			tr.traceS = append(tr.traceS, b.sit)
		}
		tr.onBatch(t, tr.traceU, tr.traceS)
	}
	S := len(w.sigs)
	inv := 1 / float64(B)
	// The batch's scale of every advantage (normalize_then_sum, or
	// sum_then_normalize over the batch) is known once all groups are in;
	// the signals' gradients are linear in it.
	b := tr.agg.BatchScale()
	for i := 0; i < S; i++ {
		scale(tr.grads[i], inv*b)
	}
	if cfg.Algorithm == AlgorithmExpected && cfg.Aggregation == reward.AggNone {
		shareOf(tr.shares, tr.shareCov)
	} else {
		tr.agg.Shares(tr.shares)
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
	}
}

// outcome returns the outcome of response a in situation sit for user,
// with the cell the model saw and the user's remembered stance filled in.
func (tr *trainer) outcome(sit, user, a int, m float64) reward.Outcome {
	w := tr.w
	o := w.outcome[w.sitTruth[sit]][w.userSeg[user]][a]
	o.Cell, o.Memory = w.sitCell[sit], m
	return o
}

// addKL adds the gradient of KL(pi(.|x) || ref) to the KL accumulator.
func (tr *trainer) addKL(x policy.Context, probs []float64) {
	policy.KLCoef(tr.coef, probs, tr.ref)
	tr.pol.AddScore(tr.grads[len(tr.grads)-1], x, tr.coef)
}

// stepExpected: the exact expectation over responses for each sampled
// prompt, or for every user in every cell (weighted by the cell's
// probability) in a full batch; advantages are taken with pi(.|x) as the
// group weights.
func (tr *trainer) stepExpected(t int) {
	w, ex := tr.w, &tr.ex
	A := len(w.responses)
	memOn := tr.memoryActive(t)
	ex.useSignals(w, tr.weights, tr.logRef)
	if tr.cfg.Train.BatchSize == 0 { // in blocks of whole users
		n := 0
		for u := range tr.batch {
			m := 0.0
			if memOn {
				m = tr.mem[u]
			}
			for st, ps := range w.sitProb {
				ex.setRow(w, n, u, st, m)
				ex.omega[n] = ps
				tr.promptProbs(ex.probs[n*A:n*A+A], ex.logits[n*A:n*A+A], u, w.sitCell[st], m)
				n++
			}
			tr.batch[u].user = u
			if n+len(w.sitProb) > len(ex.mem) || u == len(tr.batch)-1 {
				tr.expectedRows(n, memOn)
				n = 0
			}
		}
	} else {
		N := 0
		// Without memory a prompt's row depends only on its situation and
		// its user's segment, and under aggregation none rows do not
		// interact: each distinct prompt's row is computed once and
		// serves every prompt like it (rowOf), whose sums take it in batch
		// order, so that the gradient has the same bits.
		ex.distinct = !memOn && tr.cfg.Train.Aggregation == reward.AggNone
		for i := range ex.keyRow {
			ex.keyRow[i] = -1
		}
		for n := range tr.batch {
			b := &tr.batch[n]
			tr.draw(t, b)
			if !ex.distinct {
				ex.setRow(w, n, b.user, b.sit, b.mem) // weight 1, set once
				continue
			}
			k := b.sit*len(w.segments) + w.userSeg[b.user]
			if ex.keyRow[k] < 0 {
				ex.keyRow[k] = int32(N)
				ex.setRow(w, N, b.user, b.sit, 0)
				N++
			}
			ex.rowOf[n] = int(ex.keyRow[k])
		}
		if !ex.distinct {
			N = len(tr.batch)
		}
		tr.computeBatchProbs(N)
		tr.expectedRows(N, memOn)
	}
	for i, g := range tr.grads {
		tr.pol.AddScoreSums(g, ex.cellCoef[i], ex.memCoef[i])
	}
	zero(ex.coefFlat)
}

// expectedRows adds the exact gradient, over responses, of the first N
// rows' objectives to the coefficient sums (by cell, and by memory when
// memOn). Row n, with policy pi, logits l, remembered stance m
// and weight omega, gives slot i (a signal of weight w_i, or the KL term
// with weight 1) the coefficients
//
//	omega pi_a w_i (x_ia - E_pi[x_i])
//
// of the score-function gradient of E_pi[x_i] (Williams 1992). A signal's
// x_ia = r0_ia + m slope_ia is its expected reward (rewards are affine in
// memory), and these are its coefficients under aggregation none; the KL
// term's x_a = l_a - log ref_a is log(pi_a/ref_a) but for lse(l), which
// cancels in x_a - E_pi[x], so no log is taken. policy.AddScoreSums turns
// the sums into gradients.
func (tr *trainer) expectedRows(N int, memOn bool) {
	w, ex := tr.w, &tr.ex
	A, G, C := len(w.responses), ex.slots, len(w.cellProb)
	probs, logits, m := ex.probs[:N*A], ex.logits[:N*A], ex.mem[:N]
	vals, coefs := ex.vals[:N*G*A], ex.coefs[:N*G*A]
	// Every slot's values at once: the rewards, and in the KL slot
	// -log ref_a, onto which the logits are added (-log ref_a + l_a is
	// l_a - log ref_a exactly).
	vmath.AffineRows(vals, ex.rew0, ex.slope, ex.rewOff[:N], m)
	vmath.ScatterAddRows(vals[(G-1)*A:], logits, ex.klOff[:N])
	vmath.CentredRows(coefs, probs, vals, ex.omega[:N], ex.slotW[:G])
	vmath.AffineRows(ex.vars[:N*G*A], ex.var0, ex.var2, ex.rewOff[:N], ex.mem2[:N])
	if tr.cfg.Train.Aggregation == reward.AggNone {
		tr.shareRows(N)
	} else {
		tr.aggregateRows(N)
	}
	cellSums, memSums := ex.coefFlat[:C*len(ex.cellCoef)*A], ex.coefFlat[C*len(ex.cellCoef)*A:]
	if ex.distinct {
		// Each prompt of the batch, in order, adds its row's coefficients,
		// as ScatterAddRows would add the prompts' own.
		W := G * A
		for _, r := range ex.rowOf {
			d, c := cellSums[ex.coefOff[r]:ex.coefOff[r]+W], coefs[r*W:r*W+W]
			for j, v := range c {
				d[j] += v
			}
		}
	} else if memOn {
		// Rows with m = 0 add m c = +-0 to memory sums that start at +0,
		// and a sum is -0 only if both terms are: they change nothing, so
		// they need not be skipped. (A c that is not finite has made the
		// gradient non-finite already.)
		vmath.ScatterAddRowsMoment(cellSums, memSums[:G*A], coefs, m, ex.coefOff[:N])
	} else {
		vmath.ScatterAddRows(cellSums, coefs, ex.coefOff[:N])
	}
}

// aggregateRows gives the first N rows, each a group in GRPO's large-group
// limit (every response with weight pi(a|x), and each signal's variance of
// its sampled reward given the response), to the step's Aggregator, and
// replaces the signals' coefficients, which CentredRows wrote for
// aggregation none, by those of the Aggregator's advantages:
// omega pi_a adv_ia.
func (tr *trainer) aggregateRows(N int) {
	ex := &tr.ex
	A, G := len(tr.w.responses), ex.slots
	for n := 0; n < N; n++ {
		p := ex.probs[n*A : n*A+A]
		for g, i := range ex.slotSig[:G-1] {
			k := (n*G + g) * A
			ex.rowR[i], ex.rowV[i] = ex.vals[k:k+A], ex.vars[k:k+A]
		}
		tr.agg.Add(tr.adv, ex.rowR, ex.rowV, p, ex.omega[n])
		for g, i := range ex.slotSig[:G-1] {
			c, adv := ex.coefs[(n*G+g)*A:(n*G+g+1)*A], tr.adv[i]
			for a, pa := range p {
				c[a] = ex.omega[n] * pa * adv[a]
			}
		}
	}
}

// shareRows is the Aggregator's advantage shares under aggregation none,
// from the coefficients CentredRows wrote: the fast path, pinned to the
// Aggregator by TestExpectedStep. Under none signal i's part of response
// a's advantage is d_ia = w_i (x_ia - E_pi[x_i]) and the coefficient is
// c_ia = omega pi_a d_ia, whose sum over a is 0, so the part's covariance
// with the advantage, omega sum_a pi_a d_ia sum_j d_ja, is sum_a c_ia X_a
// with X_a = sum_j w_j x_ja uncentred; to it adds omega w_i^2 sum_a pi_a
// v_ia, the sampling variance of the signal's reward (vmath.CovRows, per
// row). The shares are the covariances over their sum, which is Var(A).
func (tr *trainer) shareRows(N int) {
	ex := &tr.ex
	A, G := len(tr.w.responses), ex.slots
	terms := ex.shareTerms[:N*(G-1)] // [row][slot]
	vmath.CovRows(terms, ex.probs[:N*A], ex.vals[:N*G*A], ex.coefs[:N*G*A], ex.vars[:N*G*A], ex.omega[:N], ex.slotW[:G-1])
	for g, i := range ex.slotSig[:G-1] {
		cov := tr.shareCov[i]
		if ex.distinct {
			for _, r := range ex.rowOf { // each prompt's row, in batch order
				cov += terms[r*(G-1)+g]
			}
		} else {
			for n := 0; n < N; n++ {
				cov += terms[n*(G-1)+g]
			}
		}
		tr.shareCov[i] = cov
	}
}

// expectedWork holds the expected step's rows and sums. A row is one
// sampled prompt or, in a full batch, one user in one cell (a full batch
// takes fullBlockUsers users' rows at a time). A row has a slot for each
// signal of nonzero weight, in order, then one for the KL term.
type expectedWork struct {
	probs, logits []float64 // [row][response]: pi(.|x) and its logits
	mem, omega    []float64 // [row]: remembered stance, and weight
	user          []int     // [row]
	// [row]: the offsets of the row's slots in rew0 and slope, of its
	// cell's sums in coefFlat, of its cell's responses in cellLogits, and
	// of its KL slot in vals[(slots-1)*A:].
	rewOff, coefOff, cellOff, klOff []int
	// Distinct prompts (see stepExpected): rowOf[n] is the row of the
	// batch's prompt n, and keyRow[situation*len(segments)+segment] the
	// row of such a prompt, -1 if none.
	distinct    bool
	rowOf       []int
	keyRow      []int32
	shareTerms  []float64 // [row][slot]: each row's covariances (shareRows)
	vals, coefs []float64 // [row][slot][response]: values, and their score coefficients
	vars        []float64 // [row][slot][response]: the variance of each slot's sampled reward
	mem2        []float64 // [row]: the remembered stance squared

	slots   int       // in use: the signals of nonzero weight, and KL
	slotSig []int     // [slot]: the signal (the KL term's slot is slots-1)
	slotW   []float64 // [slot]: its weight at this step (1 for KL)
	slotOf  []int     // [signal, then KL]: its slot
	// [situation*len(segments)+segment][slot][response]: the slot's
	// expected reward at memory 0 and its slope in memory (world.rew0Flat
	// and slopeFlat, as of world.rewardsVersion rewards); -log pi_ref and 0
	// in the KL slot.
	rew0, slope []float64
	// The same for the variance of the sampled reward: at memory 0, and
	// the coefficient of the stance squared (world.var0Flat, var2Flat); 0
	// in the KL slot.
	var0, var2 []float64
	rewards    int
	rowR, rowV [][]float64 // [signal]: one row's rewards and variances, for the Aggregator
	zeroR      []float64   // the rewards (and variances) of a signal of zero weight

	// The coefficient sums, by cell, slot and response, then by slot and
	// response for the memory block (memDim is 0 or 1), cleared after each
	// step. Slots after KL hold the signals of zero weight, never written.
	// cellCoef[i][c] and memCoef[i][j] view signal i's (then KL's), for
	// policy.AddScoreSums.
	coefFlat          []float64
	cellCoef, memCoef [][][]float64
	// The cells' logits at memory 0, then the memory block's once per cell
	// (see computeBatchProbs).
	cellLogits []float64
}

// fullBlockUsers is how many users' rows a full batch takes at a time.
const fullBlockUsers = 64

// newExpectedWork allocates the expected step's rows and sums for a batch
// of batchSize prompts whose pi and logits are probs and logits, or for
// the full batch (batchSize 0).
func newExpectedWork(w *world, batchSize int, probs, logits []float64) expectedWork {
	A, S, C := len(w.responses), len(w.sigs), len(w.cellProb)
	rows := batchSize
	if batchSize == 0 {
		rows = min(fullBlockUsers, len(w.userSeg)) * len(w.sitProb)
		probs, logits = make([]float64, rows*A), make([]float64, rows*A)
	}
	K := len(w.sitProb) * len(w.segments)
	ex := expectedWork{
		probs: probs[:rows*A], logits: logits[:rows*A],
		mem: make([]float64, rows), omega: make([]float64, rows), user: make([]int, rows),
		rewOff: make([]int, rows), coefOff: make([]int, rows), cellOff: make([]int, rows), klOff: make([]int, rows),
		vals: make([]float64, rows*(S+1)*A), coefs: make([]float64, rows*(S+1)*A),
		vars: make([]float64, rows*(S+1)*A), mem2: make([]float64, rows),
		var0: make([]float64, K*(S+1)*A), var2: make([]float64, K*(S+1)*A), rowV: make([][]float64, S),
		slotW: make([]float64, S+1), slotOf: make([]int, S+1),
		rew0: make([]float64, K*(S+1)*A), slope: make([]float64, K*(S+1)*A),
		rowR: make([][]float64, S), zeroR: make([]float64, A),
		coefFlat: make([]float64, (S+1)*(C+w.memDim)*A),
		cellCoef: make([][][]float64, S+1), memCoef: make([][][]float64, S+1),
		cellLogits: make([]float64, 2*C*A),
		shareTerms: make([]float64, rows*S),
	}
	if batchSize > 0 {
		ex.rowOf, ex.keyRow = make([]int, rows), make([]int32, len(w.sitProb)*len(w.segments))
	}
	for i := range ex.cellCoef {
		ex.cellCoef[i], ex.memCoef[i] = make([][]float64, C), make([][]float64, w.memDim)
	}
	for n := range ex.omega {
		ex.omega[n] = 1 // a sampled prompt's weight; the full batch sets its own
	}
	return ex
}

// useSignals gives the signals of nonzero weight the first slots, in
// order, then the KL term, and the signals of zero weight the slots after
// it (they add nothing to the gradient, so the step skips them). It sets
// the slots' weights, and lays out the tables and views again only when
// the set of signals changes.
func (ex *expectedWork) useSignals(w *world, weights, logRef []float64) {
	S := len(weights)
	g, same := 0, ex.slots > 0 // laid out before
	for i, wi := range weights {
		if wi != 0 {
			same = same && g < ex.slots-1 && ex.slotSig[g] == i
			ex.slotW[g] = wi
			g++
		}
	}
	ex.slotW[g] = 1
	if same && g == ex.slots-1 && ex.rewards == w.rewardsVersion {
		return
	}
	ex.rewards = w.rewardsVersion
	ex.slots, ex.slotSig = g+1, ex.slotSig[:0]
	for i, wi := range weights {
		if wi != 0 {
			ex.slotSig = append(ex.slotSig, i)
		}
	}
	for k, i := range ex.slotSig {
		ex.slotOf[i] = k
	}
	ex.slotOf[S] = g
	for i, wi := range weights {
		if wi == 0 {
			g++
			ex.slotOf[i] = g
		}
	}
	A, C, G := len(logRef), len(w.cellProb), ex.slots
	for k := 0; k < len(w.sitProb)*len(w.segments); k++ {
		r0, sl := ex.rew0[k*G*A:(k+1)*G*A], ex.slope[k*G*A:(k+1)*G*A]
		v0, v2 := ex.var0[k*G*A:(k+1)*G*A], ex.var2[k*G*A:(k+1)*G*A]
		for s, i := range ex.slotSig {
			copy(r0[s*A:s*A+A], w.rew0Flat[(k*S+i)*A:(k*S+i+1)*A])
			copy(sl[s*A:s*A+A], w.slopeFlat[(k*S+i)*A:(k*S+i+1)*A])
			copy(v0[s*A:s*A+A], w.var0Flat[(k*S+i)*A:(k*S+i+1)*A])
			copy(v2[s*A:s*A+A], w.var2Flat[(k*S+i)*A:(k*S+i+1)*A])
		}
		for a, lr := range logRef {
			r0[(G-1)*A+a], sl[(G-1)*A+a] = -lr, 0
			v0[(G-1)*A+a], v2[(G-1)*A+a] = 0, 0
		}
	}
	for n := range ex.klOff {
		ex.klOff[n] = n * G * A
	}
	cellSums, memSums := ex.coefFlat[:C*(S+1)*A], ex.coefFlat[C*(S+1)*A:]
	for i, k := range ex.slotOf {
		for c := range ex.cellCoef[i] {
			o := (c*(S+1) + k) * A
			ex.cellCoef[i][c] = cellSums[o : o+A : o+A]
		}
		for j := range ex.memCoef[i] {
			o := k * A
			ex.memCoef[i][j] = memSums[o : o+A : o+A]
		}
	}
	for i := range ex.rowR {
		ex.rowR[i], ex.rowV[i] = ex.zeroR, ex.zeroR
	}
}

// setRow makes row n the prompt of user in situation sit, with remembered
// stance m.
func (ex *expectedWork) setRow(w *world, n, user, sit int, m float64) {
	A, cell := len(w.responses), w.sitCell[sit]
	ex.rewOff[n] = (sit*len(w.segments) + w.userSeg[user]) * ex.slots * A
	ex.coefOff[n] = cell * len(ex.cellCoef) * A // every signal's slot, and KL's
	ex.cellOff[n] = cell * A
	ex.mem[n], ex.mem2[n] = m, m*m
	ex.user[n] = user
}

// promptProbs writes pi(.|x) and the logits of one prompt.
func (tr *trainer) promptProbs(probs, logits []float64, user, cell int, m float64) {
	if !tr.probsFromEvaluation(probs, logits, user, cell, m) {
		tr.pol.Logits(logits, tr.context(cell, m))
		copy(probs, logits)
		policy.Softmax(probs)
	}
}

// computeBatchProbs writes the logits and pi(.|x) of the expected step's
// first N rows (the sampled prompts, or the distinct ones among them) into
// ex.logits and ex.probs. Logits are affine in
// memory: the cell's at memory 0 plus m times the memory block's (from
// evaluate where it ran at this step), which cellLogits holds once per
// cell so that both are gathered at the cell's offset. (At m = 0 that adds
// +-0, which changes no logit but a -0, and the softmax and the KL values
// take a -0 logit as +0.) pi comes from evaluate's factors where they
// serve, else from a softmax whose exponentials are taken all at once.
func (tr *trainer) computeBatchProbs(N int) {
	w, e, ex := tr.w, &tr.eval, &tr.ex
	A, C := len(w.responses), len(w.cellProb)
	cellL, memL := ex.cellLogits[:C*A], ex.cellLogits[C*A:]
	fromEval := e.step == tr.curStep
	d := memL[:A]
	for c := 0; c < C; c++ {
		if fromEval {
			copy(cellL[c*A:c*A+A], e.cellLogits[c])
		} else {
			tr.pol.Logits(cellL[c*A:c*A+A], tr.context(c, 0))
		}
	}
	if fromEval {
		copy(d, e.memLogits)
	} else if w.memDim > 0 {
		tr.pol.Logits(d, tr.context(0, 1))
		for a := range d {
			d[a] -= cellL[a]
		}
	}
	for c := 1; c < C; c++ {
		copy(memL[c*A:c*A+A], d)
	}
	logits, probs := ex.logits[:N*A], ex.probs[:N*A]
	vmath.AffineRows(logits, cellL, memL, ex.cellOff[:N], ex.mem[:N])
	if !fromEval {
		copy(probs, logits)
		softmaxRows(probs, A)
		return
	}
	for n := 0; n < N; n++ {
		p, cell := probs[n*A:n*A+A], ex.cellOff[n]/A
		if !tr.factorProbs(p, ex.user[n], cell) {
			l := logits[n*A : n*A+A]
			tr.pol.Logits(l, tr.context(cell, ex.mem[n]))
			copy(p, l)
			policy.Softmax(p)
		}
	}
}

// probsFromEvaluation fills logits and probs for a prompt from the factors
// that evaluate computed for this step (same parameters, same memory),
// saving the exponentials; it returns false if there are none.
func (tr *trainer) probsFromEvaluation(probs, logits []float64, user, cell int, m float64) bool {
	e := &tr.eval
	if e.step != tr.curStep || !tr.factorProbs(probs, user, cell) {
		return false
	}
	if !e.memOn {
		copy(logits, e.cellLogits[cell])
		return true
	}
	cl := e.cellLogits[cell][:len(logits)]
	for a := range logits {
		logits[a] = cl[a] + m*e.memLogits[a]
	}
	return true
}

// factorProbs writes pi(.|x) for user in cell from evaluate's factors at
// this step; it returns false where their product underflows.
func (tr *trainer) factorProbs(probs []float64, user, cell int) bool {
	e := &tr.eval
	A := len(probs)
	if !e.memOn {
		for a, p := range tr.cellProbs[cell][:A] {
			probs[a] = p
		}
		return true
	}
	ue, ce := e.userExp[user*A:user*A+A], e.cellExp[cell][:A]
	sum := 0.0
	for a := range probs {
		q := ce[a] * ue[a]
		probs[a] = q
		sum += q
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
		tr.draw(t, b)
		x := tr.context(b.cell, b.mem)
		tr.pol.Probs(b.probs, x)
		b.action = sampleIndex(b.probs, tr.src.Float64())
		o := tr.outcome(b.sit, b.user, b.action, b.mem)
		for i, sig := range w.sigs {
			tr.r[i][n] = 0
			if tr.weights[i] != 0 {
				tr.r[i][n] = sig.Sample(&o, tr.rng)
			}
		}
		tr.sampleP[n] = 1 / float64(B)
	}
	tr.agg.Add(tr.adv, tr.r, nil, tr.sampleP, 1) // the batch is one group
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
		tr.draw(t, b)
		x := tr.context(b.cell, b.mem)
		tr.pol.Probs(b.probs, x)
		for g := 0; g < G; g++ {
			a := sampleIndex(b.probs, tr.src.Float64())
			actions[g] = a
			o := tr.outcome(b.sit, b.user, a, b.mem)
			for i, sig := range w.sigs {
				tr.r[i][g] = 0
				if tr.weights[i] != 0 {
					tr.r[i][g] = sig.Sample(&o, tr.rng)
				}
			}
		}
		tr.agg.Add(tr.adv, tr.r, nil, tr.sampleP, 1)
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

// shareOf writes each covariance's share of their sum (0 when it is 0).
func shareOf(dst, cov []float64) {
	sum := 0.0
	for _, c := range cov {
		sum += c
	}
	for i, c := range cov {
		dst[i] = 0
		if sum > 0 {
			dst[i] = c / sum
		}
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

// sampleIndex returns the first i with u < p_0 + ... + p_i (summed in
// order), or the last index if there is none: for p >= 0, whose partial
// sums do not decrease, the number of them (but the last) at or below u,
// counted without a branch to mispredict.
func sampleIndex(p []float64, u float64) int {
	c, s := 0.0, 0
	for _, v := range p[:len(p)-1] {
		c += v
		s += b2i(u >= c)
	}
	return s
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
	vmath.AdamStep(th, tr.adamM, tr.adamV, tr.total, &vmath.AdamCoefs{
		B1: b1, OneMinusB1: 1 - b1, B2: b2, OneMinusB2: 1 - b2, LR: lr,
		C1: 1 - math.Pow(b1, float64(t+1)), C2: 1 - math.Pow(b2, float64(t+1)), Eps: eps,
	})
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
