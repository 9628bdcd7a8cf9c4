package reward

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Kind is a kind of reward signal.
type Kind string

// The kinds of signal.
const (
	KindCorrectness Kind = "correctness" // noisy grader on verifiable prompts
	KindSpec        Kind = "spec"        // Model Spec adherence: penalises detected sycophancy
	KindThumbs      Kind = "thumbs"      // sparse user thumbs-up/down
	KindMemory      Kind = "memory"      // consistency with the user's remembered stance
	KindTable       Kind = "table"       // expected reward per context and response, given in the config
)

// Kinds lists the known kinds in a fixed order.
var Kinds = []Kind{KindCorrectness, KindSpec, KindThumbs, KindMemory, KindTable}

// Outcome describes one response to one context for one user, in the terms
// the signals need. Probabilities are over the response's realisation (a
// style is a distribution over concrete answers).
type Outcome struct {
	Context  int // index of the context type (for table signals)
	Response int // index of the response style (for table signals)
	// Cell is what the model saw of the prompt (for reward models, which
	// see no more than the model does).
	Cell int

	Verifiable  bool    // the prompt has a checkable answer
	Correct     float64 // P(the content is correct)
	Sycophantic float64 // P(the response is sycophantic in this context)
	Endorse     float64 // P(the response endorses the user's stance)

	FeedbackRate float64 // P(the user gives a thumb at all)
	ThumbsUp     float64 // P(up | the user gives a thumb)
	Memory       float64 // strength of the user's remembered stance, in [0, 1]
}

// Spec is the configuration of one named signal, as written in a
// [signals.<name>] table. Which fields apply depends on Kind; Keys lists them.
type Spec struct {
	Kind      Kind    `toml:"kind"`
	Weight    float64 `toml:"weight"`
	StartStep int     `toml:"start_step"` // first step at which the signal is active
	EndStep   int     `toml:"end_step"`   // first step at which it is no longer active; 0: never ends

	// correctness
	Noise float64 `toml:"noise"` // probability that the grader flips its verdict

	// spec
	Detection     float64 `toml:"detection"`      // P(a sycophantic response is flagged)
	FalsePositive float64 `toml:"false_positive"` // P(a compliant response is flagged)

	// thumbs
	// Source is where a thumbs signal's reward comes from:
	// SourceRewardModel (a reward model fitted on the thumbs logged in
	// deployment, which scores every rollout) or SourceDirect (a user's
	// thumb on each rollout, the shortcut kept for comparison).
	Source ThumbsSource `toml:"source"`
	L2     float64      `toml:"l2"`   // the reward model's L2 penalty
	Up     float64      `toml:"up"`   // direct: reward for a thumbs-up
	Down   float64      `toml:"down"` // direct: reward for a thumbs-down
	// PerFeedback (direct) divides the reward by the population's mean
	// feedback rate, so that its mean is on the scale of Up/Down while its
	// variance grows as feedback gets sparser (an importance-weighted
	// estimate of the up-rate).
	PerFeedback bool `toml:"per_feedback"`

	// table
	Table   map[string][]float64 `toml:"table"`    // context type -> reward per response
	NoiseSD float64              `toml:"noise_sd"` // sd of Gaussian noise on sampled table rewards
}

// Keys returns the configuration keys that apply to kind, in output order,
// or nil for an unknown kind.
func Keys(kind Kind) []string {
	common := []string{"kind", "weight", "start_step", "end_step"}
	switch kind {
	case KindCorrectness:
		return append(common, "noise")
	case KindSpec:
		return append(common, "detection", "false_positive")
	case KindThumbs:
		return append(common, "source", "l2", "up", "down", "per_feedback")
	case KindMemory:
		return common
	case KindTable:
		return append(common, "table", "noise_sd")
	}
	return nil
}

// Default returns the default Spec of a kind: weight 1, always active, and
// the kind's own parameters at their defaults. It is the only source of
// those defaults: a new signal of the kind starts from it, and the baseline
// preset and README.md state the same values (tests in package configs keep
// them equal).
func Default(kind Kind) Spec {
	s := Spec{Kind: kind, Weight: 1}
	switch kind {
	case KindCorrectness:
		s.Noise = 0.05
	case KindSpec:
		s.Detection = 0.8
		s.FalsePositive = 0.05
	case KindThumbs:
		s.Source, s.L2 = SourceRewardModel, 1
		s.Up, s.Down, s.PerFeedback = 1, -1, true
	}
	return s
}

// ThumbsSource is where a thumbs signal's reward comes from.
type ThumbsSource string

// The sources of thumbs.
const (
	// SourceRewardModel scores every rollout with a ThumbsModel fitted on
	// the thumbs users gave in deployment: the reward is its score.
	SourceRewardModel ThumbsSource = "reward_model"
	// SourceDirect draws a thumb from the user on each rollout (at the
	// user's feedback rate): a shortcut no real pipeline has.
	SourceDirect ThumbsSource = "direct"
)

// ThumbsSources lists the sources in a fixed order.
var ThumbsSources = []ThumbsSource{SourceRewardModel, SourceDirect}

// Active reports whether the signal contributes at step.
func (s Spec) Active(step int) bool {
	return step >= s.StartStep && (s.EndStep == 0 || step < s.EndStep)
}

// Signal computes one signal's reward. It is built from a Spec by New.
type Signal struct {
	Name string
	Spec Spec

	table       [][]float64 // [context][response], resolved by the caller
	thumbScalee float64     // multiplier applied to Up/Down
	model       *ThumbsModel
}

