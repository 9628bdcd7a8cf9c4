// Package policy implements the simulated language model: a softmax
// log-linear policy over a small set of response styles,
//
//	pi(a|x) = exp(prior_a + theta . phi(x, a)) / Z(x),
//
// with its exact score-function gradients and the KL divergence to a frozen
// reference policy. The reference (the SFT model) is the same policy at
// theta = 0, so pi_ref(a|x) is the softmax of the prior logits.
//
// The feature map phi (Features) concatenates up to three blocks: a tabular
// block, one logit per context cell and response (the policy is then a free
// table of logits, the case in which the KL-regularised optimum has a closed
// form); a traits block, per cell a weight on each trait of the response
// (agree, candour, flattery, warmth), which generalises between responses
// that share traits; and a memory block, memory(x) x one-hot(response),
// through which the policy can condition on what memory holds about the
// user. Logits are affine in memory, which the simulator's exact evaluation
// exploits.
//
// Gradients are returned as coefficients over responses: for any function
// whose gradient with respect to the logits of a context is c, AddScore adds
// sum_a c_a phi(x, a) to a gradient vector, and AddScoreSums does so for
// coefficients already summed by cell and by memory. KLCoef gives the
// coefficients of the gradient of KL(pi(.|x) || pi_ref(.|x)). Every gradient
// is checked against finite differences in the tests.
//
// The package knows nothing of rewards; package sim couples it to package
// reward.
package policy
