// Package vmath holds the simulator's numeric kernels: small operations over
// slices (the exponential, normalised sums, row-wise dot products, gathers
// and scatters of rows) that the training step and the evaluation call once
// per batch. Each has a pure-Go body and, on amd64 with AVX2 and FMA, an
// assembly body for the widths where it pays; Exp, ExpOuter and
// NormalizedSums over two groups also have eight-lane AVX-512 bodies, for
// CPUs that run AVX-512 at full width. All do the same operations in the
// same order lane by lane (math.FMA where the assembly fuses a
// multiply-add, an explicit rounding of each product where it does not),
// so a simulation's output does not depend on the CPU it ran on; Paths
// lists the paths a CPU has and tests run each. The purego build tag
// leaves the assembly out.
//
// The package knows nothing of the model: each primitive is stated by its
// maths, and the algorithms that use them are written in Go, once, in
// package sim.
//
// Every sum over a row of the row primitives is taken in one order,
// whatever the row's width: four lane accumulators s_j = x_j + x_{j+4} +
// x_{j+8} + ..., each in increasing index, combined as (s0 + s2) + (s1 +
// s3). That is the horizontal sum of four-wide vectors; for four entries
// it is (x0 + x2) + (x1 + x3). A lane starts at -0, the identity of
// addition, so that an entry adds exactly itself and a lane with no entry
// (a row narrower than four) changes nothing.
package vmath
