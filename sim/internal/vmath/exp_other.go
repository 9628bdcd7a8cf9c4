//go:build !amd64 || purego

package vmath

var useAVX2 = false

func hasAssembly() bool { return false }

func expAVX2(dst, x []float64, c *[19]float64) { panic("vmath: no AVX2") }

func sumsAVX2(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int {
	panic("vmath: no AVX2")
}

func expOuterAVX2(dst, m []float64, d *[4]float64, c *[19]float64) { panic("vmath: no AVX2") }
