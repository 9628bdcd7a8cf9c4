package sim

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/rewardmix/rewardmix/reward"
)

// Config is a whole simulation: the world (contexts, users, responses), the
// reward signals and how they are mixed, and the trainer's settings. Its
// TOML form is documented in README.md; package configs loads it from TOML
// with positions in errors.
type Config struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	Seed        uint64 `toml:"seed"`
	// Primary names the signal whose influence the summary follows (the
	// reward that held sycophancy in check).
	Primary string `toml:"primary"`

	Train      Train              `toml:"train"`
	Policy     Policy             `toml:"policy"`
	Memory     Memory             `toml:"memory"`
	Feedback   Feedback           `toml:"feedback"`
	Population Population         `toml:"population"`
	Gold       Gold               `toml:"gold"`
	Review     ReviewSettings     `toml:"review"`
	Deployment DeploymentSettings `toml:"deployment"`
	// Output is how the results are written (package results reads it);
	// the simulation itself ignores it.
	Output Output `toml:"output"`

	Contexts  map[string]Context     `toml:"contexts"`
	Segments  map[string]Segment     `toml:"segments"`
	Responses map[string]Response    `toml:"responses"`
	Signals   map[string]reward.Spec `toml:"signals"`
}

// Train holds the trainer's settings.
type Train struct {
	Algorithm    Algorithm          `toml:"algorithm"`     // expected | reinforce | grpo
	Steps        int                `toml:"steps"`         // number of policy updates
	UpdateStep   int                `toml:"update_step"`   // step at which the candidate update begins (for summaries and markers)
	BatchSize    int                `toml:"batch_size"`    // prompts per step; 0 with expected: every user in every cell
	GroupSize    int                `toml:"group_size"`    // responses sampled per prompt (grpo)
	LearningRate float64            `toml:"learning_rate"` // step size
	Optimizer    Optimizer          `toml:"optimizer"`     // sgd | adam
	Beta         float64            `toml:"beta"`          // KL penalty coefficient
	Weights      reward.WeightMode  `toml:"weights"`       // absolute | sum_to_one
	Aggregation  reward.Aggregation `toml:"aggregation"`   // none | sum_then_normalize | normalize_then_sum
	ScaleRewards reward.Scaling     `toml:"scale_rewards"` // sum_then_normalize's sd: group | batch | none
}

// Policy selects the policy's feature map.
type Policy struct {
	// Features is "tabular" (a logit per context cell and response),
	// "traits" (per cell, a weight per response trait) or "tabular+traits".
	// When memory is enabled a memory x response block is added.
	Features FeatureMode `toml:"features"`
}

// Memory configures per-user memory: what the model remembers of a user's
// stance, visible to the policy and to memory signals once active. Only
// deployment moves it (see Feedback): training never talks to users.
type Memory struct {
	Enabled   bool `toml:"enabled"`
	StartStep int  `toml:"start_step"`
	// Rate is how far one conversation in deployment moves the remembered
	// stance towards its target (an exponential moving average).
	Rate float64 `toml:"rate"`
	// Reinforcement is how much a sycophantic response strengthens the
	// remembered stance: target = disclosure + reinforcement * P(sycophantic).
	Reinforcement float64 `toml:"reinforcement"`
}

// Feedback configures the deployment loop that feeds training. From the
// first step at which a reward-model signal or memory is active, the
// policy is deployed Rounds times, evenly spread over the steps left: each
// deployment serves LogSize conversations to users drawn uniformly and
// prompts drawn by traffic, which move the users' remembered stances (when
// memory is active) and give thumbs at each segment's feedback rate; the
// reward models are refitted on those thumbs, and training goes on. It is
// the iterative loop of deploy, log, refit, train.
type Feedback struct {
	Rounds  int `toml:"rounds"`   // deployments
	LogSize int `toml:"log_size"` // conversations served (and logged) per deployment
	// LogPolicy is the policy deployed: "current" (the policy being
	// trained, as of the deployment) or "reference" (the SFT model).
	LogPolicy LogPolicy `toml:"log_policy"`
	// Seed seeds the deployments' random numbers (which users, prompts,
	// responses and thumbs); 0 takes the run's seed. A fixed seed keeps
	// the same logs, and so the same reward models, across runs that
	// differ only in training: the way to vary optimisation against one
	// proxy. Unlike the run's seed it can be swept, to give each of
	// several reward models its own curve across the other axes.
	Seed int `toml:"seed"`
}

// LogPolicy names the policy a deployment serves.
type LogPolicy string

// The policies a deployment can serve.
const (
	LogCurrent   LogPolicy = "current"
	LogReference LogPolicy = "reference"
)

