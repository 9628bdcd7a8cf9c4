//go:build !amd64 || purego

package vmath

func sumsAVX2(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int {
	panic("vmath: no AVX2")
}

func sumsAVX512(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int {
	panic("vmath: no AVX-512")
}
