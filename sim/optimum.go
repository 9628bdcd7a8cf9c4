package sim

import (
	"errors"
	"fmt"
	"math"

	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/reward"
)

// Optimum is the closed-form optimum of the KL-regularised objective
//
//	J(pi) = E_x[ E_{a~pi}[R(x,a)] - beta KL(pi(.|x) || pi_ref) ]
//
// for a policy that can represent any distribution per context cell:
// pi*(a|x) = pi_ref(a) exp(R(x,a)/beta) / Z(x) (Rafailov et al. 2023,
// eq. 4). Without memory the policy cannot tell users apart, so R(x,a) is
// the population average of the effective weighted reward. This is the
// fixed point that `expected` training with aggregation "none" and a
// tabular policy converges to; mechanism 2 (competition) is read off it.
type Optimum struct {
	Probs      [][]float64 // pi*(a|cell)
	Reward     [][]float64 // population-average effective reward R(cell, a)
	Sycophancy float64     // population sycophancy rate under pi*
}

// ErrNoClosedForm is returned by the analytic functions for configurations
// whose fixed point has no closed form (normalised advantages).
var ErrNoClosedForm = errors.New("the closed form pi* = pi_ref exp(R/beta)/Z needs train.aggregation = \"none\", train.beta > 0 and a policy with a tabular block (policy.features tabular or tabular+traits)")

// AnalyticOptimum returns the closed-form optimum under the signal mix that
// is active at step, with memory off: memory signals pay nothing and the
// policy cannot tell users apart. With memory on, a run departs from it as
// memory builds up (that departure is mechanism 4). A reward-model signal
// is taken at its unlimited-log limit (populationThumbsModel): a run's
// fitted reward models, and so its policy, depart from it by their errors.
func AnalyticOptimum(cfg *Config, step int) (*Optimum, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Train.Aggregation != reward.AggNone || cfg.Train.Beta <= 0 || cfg.Policy.Features == FeaturesTraits {
		return nil, ErrNoClosedForm
	}
	w, err := newWorld(cfg)
	if err != nil {
		return nil, err
	}
	// A reward model is taken as an unlimited log would fit it: each cell
	// and response scored by the log-odds of the population's thumbs-up
	// rate there (a run's fitted models depart from it).
	for i, sig := range w.sigs {
		if sig.RewardModel() {
			sig.SetModel(w.populationThumbsModel())
			w.signalChanged(i)
		}
	}
	A := len(w.responses)
	weights := make([]float64, len(w.sigs))
	reward.EffectiveWeights(weights, w.specs, step, cfg.Train.Weights)
	ref := make([]float64, A)
	copy(ref, w.features.Prior)
	policy.Softmax(ref)
	N := float64(len(w.userSeg))
	C := len(w.cellProb)
	opt := &Optimum{Probs: make([][]float64, C), Reward: make([][]float64, C)}
	for c := range opt.Reward {
		opt.Reward[c] = make([]float64, A)
	}
	// R(cell, a): what a response earns on average over the situations the
	// model cannot tell apart in a cell (each weighted by its share of the
	// cell) and over the population.
	for st, ps := range w.sitProb {
		c := w.sitCell[st]
		f := ps / w.cellProb[c]
		R := opt.Reward[c]
		for s, n := range w.segUsers {
			for a := 0; a < A; a++ {
				o := w.outcome[w.sitTruth[st]][s][a]
				o.Cell = c
				for i, sig := range w.sigs {
					R[a] += f * float64(n) / N * weights[i] * sig.Expected(&o)
				}
			}
		}
	}
	for c, R := range opt.Reward {
		p := make([]float64, A)
		for a := range p {
			p[a] = math.Log(ref[a]) + R[a]/cfg.Train.Beta
		}
		policy.Softmax(p)
		opt.Probs[c] = p
	}
	for st, ps := range w.sitProb {
		for a, pa := range opt.Probs[w.sitCell[st]] {
			opt.Sycophancy += ps * pa * w.outcome[w.sitTruth[st]][0][a].Sycophantic
		}
	}
	return opt, nil
}

// CriticalWeight returns the weight of the named signal at which the
// analytic optimum's sycophancy rate (under the mix active at step) reaches
// level, found by bisection to a relative tolerance of 1e-9. It assumes the
// rate rises with the weight, as it does for signals that pay for
// agreement, and returns an error if level is not reached below 1e6.
func CriticalWeight(cfg *Config, signal string, step int, level float64) (float64, error) {
	if _, ok := cfg.Signals[signal]; !ok {
		return 0, fmt.Errorf("no signal named %q", signal)
	}
	c := *cfg
	c.Signals = make(map[string]reward.Spec, len(cfg.Signals))
	for k, v := range cfg.Signals {
		c.Signals[k] = v
	}
	syc := func(wt float64) (float64, error) {
		s := c.Signals[signal]
		s.Weight = wt
		c.Signals[signal] = s
		o, err := AnalyticOptimum(&c, step)
		if err != nil {
			return 0, err
		}
		return o.Sycophancy, nil
	}
	lo, hi := 0.0, 1.0
	v, err := syc(lo)
	if err != nil {
		return 0, err
	}
	if v >= level {
		return 0, fmt.Errorf("sycophancy is %.3g >= %.3g already at weight 0", v, level)
	}
	for {
		v, err := syc(hi)
		if err != nil {
			return 0, err
		}
		if v >= level {
			break
		}
		lo, hi = hi, hi*2
		if hi > 1e6 {
			return 0, fmt.Errorf("sycophancy never reaches %.3g for weights up to 1e6", level)
		}
	}
	for hi-lo > 1e-9*hi {
		mid := (lo + hi) / 2
		v, err := syc(mid)
		if err != nil {
			return 0, err
		}
		if v >= level {
			hi = mid
		} else {
			lo = mid
		}
	}
	return (lo + hi) / 2, nil
}