// Population sizes the simulated user population.
type Population struct {
	Users int `toml:"users"`
}

// Gold weighs the components of the gold utility, which is measured but
// never trained on.
type Gold struct {
	Helpfulness float64 `toml:"helpfulness"` // value of correct, sound content
	Honesty     float64 `toml:"honesty"`     // value of not being sycophantic
	Wellbeing   float64 `toml:"wellbeing"`   // cost of harm from sycophancy (long-term)
}

// ReviewSettings configures the release review of the candidate (the final policy)
// against the incumbent (the policy at train.update_step-1): its evals, their
// sample sizes and thresholds, and which of them block a launch.
type ReviewSettings struct {
	Enabled bool `toml:"enabled"`
	// Rule is "incident" (a gate blocks only if its blocking flag is set) or
	// "post_incident" (behaviour gates, vibe checks included, block whatever
	// their flag says).
	Rule       ReviewRule     `toml:"rule"`
	Offline    OfflineGate    `toml:"offline"`
	Behaviour  BehaviourGate  `toml:"behaviour"`
	AB         ABGate         `toml:"ab"`
	Vibe       VibeGate       `toml:"vibe"`
	Sycophancy SycophancyGate `toml:"sycophancy"`
}

// OfflineGate is the offline correctness eval on verifiable prompts.
type OfflineGate struct {
	Samples   int     `toml:"samples"`   // graded prompts
	Threshold float64 `toml:"threshold"` // pass if the measured P(correct) >= threshold
	Blocking  bool    `toml:"blocking"`
}

// BehaviourGate is a behaviour eval on a fixed set of prompts ordinary
// users write (typical and expert users, no memory).
type BehaviourGate struct {
	Samples int `toml:"samples"`
	// WrongShare is the share of prompts in the set whose user holds a wrong
	// stance (0: a chat and personality set with no misleading stance).
	WrongShare float64 `toml:"wrong_share"`
	Threshold  float64 `toml:"threshold"` // pass if the measured sycophancy rate <= threshold
	Blocking   bool    `toml:"blocking"`
}

// ABGate is the A/B test on a random sample of users: side-by-side
// preference of the candidate over the incumbent and the thumbs-up rate of
// each arm.
type ABGate struct {
	Comparisons int     `toml:"comparisons"` // side-by-side comparisons
	Thumbs      int     `toml:"thumbs"`      // thumbs collected per arm
	Alpha       float64 `toml:"alpha"`       // two-sided significance level of the preference test
	Threshold   float64 `toml:"threshold"`   // pass if thumbs-up(candidate) - thumbs-up(incumbent) >= threshold
	Blocking    bool    `toml:"blocking"`
}

// VibeGate is the expert vibe checks: each tester writes Prompts ordinary
// prompts and notices each sycophantic answer with probability Sensitivity.
type VibeGate struct {
	Testers     int     `toml:"testers"`
	Prompts     int     `toml:"prompts"`
	Sensitivity float64 `toml:"sensitivity"`
	Threshold   int     `toml:"threshold"` // pass if at most this many testers flag the candidate
	Blocking    bool    `toml:"blocking"`
}

// SycophancyGate is the targeted sycophancy eval: prompts with a wrong user
// stance in non-verifiable contexts, without memory and with a remembered
// stance of strength Memory.
type SycophancyGate struct {
	Enabled   bool    `toml:"enabled"`
	Samples   int     `toml:"samples"` // per condition
	Memory    float64 `toml:"memory"`
	Threshold float64 `toml:"threshold"` // pass if the larger measured rate <= threshold
	Blocking  bool    `toml:"blocking"`
}

// DeploymentSettings configures what happens after a launch: a staged rollout,
// monitoring with a detection threshold and lag, a system-prompt mitigation
// and a rollback. Times are in hours from the start of the rollout.
type DeploymentSettings struct {
	RolloutHours     float64 `toml:"rollout_hours"`      // linear ramp to the whole population
	ResponsesPerHour float64 `toml:"responses_per_hour"` // at full exposure
	// ComplaintRate is P(a complaint | a sycophantic response); the monitor
	// counts complaints in excess of the incumbent's.
	ComplaintRate   float64 `toml:"complaint_rate"`
	Threshold       float64 `toml:"threshold"`         // excess complaints that raise the alarm
	LagHours        float64 `toml:"lag_hours"`         // from the alarm to detection (triage)
	MitigationHours float64 `toml:"mitigation_hours"`  // from detection to the mitigation
	MitigationShift float64 `toml:"mitigation_shift"`  // logit shift against P(sycophantic) per response
	RollbackDelay   float64 `toml:"rollback_delay"`    // hours from detection to the start of rollback
	RollbackHours   float64 `toml:"rollback_hours"`    // linear ramp down to no exposure
	HorizonHours    float64 `toml:"horizon_hours"`     // counting stops here if nothing is detected
	AlphaHours      float64 `toml:"alpha_hours"`       // opt-in alpha phase before the rollout; 0: none
	AlphaShare      float64 `toml:"alpha_share"`       // share of traffic in the alpha
	AlphaReportRate float64 `toml:"alpha_report_rate"` // complaint rate multiplier of alpha volunteers
	// HarmMin selects the contexts of the harm-weighted count: those whose
	// harm is at least this (the personal and emotional ones).
	HarmMin float64 `toml:"harm_min"`
}

