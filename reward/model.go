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
// coefficient per response), around an intercept,
//
//	P(up | cell, a, m) = sigmoid(Score(cell, a, m)),
//	Score(cell, a, m)  = Intercept + Coef[cell*A + a] + m Coef[Cells*A + a].
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
	Intercept      float64   // the log-odds of the mean thumb, about
}

// Score is the model's log-odds of a thumbs-up for response a in cell with
// remembered stance m (ignored without memory).
func (t *ThumbsModel) Score(cell, a int, m float64) float64 {
	s := t.Intercept + t.Coef[cell*t.Actions+a]
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

// interceptL2 is the intercept's penalty: small enough to leave it to the
// data (a response never logged is shrunk towards the mean thumb, not
// towards even odds), large enough to keep it finite on a log of ups only.
const interceptL2 = 1e-4

// FitThumbsModel fits a ThumbsModel to logged thumbs by maximising the
// log-likelihood less l2/2 times the squared norm of the coefficients (l2 >
// 0; the intercept's penalty is interceptL2), by Newton's method from zero
// until the gain a step predicts is at the objective's rounding level (the
// objective is strictly concave, and each step halves until it improves).
// The Hessian couples the cell coefficients only through the memory
// coefficient of their response and the intercept, so each Newton step is
// solved exactly by Schur complements: per response for the arrow-shaped
// block of its cells and memory coefficient, then for the intercept, in
// O(Cells x Actions). Counts are summed in the order given, so the fit is
// deterministic.
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
	// The Hessian of the penalised negative log-likelihood: diag on the
	// coefficients, cross between a cell coefficient and its response's
	// memory one, u between each coefficient and the intercept, hbb on it.
	g, diag, u := make([]float64, n), make([]float64, n), make([]float64, n)
	cross := make([]float64, CA)
	dg, du := make([]float64, n), make([]float64, n) // D^-1 g and D^-1 u
	step, trial := make([]float64, n), make([]float64, n)
	f := t.objective(data, l2)
	for iter := 0; iter < 200; iter++ {
		clear(g)
		clear(cross)
		clear(u)
		for j, c := range t.Coef {
			g[j], diag[j] = -l2*c, l2
		}
		gb, hbb := -interceptL2*t.Intercept, interceptL2
		for _, d := range data {
			k := d.Cell*A + d.Action
			p := Sigmoid(t.Score(d.Cell, d.Action, d.Memory))
			r := d.Ups - (d.Ups+d.Downs)*p
			h := (d.Ups + d.Downs) * p * (1 - p)
			g[k] += r
			diag[k] += h
			u[k] += h
			gb += r
			hbb += h
			if memory {
				g[CA+d.Action] += d.Memory * r
				diag[CA+d.Action] += d.Memory * d.Memory * h
				cross[k] += d.Memory * h
				u[CA+d.Action] += d.Memory * h
			}
		}
		// H [x; b] = [g; gb] with H = [[D, u], [u', hbb]]:
		// b = (gb - u'D^-1 g) / (hbb - u'D^-1 u), x = D^-1 g - D^-1 u b.
		arrowSolve(dg, g, diag, cross, cells, A, memory)
		arrowSolve(du, u, diag, cross, cells, A, memory)
		num, den := gb, hbb
		for j := range u {
			num -= u[j] * dg[j]
			den -= u[j] * du[j]
		}
		sb := num / den
		for j := range step {
			step[j] = dg[j] - du[j]*sb
		}
		// Stop when the Newton decrement g.step/2, the predicted gain of a
		// full step, is within a few roundings of the objective: Newton's
		// quadratic convergence has then reached the precision of the
		// arithmetic, and a further step could not be told from noise.
		dec := gb * sb
		for j, s := range step {
			dec += g[j] * s
		}
		tol := fitTolerance * (1 + math.Abs(f))
		if !(dec/2 > tol) {
			return t, nil
		}
		// Halve the step until the objective improves (Newton's full step
		// almost always does), while the gain it predicts is above the
		// tolerance.
		accepted := false
		copy(trial, t.Coef)
		b0 := t.Intercept
		for scale := 1.0; scale*dec/2 > tol; scale /= 2 {
			for j, s := range step {
				t.Coef[j] = trial[j] + scale*s
			}
			t.Intercept = b0 + scale*sb
			if fn := t.objective(data, l2); fn > f {
				f, accepted = fn, true
				break
			}
			copy(t.Coef, trial)
			t.Intercept = b0
		}
		if !accepted {
			return t, nil // no step improves: at the optimum to within rounding
		}
	}
	return nil, errors.New("reward: the thumbs model did not converge in 200 Newton steps")
}

// arrowSolve writes D^-1 rhs into dst, for D the coefficients' block of the
// Hessian: diagonal in the cell coefficients, each coupled by cross to its
// response's memory coefficient (the last Actions entries, with memory).
// Per response it is an arrow-shaped system, solved by the Schur complement
// of the memory coefficient.
func arrowSolve(dst, rhs, diag, cross []float64, cells, A int, memory bool) {
	CA := cells * A
	for a := 0; a < A; a++ {
		phi := 0.0
		if memory {
			num, den := rhs[CA+a], diag[CA+a]
			for c := 0; c < cells; c++ {
				k := c*A + a
				num -= cross[k] * rhs[k] / diag[k]
				den -= cross[k] * cross[k] / diag[k]
			}
			phi = num / den
			dst[CA+a] = phi
		}
		for c := 0; c < cells; c++ {
			k := c*A + a
			dst[k] = (rhs[k] - cross[k]*phi) / diag[k]
		}
	}
}

// fitTolerance is the relative gain below which the fit stops: a few
// roundings of the objective (float64's epsilon is 2.2e-16).
const fitTolerance = 1e-15

// objective is the log-likelihood of the counts less the penalties.
func (t *ThumbsModel) objective(data []ThumbCounts, l2 float64) float64 {
	f := -interceptL2 / 2 * t.Intercept * t.Intercept
	for _, c := range t.Coef {
		f -= l2 / 2 * c * c
	}
	for _, d := range data {
		z := t.Score(d.Cell, d.Action, d.Memory)
		// -log sigmoid(z) = softplus(-z) and -log(1 - sigmoid(z)) =
		// softplus(z), which share log(1 + exp(-|z|)): one exponential and
		// one logarithm a row, stable for any z.
		l := math.Log1p(math.Exp(-math.Abs(z)))
		f -= d.Ups*(max(-z, 0)+l) + d.Downs*(max(z, 0)+l)
	}
	return f
}
