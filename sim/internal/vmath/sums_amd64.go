//go:build amd64 && !purego

package vmath

// sumsAVX2 is NormalizedSums for A = 4, as sumsGo does it.
//
//go:noescape
func sumsAVX2(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int