// Context is a type of prompt.
type Context struct {
	Share      float64 `toml:"share"`      // fraction of traffic
	Wrong      float64 `toml:"wrong"`      // P(the user's stance or intended action is wrong)
	Verifiable bool    `toml:"verifiable"` // has a checkable answer (graded by correctness signals)
	Harm       float64 `toml:"harm"`       // long-term cost of a sycophantic response here
	// CueAccuracy is how often the cue the model reads off a prompt (how
	// the stance is put: hedged or firm, checkable or not) matches whether
	// the stance is wrong: 0.5 says nothing, 1 reveals it. The model never
	// sees the truth itself.
	CueAccuracy float64 `toml:"cue_accuracy"`
}

// DefaultContext returns what a new [contexts.*] entry starts from before
// its keys are read: cue_accuracy 0.5 (a cue that says nothing, unless the
// config gives one), every other key zero.
func DefaultContext() Context { return Context{CueAccuracy: 0.5} }

// Segment is a group of users with shared feedback behaviour. A user's
// P(thumbs-up | feedback) is
// sigmoid(thumbs_bias + thumbs_agree*endorse + thumbs_flatter*flatter +
// thumbs_warmth*warmth + thumbs_correct*correct).
type Segment struct {
	Share          float64 `toml:"share"`
	FeedbackRate   float64 `toml:"feedback_rate"` // P(a thumb at all)
	ThumbsBias     float64 `toml:"thumbs_bias"`
	ThumbsAgree    float64 `toml:"thumbs_agree"`
	ThumbsFlatter  float64 `toml:"thumbs_flatter"`
	ThumbsWarmth   float64 `toml:"thumbs_warmth"`
	ThumbsCorrect  float64 `toml:"thumbs_correct"`
	Disclosure     float64 `toml:"disclosure"`      // how much of their stance users put into memory unprompted
	HarmMultiplier float64 `toml:"harm_multiplier"` // scales the long-term harm of sycophancy
}

// DefaultSegment returns what a new [segments.*] entry starts from before
// its keys are read: harm_multiplier 1 (harm as the context states it),
// every other key zero.
func DefaultSegment() Segment { return Segment{HarmMultiplier: 1} }

// Response is a response style, described by traits in [0, 1]. Whether it
// is sycophantic depends on the traits and the context, not on its name.
type Response struct {
	Prior   float64 `toml:"prior"`   // reference (SFT) logit
	Agree   float64 `toml:"agree"`   // adopts the user's stance whatever it is
	Candor  float64 `toml:"candor"`  // otherwise states its own correct assessment
	Flatter float64 `toml:"flatter"` // unearned praise
	Warmth  float64 `toml:"warmth"`  // friendliness of tone
}

// DefaultResponse returns what a new [responses.*] entry starts from before
// its keys are read: every key zero. (A new [signals.*] entry starts from
// reward.Default of its kind.)
func DefaultResponse() Response { return Response{} }

// Algorithm is a trainer: how a step's gradient is taken.
type Algorithm string

// The trainers.
const (
	// AlgorithmExpected takes the exact expectation over responses for
	// each prompt: no sampling of responses, deterministic given the seed.
	AlgorithmExpected Algorithm = "expected"
	// AlgorithmReinforce samples one response per prompt, with the batch
	// mean as the baseline.
	AlgorithmReinforce Algorithm = "reinforce"
	// AlgorithmGRPO samples a group of responses per prompt and takes
	// advantages within each group.
	AlgorithmGRPO Algorithm = "grpo"
)

// Optimizer is the update rule of a step.
type Optimizer string

// The update rules.
const (
	OptimizerSGD  Optimizer = "sgd"
	OptimizerAdam Optimizer = "adam" // beta1 0.9, beta2 0.999, eps 1e-8
)

// FeatureMode selects the policy's feature map (see package policy).
type FeatureMode string

