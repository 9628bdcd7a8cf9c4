// Package sim simulates RL post-training of a language model under a
// weighted mix of reward signals, and measures what the mix does to
// sycophancy: every metric at every step is an exact expectation over the
// whole simulated population, not a sample.
//
// # The model
//
// A Config describes a world, its reward signals and a trainer; package
// configs loads one from TOML. The world has context types (a traffic
// share, a probability that the user's stance is wrong, a long-term harm
// of sycophancy), user segments (a share of users, a feedback rate and a
// thumbs model, how much of their stance memory keeps), and response styles
// described by traits: agree, candour, flattery, warmth, and a prior logit
// for the reference (SFT) policy. Whether a response is sycophantic
// follows from its traits and the context, never from its name: it endorses
// a wrong stance, or flatters. A gold utility (helpfulness, honesty, and
// the harm of sycophancy) is measured at every step and never trained on.
//
// The policy never sees the truth. A situation is a context type, whether
// the user's stance is wrong, and a cue to it (how firmly the stance is
// asserted, right with the context's cue_accuracy); the policy sees the
// context and the cue (its cell) and, with memory on, the user's remembered
// stance. Sycophancy, correctness, thumbs and gold are defined from the
// truth.
//
// Feedback reaches training as it does in a real pipeline (feedback.go):
// from the first step at which a reward-model signal or memory is active,
// the policy is deployed Config.Feedback.Rounds times; each deployment
// serves logged conversations, whose users give thumbs from their own
// thumbs model (which knows the truth) and whose remembered stances move
// with what the policy says; a reward model (reward.ThumbsModel) is fitted
// on the thumbs against what the policy saw, and scores every rollout until
// the next deployment. Training itself never draws a thumb nor moves a
// user.
//
// The policy is package policy's log-linear softmax over response styles,
// conditioned on the cell and, with memory on, on the user's remembered
// stance. Each signal (package reward) gives each response an
// expected reward; the effective weights of a step mix them (renormalised
// over the active signals under "sum_to_one", so that a joining signal
// dilutes the others). The trainer ascends E[advantage] - beta KL(pi ||
// pi_ref): "expected" takes the exact expectation over responses of each
// sampled prompt (or of every user in every cell: the full batch),
// "reinforce" and "grpo" sample responses. Advantages come from a
// reward.Aggregator under the run's aggregation and scaling; for
// "expected" each prompt is a group in GRPO's large-group limit, whose
// standard deviations count each response's sampling variance. With a tabular policy, aggregation
// "none" and beta > 0 the fixed point is pi* = pi_ref exp(R/beta)/Z
// (Rafailov et al. 2023, eq. 4), which AnalyticOptimum computes and
// CriticalWeight inverts for the weight at which a signal tips the optimum
// into sycophancy.
//
// Each step records every signal's influence on the update (the norm of its
// weighted gradient as a share of the sum of norms, with the KL term's) and
// its alignment with the total update, so that "the primary reward's
// influence weakened" is a number. After training, Run judges the final
// policy against the one before the update in a release review (offline and
// behaviour evals, an A/B test, vibe checks, optionally a sycophancy eval,
// each with its own sampling noise from its own random stream) and, if it
// launches, plays out the deployment: a staged rollout, complaints, a
// detection lag, a mitigation and a rollback, counting the sycophantic
// responses served by segment. Rejudge reviews a finished run again under
// other gate settings without training again.
//
// Run is deterministic: the same Config gives the same bits, on any number
// of workers (RunAll runs many configurations in parallel and hands their
// results on in order) and with or without the assembly below.
//
// # Fast paths and the references that pin them
//
// The exact evaluation and the expected step are the run's cost, and each
// has a fast path written against a plain reference in the tests:
//
//   - evaluate factorises every user's softmax into the cell's exponentials
//     times the user's memory factors, summing them per segment with
//     vmath.NormalizedSums and taking the KL from a product of the
//     normalisers; TestEvaluateMatchesBruteForce checks it against a
//     softmax per user, cell and response (a user whose factorisation
//     underflows takes that direct path, and the test covers it).
//   - the expected step (expectedRows) states the gradient of
//     E_pi[x] for every signal and the KL term as batch operations over rows
//     (vmath.AffineRows, CentredRows, ScatterAddRows); TestExpectedStep
//     checks it against a prompt-by-prompt reference built from
//     a reward.Aggregator and policy.KLCoef for three to five responses, with
//     and without memory, sampled and full batches, under every aggregation,
//     and TestTrainerGradientFD checks the gradient by finite differences.
//   - under aggregation none the advantage shares come from the
//     coefficients CentredRows wrote (shareRows, with vmath.CovRows), not
//     from a reward.Aggregator per row; TestExpectedStep checks them
//     against the Aggregator's to 1e-12.
//   - before memory is active, under aggregation none, a sampled prompt's
//     row depends only on its situation and segment: stepExpected computes
//     each distinct one once and every prompt adds its row in batch order,
//     the same additions as rows of their own (TestExpectedStep's step
//     before the update takes this path).
//   - prompts and responses are drawn without a branch to mispredict
//     (sampleSituation from a bucket of its CDF, comparing the draw's 53
//     bits with integer thresholds, sampleIndex by counting partial
//     sums), pinned to plain scans by TestSampleSituation and
//     TestSampleIndex; draws reads the PCG as rand.Rand does, number for
//     number (TestDraws); a deployment whose memory block is still zero
//     takes each cell's softmax once, the same bits at every stance.
//   - the release review takes every user's softmax at once (allProbs);
//     TestJudgeAllProbs checks it against a softmax prompt by prompt.
//   - the primitives of sim/internal/vmath run in AVX2 assembly where the
//     CPU has it (the exponentials and the evaluation's per-user sums in
//     eight-lane AVX-512 where it has that too), each with a pure-Go twin
//     of the same operations in the same order; the vmath tests check each
//     path against its twin bit for bit, TestSameBitsWithoutAssembly a
//     whole incident run on every path the CPU has, and CI runs the tests
//     with -tags purego (no assembly at all).
package sim
