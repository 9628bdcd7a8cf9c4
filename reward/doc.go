// Package reward defines the reward signals that are mixed into the
// training reward, and how their weights and advantages are formed. It
// knows nothing of policies: one interaction (a response style, to a context,
// for a user) is described by an Outcome, which the simulator fills in from
// its world model, and each Signal maps an Outcome to a reward.
//
// The kinds of signal (Kinds) are correctness (a noisy grader on verifiable
// prompts), spec (Model Spec adherence: a detector that penalises
// sycophancy), thumbs (users' thumbs-up and thumbs-down), memory
// (consistency with the user's remembered stance) and table (a reward per
// context and response given in the config). Signal.Expected is a signal's
// expected reward for an Outcome; Signal.Sample draws one reward as a
// sampled rollout would see it. A Spec is a signal's configuration, as a
// [signals.NAME] table writes it; Default gives each kind's defaults and
// Keys the configuration keys of a kind.
//
// EffectiveWeights turns configured weights into the weights of a step:
// zero for an inactive signal; as given (WeightsAbsolute); or divided by the
// sum over the active signals (WeightsSumToOne), so that a joining signal
// dilutes the others. An Aggregator turns each signal's rewards over a
// step's groups of samples into advantages as TRL's GRPOTrainer does: the
// weighted sum centred on its group mean (AggNone, Dr. GRPO), that sum
// divided by its group's or the batch's standard deviation
// (AggSumThenNormalize with ScaleGroup or ScaleBatch: GRPO), or each signal
// standardised within its group, summed with the weights and standardised
// over the batch (AggNormalizeThenSum: GDPO). A group is sampled rollouts,
// or GRPO's large-group limit (every response weighted by its probability,
// with each signal's sampling variance from Signal.Variance). The
// Aggregator also gives each signal's share of the advantage's variance.
//
// ThumbsModel is the reward model of thumbs that a deployment's logs are
// fitted into (FitThumbsModel); a thumbs signal with source "reward_model"
// scores rollouts with it.
package reward
