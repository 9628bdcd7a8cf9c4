package sim

import (
	"math"
	"testing"

	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/reward"
)

// referenceExpected is the expected step at step t written prompt by
// prompt, for the batch the trainer drew (every user in every cell for a
// full batch): the policy's own softmax, each signal's reward per response
// from its Expected (and its sampling variance from Variance) with the
// prompt's remembered stance, advantages from a reward.Aggregator under the
// run's aggregation and scaling with pi(.|x) as the group weights (GRPO's
// large-group limit), the KL coefficients of policy.KLCoef, each added
// through policy.AddScore with the prompt's weight, then scaled as the step
// scales them (the batch's scale included). It returns the gradients per
// signal, then KL, and the Aggregator's advantage shares.
func (tr *trainer) referenceExpected(t int) (grads [][]float64, shares []float64) {
	w := tr.w
	A, S := len(w.responses), len(w.sigs)
	grads = make([][]float64, S+1)
	for i := range grads {
		grads[i] = make([]float64, tr.pol.Dim())
	}
	probs, coef := make([]float64, A), make([]float64, A)
	r, v, adv := make([][]float64, S), make([][]float64, S), make([][]float64, S)
	for i := range r {
		r[i], v[i], adv[i] = make([]float64, A), make([]float64, A), make([]float64, A)
	}
	agg := reward.NewAggregator(tr.cfg.Train.Aggregation, tr.cfg.Train.ScaleRewards, S)
	agg.Reset(tr.weights)
	// prompt adds the prompt of user in situation sit with weight omega.
	prompt := func(user, sit int, omega float64) {
		cell := w.sitCell[sit]
		m := 0.0
		if tr.memoryActive(t) {
			m = tr.mem[user]
		}
		x := policy.Context{Cell: cell}
		if w.memDim > 0 {
			x.Memory = []float64{m}
		}
		tr.pol.Probs(probs, x)
		for a := range probs {
			o := tr.outcome(sit, user, a, m)
			for i, sig := range w.sigs {
				r[i][a], v[i][a] = sig.Expected(&o), sig.Variance(&o)
			}
		}
		agg.Add(adv, r, v, probs, omega)
		for i := range w.sigs {
			for a, p := range probs {
				coef[a] = omega * p * adv[i][a]
			}
			tr.pol.AddScore(grads[i], x, coef)
		}
		policy.KLCoef(coef, probs, tr.ref)
		for a := range coef {
			coef[a] *= omega
		}
		tr.pol.AddScore(grads[S], x, coef)
	}
	for n, b := range tr.batch {
		if tr.cfg.Train.BatchSize > 0 {
			prompt(b.user, b.sit, 1)
			continue
		}
		for st, ps := range w.sitProb {
			prompt(n, st, ps)
		}
	}
	B := float64(len(tr.batch))
	for i := 0; i < S; i++ {
		scale(grads[i], agg.BatchScale()/B)
	}
	scale(grads[S], -tr.cfg.Train.Beta/B)
	shares = make([]float64, S)
	agg.Shares(shares)
	return grads, shares
}

// CheckExpectedStepForTest: the expected step at each of steps (computed,
// not applied; after the evaluation of that step when evaluated, so that
// it reuses its factors) gives referenceExpected's gradients per signal
// and KL, to 1e-13 relative to the largest component, and its advantage
// shares to 1e-12 (shareRows, the fast path under aggregation none, and
// aggregateRows otherwise).
func (tr *trainer) CheckExpectedStepForTest(t *testing.T, steps []int, evaluated bool) {
	t.Helper()
	row := make([]float64, len(tr.idx.names))
	for _, step := range steps {
		if evaluated {
			tr.evaluate(row, step)
		}
		tr.step(step, row, false)
		want, wantShares := tr.referenceExpected(step)
		for i, v := range tr.shares {
			if d := math.Abs(v - wantShares[i]); d > 1e-12 || math.IsNaN(v) {
				t.Fatalf("step %d: advantage share %d is %v, reference %v", step, i, v, wantShares[i])
			}
		}
		for i, g := range tr.grads {
			scale := 0.0
			for _, v := range want[i] {
				scale = math.Max(scale, math.Abs(v))
			}
			if scale == 0 && i < len(tr.weights) && tr.weights[i] != 0 {
				t.Errorf("step %d signal %d: the reference gradient is zero: nothing is checked", step, i)
			}
			for j, v := range g {
				if d := math.Abs(v - want[i][j]); d > 1e-13*math.Max(scale, 1e-3) || math.IsNaN(v) {
					t.Fatalf("step %d gradient %d component %d: %v, reference %v", step, i, j, v, want[i][j])
				}
			}
		}
	}
}
