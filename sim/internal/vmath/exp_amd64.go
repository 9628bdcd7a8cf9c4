//go:build amd64 && !purego

package vmath

// expAVX2 writes exp(x) into dst for len(x) a multiple of 4, as exp1 does.
//
//go:noescape
func expAVX2(dst, x []float64, c *[19]float64)

// expOuterAVX2 is ExpOuter for four columns.
//
//go:noescape
func expOuterAVX2(dst, m []float64, d *[4]float64, c *[19]float64)

// expAVX512 is expAVX2 eight lanes at a time, for len(x) a multiple of 8.
//
//go:noescape
func expAVX512(dst, x []float64, c *[19]float64)

// expOuterAVX512 is expOuterAVX2 two rows at a time, for len(m) even.
//
//go:noescape
func expOuterAVX512(dst, m []float64, d *[4]float64, c *[19]float64)
