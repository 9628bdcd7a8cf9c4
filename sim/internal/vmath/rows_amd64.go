//go:build amd64 && !purego

package vmath

// The assembly bodies of the row primitives (rows_amd64.s, which
// gen_rows.go writes); each is its Go twin four lanes at a time. Those
// that gather or scatter take the largest valid offset, last, and return
// false, having stopped, at the first offset beyond it.

//go:generate go run gen_rows.go

//go:noescape
func affineRowsAVX2(dst, base, slope []float64, off []int, m []float64, w, last int) bool

//go:noescape
func centredRows4AVX2(dst, p, x, omega, w []float64)

//go:noescape
func centredRowsAVX2(dst, p, x, omega, w []float64, a int)

//go:noescape
func covRows4AVX2(dst, p, x, c, v, omega, w []float64, groups int)

//go:noescape
func scatterAddRowsAVX2(dst, src []float64, off []int, w, last int) bool

//go:noescape
func scatterMomentAVX2(dst, mom, src, m []float64, off []int, last int) bool

//go:noescape
func centredRows4AVX512(dst, p, x, omega, w []float64)

//go:noescape
func covRows4AVX512(dst, p, x, c, v, omega, w []float64, groups int)
