//go:build !amd64 || purego

package vmath

func affineRowsAVX2(dst, base, slope []float64, off []int, m []float64, w, last int) bool {
	panic("vmath: no AVX2")
}

func centredRows4AVX2(dst, p, x, omega, w []float64) { panic("vmath: no AVX2") }

func covRows4AVX2(dst, p, x, c, v, omega, w []float64, groups int) { panic("vmath: no AVX2") }

func centredRowsAVX2(dst, p, x, omega, w []float64, a int) { panic("vmath: no AVX2") }

func scatterAddRowsAVX2(dst, src []float64, off []int, w, last int) bool { panic("vmath: no AVX2") }

func scatterMomentAVX2(dst, mom, src, m []float64, off []int, last int) bool {
	panic("vmath: no AVX2")
}

func centredRows4AVX512(dst, p, x, omega, w []float64) { panic("vmath: no AVX-512") }

func covRows4AVX512(dst, p, x, c, v, omega, w []float64, groups int) { panic("vmath: no AVX-512") }
