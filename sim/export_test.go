package sim

import "github.com/rewardmix/rewardmix/policy"

// Hooks for the external tests and benchmarks.

func NewTrainerForTest(cfg *Config) (*trainer, error) { return newTrainer(cfg) }

// StepForTest takes step t as Run does: the deployment due at t first.
func (tr *trainer) StepForTest(t int, row []float64) {
	if err := tr.deployIfDue(t); err != nil {
		panic(err)
	}
	tr.step(t, row, true)
}

func (tr *trainer) EvaluateForTest(row []float64, t int) { tr.evaluate(row, t) }

func (tr *trainer) NumMetrics() int { return len(tr.idx.names) }

// GradientForTest computes the update at step t without applying it and
// returns the total gradient; the batch it drew stays in tr.batch.
func (tr *trainer) GradientForTest(t int) []float64 {
	row := make([]float64, len(tr.idx.names))
	tr.step(t, row, false)
	return append([]float64(nil), tr.total...)
}

// BatchObjectiveForTest is the objective whose gradient the expected
// algorithm (aggregation none) ascends on the last drawn batch:
// (1/B) sum_n [ E_pi[R(x_n, .)] - beta KL(pi(.|x_n) || ref) ].
func (tr *trainer) BatchObjectiveForTest(theta []float64, t int) float64 {
	saved := tr.pol.Theta
	tr.pol.Theta = theta
	defer func() { tr.pol.Theta = saved }()
	A := len(tr.w.responses)
	probs := make([]float64, A)
	J := 0.0
	for _, b := range tr.batch {
		tr.pol.Probs(probs, tr.context(b.cell, b.mem))
		r0, slope := tr.w.signalRewards(b.sit, tr.w.userSeg[b.user])
		for a, p := range probs {
			R := 0.0
			for i, wi := range tr.weights {
				R += wi * (r0[i*A+a] + b.mem*slope[i*A+a])
			}
			J += p * R
		}
		J -= tr.cfg.Train.Beta * policy.KL(probs, tr.ref)
	}
	return J / float64(len(tr.batch))
}

// Memory exposes the users' remembered stances.
func (tr *trainer) Memory() []float64 { return tr.mem }

// Theta exposes the parameters.
func (tr *trainer) Theta() []float64 { return tr.pol.Theta }
