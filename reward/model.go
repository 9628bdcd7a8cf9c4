package reward

import (
	"errors"
	"fmt"
	"math"
)

// ThumbsModel is a reward model learned from logged thumbs: a logistic
// regression of P(up | a thumb was given) on what the policy can see, the
// observed cell and the response (one coefficient each pair) and, when the
// model has memory, the remembered stance times the response (one
// coefficient per response),
//
//	P(up | cell, a, m) = sigmoid(Score(cell, a, m)),
//	Score(cell, a, m)  = Coef[cell*A + a] + m Coef[Cells*A + a].
//
// Its reward for a response is the score, the fitted log-odds of a thumbs-up
// (the Bradley-Terry reward: the log-odds of preferring one answer to
// another is the difference of their scores). It never sees whether the
// user's stance is right, nor who the user is beyond what memory holds: the
// errors that come from that, from a finite log and from the policy that
// wrote the log are the reward model's, and optimising it is what
// over-optimisation means here (Gao et al. 2022).
type ThumbsModel struct {
	Cells, Actions int
	Memory         bool      // the model has the memory x response block
	Coef           []float64 // Cells*Actions, then Actions if Memory
}

// Score is the model's log-odds of a thumbs-up for response a in cell with
// remembered stance m (ignored without memory).
func (t *ThumbsModel) Score(cell, a int, m float64) float64 {
	s := t.Coef[cell*t.Actions+a]
	if t.Memory {
		s += m * t.Coef[t.Cells*t.Actions+a]
	}
	return s
}

// ThumbCounts are the thumbs logged for one response in one cell to users
// whose remembered stance was Memory.
type ThumbCounts struct {
	Cell, Action int
	Memory       float64
	Ups, Downs   float64
}

// FitThumbsModel fits a ThumbsModel to logged thumbs by maximising the
// log-likelihood less l2/2 times the squared norm of the coefficients (l2 >
// 0), by Newton's method from zero until the gain a step predicts is at the
// objective's rounding level (the objective is strictly concave, and each
// step halves until it improves). The Hessian
// is diagonal in the cell coefficients but for the memory ones, so each
// Newton step is solved exactly per response by the Schur complement of
// that arrow-shaped block, in O(Cells x Actions). Counts are summed in
// the order given, so the fit is deterministic.
func FitThumbsModel(cells, actions int, memory bool, data []ThumbCounts, l2 float64) (*ThumbsModel, error) {
	if cells < 1 || actions < 1 || !(l2 > 0) || math.IsInf(l2, 0) {
		panic(fmt.Sprintf("reward: FitThumbsModel(%d cells, %d actions, l2 %v)", cells, actions, l2))
	}
	for _, d := range data {
		if d.Cell < 0 || d.Cell >= cells || d.Action < 0 || d.Action >= actions {
			panic("reward: FitThumbsModel: a count outside the cells and actions")
		}
		if !(d.Ups >= 0 && d.Downs >= 0) || math.IsInf(d.Ups+d.Downs, 0) || math.IsNaN(d.Memory) || math.IsInf(d.Memory, 0) {
			return nil, errors.New("reward: thumb counts must be finite and non-negative")
		}
	}
	A, CA := actions, cells*actions
	n := CA
	if memory {
		n += A
	}
	t := &ThumbsModel{Cells: cells, Actions: actions, Memory: memory, Coef: make([]float64, n)}
	g, diag := make([]float64, n), make([]float64, n)
	cross := make([]float64, CA) // d2/dCoef[c,a] dCoef[mem,a]
	step, trial := make([]float64, n), make([]float64, n)
	f := t.objective(data, l2)
	for iter := 0; iter < 200; iter++ {
		clear(g)
		clear(cross)
		for j, c := range t.Coef {
			g[j], diag[j] = -l2*c, l2
		}
		for _, d := range data {
			k := d.Cell*A + d.Action
			p := Sigmoid(t.Score(d.Cell, d.Action, d.Memory))
			r := d.Ups - (d.Ups+d.Downs)*p
			h := (d.Ups + d.Downs) * p * (1 - p)
			g[k] += r
			diag[k] += h
			if memory {
				g[CA+d.Action] += d.Memory * r
				diag[CA+d.Action] += d.Memory * d.Memory * h
				cross[k] += d.Memory * h
			}
		}
		// Solve H step = g: per response a, the cell block is diagonal and
		// couples only to the memory coefficient.
		for a := 0; a < A; a++ {
			phi := 0.0
			if memory {
				num, den := g[CA+a], diag[CA+a]
				for c := 0; c < cells; c++ {
					k := c*A + a
					num -= cross[k] * g[k] / diag[k]
					den -= cross[k] * cross[k] / diag[k]
				}
				phi = num / den
				step[CA+a] = phi
			}
			for c := 0; c < cells; c++ {
				k := c*A + a
				step[k] = (g[k] - cross[k]*phi) / diag[k]
			}
		}
		// Stop when the Newton decrement g.step/2, the predicted gain of a
		// full step, is at the objective's rounding level.
		dec := 0.0
		for j, s := range step {
			dec += g[j] * s
		}
		if !(dec/2 > 1e-20*(1+math.Abs(f))) {
			return t, nil
		}
		// Halve the step until the objective improves (Newton's full step
		// almost always does).
		accepted := false
		copy(trial, t.Coef)
		for scale := 1.0; scale > 1e-10; scale /= 2 {
			for j, s := range step {
				t.Coef[j] = trial[j] + scale*s
			}
			if fn := t.objective(data, l2); fn > f {
				f, accepted = fn, true
				break
			}
			copy(t.Coef, trial)
		}
		if !accepted {
			return t, nil // no step improves: at the optimum to within rounding
		}
	}
	return nil, errors.New("reward: the thumbs model did not converge in 200 Newton steps")
}

// objective is the log-likelihood of the counts less l2/2 |Coef|^2.
func (t *ThumbsModel) objective(data []ThumbCounts, l2 float64) float64 {
	f := 0.0
	for _, c := range t.Coef {
		f -= l2 / 2 * c * c
	}
	for _, d := range data {
		z := t.Score(d.Cell, d.Action, d.Memory)
		// log sigmoid(z) = -log(1 + exp(-z)), computed stably.
		f -= d.Ups*softplus(-z) + d.Downs*softplus(z)
	}
	return f
}

// softplus is log(1 + exp(x)) without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}