// RewardModel reports whether the signal's reward comes from a reward
// model (SetModel) rather than the outcome itself.
func (g *Signal) RewardModel() bool { return g.Spec.RewardModel() }

// RewardModel reports whether a signal of this spec takes its reward from
// a reward model: thumbs from a model fitted on deployment logs.
func (s Spec) RewardModel() bool { return s.Kind == KindThumbs && s.Source == SourceRewardModel }

// SetModel makes m the reward model of a reward-model signal: its reward
// for an outcome is then m.Score of the cell the model saw, the response
// and the remembered stance. Before the first model the reward is 0.
func (g *Signal) SetModel(m *ThumbsModel) {
	if !g.RewardModel() {
		panic("reward: SetModel on a signal without a reward model")
	}
	g.model = m
}

// Model returns the signal's reward model, nil before the first.
func (g *Signal) Model() *ThumbsModel { return g.model }

// New builds a signal. table is the resolved reward table for KindTable
// (indexed [context][response]) and is ignored otherwise; meanFeedback is the
// population's mean feedback rate, used by thumbs with PerFeedback.
func New(name string, s Spec, table [][]float64, meanFeedback float64) (*Signal, error) {
	sig := &Signal{Name: name, Spec: s, table: table, thumbScalee: 1}
	switch s.Kind {
	case KindCorrectness, KindSpec, KindMemory:
	case KindThumbs:
		if s.PerFeedback {
			if !(meanFeedback > 0) {
				return nil, fmt.Errorf("signal %s: per_feedback needs a positive mean feedback rate", name)
			}
			sig.thumbScalee = 1 / meanFeedback
		}
	case KindTable:
		if table == nil {
			return nil, fmt.Errorf("signal %s: table kind without a table", name)
		}
	default:
		return nil, fmt.Errorf("signal %s: unknown kind %q", name, s.Kind)
	}
	return sig, nil
}

// Expected returns the expected reward of the outcome, over grader noise,
// detection and feedback sparsity.
func (g *Signal) Expected(o *Outcome) float64 {
	s := &g.Spec
	switch s.Kind {
	case KindCorrectness:
		if !o.Verifiable {
			return 0
		}
		return s.Noise + (1-2*s.Noise)*o.Correct
	case KindSpec:
		flag := s.Detection*o.Sycophantic + s.FalsePositive*(1-o.Sycophantic)
		return 1 - flag
	case KindThumbs:
		if g.RewardModel() {
			return g.modelScore(o)
		}
		return g.thumbScalee * o.FeedbackRate * (o.ThumbsUp*s.Up + (1-o.ThumbsUp)*s.Down)
	case KindMemory:
		return o.Memory * o.Endorse
	case KindTable:
		return g.table[o.Context][o.Response]
	}
	panic("reward: unknown kind " + s.Kind)
}

// Variance returns the variance of Sample's reward for the outcome: what
// sampling adds around Expected (a grader's verdict, a detector's flag, a
// thumb or none, an endorsement), which GRPO's group statistics see and
// the large-group limit must keep. A reward model's score has none.
func (g *Signal) Variance(o *Outcome) float64 {
	s := &g.Spec
	bernoulli := func(q float64) float64 { return q * (1 - q) }
	switch s.Kind {
	case KindCorrectness, KindSpec:
		if s.Kind == KindCorrectness && !o.Verifiable {
			return 0
		}
		return bernoulli(g.Expected(o)) // a reward of 0 or 1
	case KindThumbs:
		if g.RewardModel() {
			return 0
		}
		c := g.thumbScalee
		second := c * c * o.FeedbackRate * (o.ThumbsUp*s.Up*s.Up + (1-o.ThumbsUp)*s.Down*s.Down)
		mean := g.Expected(o)
		return max(second-mean*mean, 0)
	case KindMemory:
		return o.Memory * o.Memory * bernoulli(o.Endorse)
	case KindTable:
		return s.NoiseSD * s.NoiseSD
	}
	panic("reward: unknown kind " + s.Kind)
}

// Sample draws one realised reward of the outcome using rng.
func (g *Signal) Sample(o *Outcome, rng *rand.Rand) float64 {
	s := &g.Spec
	switch s.Kind {
	case KindCorrectness:
		if !o.Verifiable {
			return 0
		}
		c := rng.Float64() < o.Correct
		if rng.Float64() < s.Noise {
			c = !c
		}
		return b2f(c)
	case KindSpec:
		p := s.FalsePositive
		if rng.Float64() < o.Sycophantic {
			p = s.Detection
		}
		return 1 - b2f(rng.Float64() < p)
	case KindThumbs:
		if g.RewardModel() {
			return g.modelScore(o) // a reward model scores without noise
		}
		if rng.Float64() >= o.FeedbackRate {
			return 0
		}
		if rng.Float64() < o.ThumbsUp {
			return g.thumbScalee * s.Up
		}
		return g.thumbScalee * s.Down
	case KindMemory:
		return o.Memory * b2f(rng.Float64() < o.Endorse)
	case KindTable:
		v := g.table[o.Context][o.Response]
		if s.NoiseSD > 0 {
			v += s.NoiseSD * rng.NormFloat64()
		}
		return v
	}
	panic("reward: unknown kind " + s.Kind)
}

// modelScore is the reward model's score of the outcome, 0 without one.
func (g *Signal) modelScore(o *Outcome) float64 {
	if g.model == nil {
		return 0
	}
	return g.model.Score(o.Cell, o.Response, o.Memory)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Sigmoid is the logistic function.
func Sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