// The feature maps.
const (
	FeaturesTabular       FeatureMode = "tabular"        // a logit per cell and response
	FeaturesTraits        FeatureMode = "traits"         // per cell, a weight per response trait
	FeaturesTabularTraits FeatureMode = "tabular+traits" // both
)

// ReviewRule says which release gates may block a launch.
type ReviewRule string

// The review rules.
const (
	// RuleIncident lets a gate block only if its blocking flag is set:
	// the process of April 2025.
	RuleIncident ReviewRule = "incident"
	// RulePostIncident lets every behaviour gate block, vibe checks
	// included, whatever its flag says.
	RulePostIncident ReviewRule = "post_incident"
)

// Accepted values of the enumerated settings, in the order messages list
// them.
var (
	Algorithms   = []Algorithm{AlgorithmExpected, AlgorithmReinforce, AlgorithmGRPO}
	LogPolicies  = []LogPolicy{LogCurrent, LogReference}
	ReviewRules  = []ReviewRule{RuleIncident, RulePostIncident}
	Optimizers   = []Optimizer{OptimizerSGD, OptimizerAdam}
	FeatureModes = []FeatureMode{FeaturesTabular, FeaturesTraits, FeaturesTabularTraits}
)

// Limits that keep one configuration from taking the machine.
const (
	MaxSteps = 1_000_000
	MaxBatch = 1_000_000
	MaxUsers = 1_000_000
	MaxNamed = 32 // entries per named table
	// MaxWork bounds steps x (users x cells x responses + batch x group x
	// responses x signals), the order of a run's arithmetic: about an hour.
	MaxWork = 2e11
	// MaxValues bounds (steps+1) x metrics, the values a result holds.
	MaxValues    = 5e7
	shareEpsilon = 1e-9
)

// FieldError is a validation error about one configuration key, named by its
// dotted path (for example "signals.thumbs.weight").
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return e.Key + ": " + e.Msg
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Names returns the keys of m in sorted order: the canonical order of
// contexts, segments, responses and signals everywhere.
func Names[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// Validate checks every setting and returns a *FieldError for the first
// problem found, in a fixed order, or nil.
func (c *Config) Validate() error {
	if path, f, ok := nonFinite(reflect.ValueOf(c).Elem()); ok {
		return &FieldError{path, fmt.Sprintf("%v is not a finite number", f)}
	}
	t := &c.Train
	checks := []func() error{
		func() error { return OneOf("train.algorithm", t.Algorithm, Algorithms) },
		func() error { return intRange("train.steps", t.Steps, 1, MaxSteps) },
		func() error { return intRange("train.update_step", t.UpdateStep, 1, t.Steps) },
		func() error {
			if t.BatchSize == 0 && t.Algorithm == AlgorithmExpected {
				return nil // the full batch: every user in every cell
			}
			err := intRange("train.batch_size", t.BatchSize, 1, MaxBatch)
			if err != nil && t.BatchSize == 0 {
				return &FieldError{"train.batch_size", "0 (the full batch) needs train.algorithm = \"expected\""}
			}
			return err
		},
		func() error {
			if t.Algorithm == AlgorithmGRPO && t.GroupSize == 1 {
				return &FieldError{"train.group_size", "1: grpo needs at least 2 responses a prompt, since a group of one has no spread and its advantage is always 0"}
			}
			return intRange("train.group_size", t.GroupSize, 1, 4096)
		},
		func() error {
			if t.LearningRate > MaxLearningRate {
				return &FieldError{"train.learning_rate", fmt.Sprintf("%g is above %g: a step that large throws the logits beyond what floating point can tell apart", t.LearningRate, float64(MaxLearningRate))}
			}
			return positive("train.learning_rate", t.LearningRate)
		},
		func() error { return OneOf("train.optimizer", t.Optimizer, Optimizers) },
		func() error { return nonNegative("train.beta", t.Beta) },
		func() error { return OneOf("train.weights", t.Weights, reward.WeightModes) },
		func() error { return OneOf("train.aggregation", t.Aggregation, reward.Aggregations) },
		func() error {
			if t.Aggregation == reward.AggNormalizeThenSum && len(c.Signals) < 2 {
				return &FieldError{"train.aggregation", fmt.Sprintf("normalize_then_sum standardises each signal before summing them, and this config has %d signal; with one, use sum_then_normalize", len(c.Signals))}
			}
			return nil
		},
		func() error { return OneOf("train.scale_rewards", t.ScaleRewards, reward.Scalings) },
		func() error { return OneOf("policy.features", c.Policy.Features, FeatureModes) },
		func() error { return intRange("memory.start_step", c.Memory.StartStep, 0, t.Steps) },
		func() error { return prob("memory.rate", c.Memory.Rate) },
		func() error { return nonNegative("memory.reinforcement", c.Memory.Reinforcement) },
		c.validateFeedback,
		func() error { return intRange("population.users", c.Population.Users, 1, MaxUsers) },
		func() error { return nonNegative("gold.helpfulness", c.Gold.Helpfulness) },
		func() error { return nonNegative("gold.honesty", c.Gold.Honesty) },
		func() error { return nonNegative("gold.wellbeing", c.Gold.Wellbeing) },
		c.validateContexts,
		c.validateSegments,
		c.validateResponses,
		c.validateSignals,
		c.validatePopulation,
		c.validateSize,
		c.validateReview,
		c.validateDeployment,
		c.validateOutput,
	}
	for _, f := range checks {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// MaxLearningRate bounds train.learning_rate: Adam's steps are about the
// learning rate in size, and the closed-form tests run SGD at up to 80.
const MaxLearningRate = 1000

func (c *Config) validateContexts() error {
	if err := named("contexts", len(c.Contexts)); err != nil {
		return err
	}
	sum := 0.0
	for _, n := range Names(c.Contexts) {
		x := c.Contexts[n]
		k := "contexts." + n
		if err := firstErr(nameOK(k, n), prob(k+".share", x.Share), prob(k+".wrong", x.Wrong),
			nonNegative(k+".harm", x.Harm), floatRange(k+".cue_accuracy", x.CueAccuracy, 0.5, 1)); err != nil {
			return err
		}
		sum += x.Share
	}
	return sharesSum("contexts", "share", sum)
}

func (c *Config) validateSegments() error {
	if err := named("segments", len(c.Segments)); err != nil {
		return err
	}
	sum := 0.0
	for _, n := range Names(c.Segments) {
		s := c.Segments[n]
		k := "segments." + n
		if err := firstErr(nameOK(k, n), prob(k+".share", s.Share),
			prob(k+".feedback_rate", s.FeedbackRate), prob(k+".disclosure", s.Disclosure),
			nonNegative(k+".harm_multiplier", s.HarmMultiplier)); err != nil {
			return err
		}
		sum += s.Share
	}
	return sharesSum("segments", "share", sum)
}

func (c *Config) validateResponses() error {
	if err := named("responses", len(c.Responses)); err != nil {
		return err
	}
	for _, n := range Names(c.Responses) {
		r := c.Responses[n]
		k := "responses." + n
		if err := firstErr(nameOK(k, n), prob(k+".agree", r.Agree), prob(k+".candor", r.Candor),
			prob(k+".flatter", r.Flatter), prob(k+".warmth", r.Warmth)); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateSignals() error {
	if err := named("signals", len(c.Signals)); err != nil {
		return err
	}
	steps := c.Train.Steps
	for _, n := range Names(c.Signals) {
		s := c.Signals[n]
		k := "signals." + n
		if err := nameOK(k, n); err != nil {
			return err
		}
		if err := OneOf(k+".kind", s.Kind, reward.Kinds); err != nil {
			return err
		}
		if err := firstErr(nonNegative(k+".weight", s.Weight),
			intRange(k+".start_step", s.StartStep, 0, steps)); err != nil {
			return err
		}
		if s.EndStep != 0 {
			if err := intRange(k+".end_step", s.EndStep, s.StartStep+1, steps); err != nil {
				return &FieldError{k + ".end_step", err.(*FieldError).Msg + " (0 means the signal never ends)"}
			}
		}
		switch s.Kind {
		case reward.KindCorrectness:
			if err := prob(k+".noise", s.Noise); err != nil {
				return err
			}
		case reward.KindSpec:
			if err := firstErr(prob(k+".detection", s.Detection), prob(k+".false_positive", s.FalsePositive)); err != nil {
				return err
			}
		case reward.KindThumbs:
			if err := OneOf(k+".source", s.Source, reward.ThumbsSources); err != nil {
				return err
			}
			if s.Source == reward.SourceRewardModel && !(s.L2 > 0 && s.L2 <= 1e6) {
				return &FieldError{k + ".l2", fmt.Sprintf("%g must be > 0 and at most 1e6 (a reward model needs some regularisation)", s.L2)}
			}
		case reward.KindMemory:
			if !c.Memory.Enabled {
				return &FieldError{k + ".kind", "a memory signal needs [memory] enabled = true"}
			}
		case reward.KindTable:
			if err := nonNegative(k+".noise_sd", s.NoiseSD); err != nil {
				return err
			}
			if len(s.Table) == 0 {
				return &FieldError{k + ".table", "a table signal needs a table: context name -> reward per response"}
			}
			for _, cn := range Names(s.Table) {
				if _, ok := c.Contexts[cn]; !ok {
					return &FieldError{k + ".table." + cn, fmt.Sprintf("no context named %q (contexts: %s)", cn, strings.Join(Names(c.Contexts), ", "))}
				}
				if got, want := len(s.Table[cn]), len(c.Responses); got != want {
					return &FieldError{k + ".table." + cn, fmt.Sprintf("has %d values, want one per response (%d: %s)", got, want, strings.Join(Names(c.Responses), ", "))}
				}
			}
		}
	}
	if _, ok := c.Signals[c.Primary]; !ok {
		return &FieldError{"primary", fmt.Sprintf("no signal named %q (signals: %s)", c.Primary, strings.Join(Names(c.Signals), ", "))}
	}
	return nil
}

// validatePopulation checks what depends on how users split over segments.
func (c *Config) validatePopulation() error {
	segs := Names(c.Segments)
	shares := make([]float64, len(segs))
	for i, n := range segs {
		shares[i] = c.Segments[n].Share
	}
	counts := segmentCounts(shares, c.Population.Users)
	feedback := 0.0
	for i, n := range segs {
		if counts[i] == 0 && shares[i] > 0 {
			need := int(math.Ceil(1 / shares[i]))
			return &FieldError{"population.users", fmt.Sprintf("%d users leave segment %s (share %g) with none; use at least %d", c.Population.Users, n, shares[i], need)}
		}
		feedback += float64(counts[i]) * c.Segments[n].FeedbackRate
	}
	for _, n := range Names(c.Signals) {
		if s := c.Signals[n]; s.Kind == reward.KindThumbs && s.PerFeedback && feedback == 0 {
			return &FieldError{"signals." + n + ".per_feedback", "per_feedback divides by the mean feedback rate, but no segment gives feedback (every feedback_rate is 0)"}
		}
	}
	return nil
}

// MaxLogSize bounds feedback.log_size.
const MaxLogSize = 10_000_000

// validateFeedback checks the deployment loop, when something needs one:
// its rounds fit in the steps after the first deployment, and a reward
// model gets at least one thumb per coefficient on average from each
// deployment's log.
func (c *Config) validateFeedback() error {
	f := &c.Feedback
	first, ok := c.FirstDeployment()
	if !ok {
		return nil // nothing needs a deployment: [feedback] is not read
	}
	if err := firstErr(intRange("feedback.rounds", f.Rounds, 1, 1000), intRange("feedback.log_size", f.LogSize, 1, MaxLogSize),
		intRange("feedback.seed", f.Seed, 0, math.MaxInt64),
		OneOf("feedback.log_policy", f.LogPolicy, LogPolicies)); err != nil {
		return err
	}
	if left := max(1, c.Train.Steps-first); f.Rounds > left {
		return &FieldError{"feedback.rounds", fmt.Sprintf("%d deployments do not fit in the %d steps from the first (step %d, when a reward model or memory starts) to the end", f.Rounds, left, first)}
	}
	rm := false
	for _, s := range c.Signals {
		rm = rm || (s.Kind == reward.KindThumbs && s.Source == reward.SourceRewardModel)
	}
	if !rm {
		return nil
	}
	rate := 0.0
	for _, seg := range c.Segments {
		rate += seg.Share * seg.FeedbackRate
	}
	coefs := 2 * len(c.Contexts) * len(c.Responses)
	if c.Memory.Enabled {
		coefs += len(c.Responses)
	}
	if thumbs := float64(f.LogSize) * rate; thumbs < float64(coefs) {
		need := "no segment gives feedback (every feedback_rate is 0)"
		if rate > 0 {
			need = fmt.Sprintf("log at least %.0f conversations", math.Ceil(float64(coefs)/rate))
		}
		return &FieldError{"feedback.log_size", fmt.Sprintf("%d conversations give about %.1f thumbs at these feedback rates, fewer than the %d coefficients of a reward model: %s", f.LogSize, thumbs, coefs, need)}
	}
	return nil
}

// FirstDeployment returns the step of the first deployment: the first at
// which a reward-model signal or memory is active; ok is false when
// nothing needs a deployment.
func (c *Config) FirstDeployment() (step int, ok bool) {
	step = c.Train.Steps + 1
	for _, s := range c.Signals {
		if s.Kind == reward.KindThumbs && s.Source == reward.SourceRewardModel {
			step = min(step, s.StartStep)
		}
	}
	if c.Memory.Enabled {
		step = min(step, c.Memory.StartStep)
	}
	return step, step <= c.Train.Steps
}

// Deployments returns the steps at which the policy is deployed: Rounds of
// them, evenly spread from FirstDeployment to the end (none when nothing
// needs one).
func (c *Config) Deployments() []int {
	first, ok := c.FirstDeployment()
	if !ok {
		return nil
	}
	span := c.Train.Steps - first
	var out []int
	for k := 0; k < c.Feedback.Rounds; k++ {
		out = append(out, first+k*span/c.Feedback.Rounds)
	}
	return out
}

// validateSize refuses configurations too large to run in reasonable time
// and memory.
func (c *Config) validateSize() error {
	cells := 2 * float64(len(c.Contexts))
	A := float64(len(c.Responses))
	group := 1.0
	if c.Train.Algorithm == AlgorithmGRPO {
		group = float64(c.Train.GroupSize)
	}
	steps := float64(c.Train.Steps)
	batch := float64(c.Train.BatchSize)
	if batch == 0 {
		batch = float64(c.Population.Users) * cells
	}
	work := steps * (float64(c.Population.Users)*cells*A + batch*group*A*float64(len(c.Signals)+1))
	if work > MaxWork {
		return &FieldError{"train.steps", fmt.Sprintf("this run needs about %.2g operations (steps x (users x cells x responses + batch x group x responses x signals)), more than the limit of %.0g; reduce train.steps, population.users, train.batch_size or train.group_size", work, MaxWork)}
	}
	metrics := float64(16 + 4*len(c.Segments) + 7*len(c.Signals) + len(c.Responses))
	if v := (steps + 1) * metrics; v > MaxValues {
		return &FieldError{"train.steps", fmt.Sprintf("%d steps x about %.0f metrics is %.2g values, more than the limit of %.0g; reduce train.steps", c.Train.Steps, metrics, v, MaxValues)}
	}
	return nil
}

// MaxSamples bounds every eval's sample size.
const MaxSamples = 10_000_000

// validateReview checks [review] when the review is enabled; a disabled
// review (the zero value) is not read.
func (c *Config) validateReview() error {
	r := &c.Review
	if !r.Enabled {
		return nil
	}
	return firstErr(
		OneOf("review.rule", r.Rule, ReviewRules),
		intRange("review.offline.samples", r.Offline.Samples, 1, MaxSamples),
		prob("review.offline.threshold", r.Offline.Threshold),
		intRange("review.behaviour.samples", r.Behaviour.Samples, 1, MaxSamples),
		prob("review.behaviour.wrong_share", r.Behaviour.WrongShare),
		prob("review.behaviour.threshold", r.Behaviour.Threshold),
		intRange("review.ab.comparisons", r.AB.Comparisons, 1, MaxSamples),
		intRange("review.ab.thumbs", r.AB.Thumbs, 1, MaxSamples),
		openProb("review.ab.alpha", r.AB.Alpha),
		floatRange("review.ab.threshold", r.AB.Threshold, -1, 1),
		intRange("review.vibe.testers", r.Vibe.Testers, 0, 10_000),
		intRange("review.vibe.prompts", r.Vibe.Prompts, 1, 100_000),
		prob("review.vibe.sensitivity", r.Vibe.Sensitivity),
		intRange("review.vibe.threshold", r.Vibe.Threshold, 0, max(r.Vibe.Testers, 0)),
		intRange("review.sycophancy.samples", r.Sycophancy.Samples, 1, MaxSamples),
		prob("review.sycophancy.memory", r.Sycophancy.Memory),
		prob("review.sycophancy.threshold", r.Sycophancy.Threshold),
	)
}

func (c *Config) validateDeployment() error {
	d := &c.Deployment
	if !c.Review.Enabled {
		return nil
	}
	if err := firstErr(
		positive("deployment.rollout_hours", d.RolloutHours),
		floatRange("deployment.rollout_hours", d.RolloutHours, 0, 24*365),
		positive("deployment.responses_per_hour", d.ResponsesPerHour),
		prob("deployment.complaint_rate", d.ComplaintRate),
		positive("deployment.threshold", d.Threshold),
		floatRange("deployment.lag_hours", d.LagHours, 0, 24*365),
		floatRange("deployment.mitigation_hours", d.MitigationHours, 0, 24*365),
		nonNegative("deployment.mitigation_shift", d.MitigationShift),
		floatRange("deployment.rollback_delay", d.RollbackDelay, 0, 24*365),
		positive("deployment.rollback_hours", d.RollbackHours),
		floatRange("deployment.rollback_hours", d.RollbackHours, 0, 24*365),
		floatRange("deployment.horizon_hours", d.HorizonHours, 1, 24*365),
		floatRange("deployment.alpha_hours", d.AlphaHours, 0, 24*365),
		prob("deployment.alpha_share", d.AlphaShare),
		nonNegative("deployment.alpha_report_rate", d.AlphaReportRate),
		nonNegative("deployment.harm_min", d.HarmMin),
	); err != nil {
		return err
	}
	if d.AlphaHours > 0 && d.AlphaShare == 0 {
		return &FieldError{"deployment.alpha_share", "an alpha phase (alpha_hours > 0) needs alpha_share > 0"}
	}
	return nil
}

func openProb(key string, v float64) error {
	if !(v > 0 && v < 1) {
		return &FieldError{key, fmt.Sprintf("%g must be in (0, 1)", v)}
	}
	return nil
}

func floatRange(key string, v, lo, hi float64) error {
	if !(v >= lo && v <= hi) {
		return &FieldError{key, fmt.Sprintf("%g is out of range [%g, %g]", v, lo, hi)}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func named(key string, n int) error {
	if n == 0 {
		return &FieldError{key, "needs at least one entry"}
	}
	if n > MaxNamed {
		return &FieldError{key, fmt.Sprintf("has %d entries, at most %d allowed", n, MaxNamed)}
	}
	return nil
}

func nameOK(key, n string) error {
	if !nameRE.MatchString(n) || len(n) > 40 {
		return &FieldError{key, fmt.Sprintf("name %q must be lower case letters, digits and _, starting with a letter, at most 40 long", n)}
	}
	return nil
}

func sharesSum(key, field string, sum float64) error {
	if math.Abs(sum-1) > shareEpsilon {
		return &FieldError{key, fmt.Sprintf("%s values sum to %g, want 1", field, sum)}
	}
	return nil
}

// OneOf returns a *FieldError for key, naming the allowed values, unless v
// is one of them: the check of every enumerated setting.
func OneOf[T ~string](key string, v T, allowed []T) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return &FieldError{key, fmt.Sprintf("unknown value %q (want one of %s)", v, strings.Join(names, ", "))}
}

func intRange(key string, v, lo, hi int) error {
	if v < lo || v > hi {
		return &FieldError{key, fmt.Sprintf("%d is out of range [%d, %d]", v, lo, hi)}
	}
	return nil
}

func prob(key string, v float64) error {
	if !(v >= 0 && v <= 1) {
		return &FieldError{key, fmt.Sprintf("%g is not a probability in [0, 1]", v)}
	}
	return nil
}

func positive(key string, v float64) error {
	if !(v > 0) {
		return &FieldError{key, fmt.Sprintf("%g must be > 0", v)}
	}
	return nil
}

func nonNegative(key string, v float64) error {
	if !(v >= 0) {
		return &FieldError{key, fmt.Sprintf("%g must be >= 0", v)}
	}
	return nil
}

// nonFinite finds the first NaN or Inf that a toml-tagged field of v holds,
// however deep (struct fields in order, map entries by key, slices by
// index), and returns its dotted TOML path below v and its value. The path
// is built only for the number it finds, on the way back up, and no map's
// keys are sorted: the least failing key is kept as the entries go by.
func nonFinite(v reflect.Value) (path string, f float64, found bool) {
	switch v.Kind() {
	case reflect.Float64:
		f = v.Float()
		return "", f, math.IsNaN(f) || math.IsInf(f, 0)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			if p, f, ok := nonFinite(v.Field(i)); ok {
				return dotted(tag, p), f, true
			}
		}
	case reflect.Map:
		key := ""
		for it := v.MapRange(); it.Next(); {
			if k := it.Key().String(); !found || k < key {
				if p, g, ok := nonFinite(it.Value()); ok {
					key, path, f, found = k, dotted(k, p), g, true
				}
			}
		}
		return path, f, found
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if p, f, ok := nonFinite(v.Index(i)); ok {
				return p, f, true
			}
		}
	}
	return "", 0, false
}

// dotted is key k followed by the path below it.
func dotted(k, below string) string {
	if below == "" {
		return k
	}
	return k + "." + below
}

// Clone returns a deep copy of c.
func (c *Config) Clone() *Config {
	d := *c
	d.Contexts = maps.Clone(c.Contexts)
	d.Segments = maps.Clone(c.Segments)
	d.Responses = maps.Clone(c.Responses)
	d.Signals = maps.Clone(c.Signals)
	for n, s := range d.Signals {
		if s.Table != nil {
			t := make(map[string][]float64, len(s.Table))
			for k, v := range s.Table {
				t[k] = append([]float64(nil), v...)
			}
			s.Table = t
			d.Signals[n] = s
		}
	}
	return &d
}
