package vmath

import "math"

// MinSum is the smallest normaliser NormalizedSums accepts; below it (or
// for NaN) it stops and leaves the row to the caller.
const MinSum = 1e-280

// NormalizedSums accumulates, for rows u = 0, 1, ... of f (A values each)
// and groups of four columns c of e (e[(g*A+a)*4+lane] is column 4g+lane,
// entry a), the normalised products that a softmax factorised as
// e_ca f_ua / z_uc needs summed over rows:
//
//	z_uc          = sum_a e_ca f_ua
//	mass[c][a]   += f_ua / z_uc
//	moment[c][a] += m_u f_ua / z_uc
//	prod[c] 2^exp[c] *= z_uc
//
// with mass and moment laid out as e, and the product of the z kept as a
// mantissa in [1, 2) and a binary exponent (so that sum_u log z_uc is
// log prod + exp ln 2 without a log per row). The sums are fused
// multiply-adds in the order written, so every CPU gives the same bits.
// It returns the number of rows done: len(m), or the index of the first
// row with some z_uc <= MinSum or NaN, which it leaves untouched. zbuf is
// scratch of a whole multiple of len(prod): the assembly takes
// len(zbuf)/len(prod) rows at a time, with the sums of four columns held
// in registers across them.
func NormalizedSums(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int {
	G := len(prod) / 4
	if G == 0 || len(prod) != 4*G || len(exp) != len(prod) || len(zbuf) == 0 || len(zbuf)%len(prod) != 0 {
		panic("vmath: NormalizedSums: prod and exp must hold four per group, zbuf a multiple of that")
	}
	A := len(e) / (4 * G)
	if len(e) != 4*G*A || len(mass) != len(e) || len(moment) != len(e) || len(f) < A*len(m) {
		panic("vmath: NormalizedSums: mismatched lengths")
	}
	switch {
	case useAVX512 && A == 4 && G == 2:
		return sumsAVX512(f, m, e, mass, moment, prod, exp, zbuf)
	case useAVX2 && A == 4:
		return sumsAVX2(f, m, e, mass, moment, prod, exp, zbuf)
	}
	return sumsGo(f, m, e, mass, moment, prod, exp, zbuf)
}

// sumsGo is NormalizedSums column by column, as sumsAVX2 does it four
// columns at a time.
func sumsGo(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int {
	A := len(e) / len(prod)
	zbuf = zbuf[:len(prod)]
	for u, mu := range m {
		fu := f[u*A : u*A+A]
		for c := range zbuf {
			z := ColumnSum(e, fu, c)
			if !(z > MinSum) {
				return u
			}
			zbuf[c] = z
		}
		for c, z := range zbuf {
			AddColumn(fu, mu, z, c, mass, moment, prod, exp)
		}
	}
	return len(m)
}

// ColumnSum returns z_uc = sum_a e_ca f_a for one row f and column c, in
// NormalizedSums' order of operations.
func ColumnSum(e, f []float64, c int) float64 {
	A := len(f)
	g, lane := c/4, c%4
	z := e[g*A*4+lane] * f[0]
	for a := 1; a < A; a++ {
		z = math.FMA(e[(g*A+a)*4+lane], f[a], z)
	}
	return z
}

// AddColumn adds one row's terms for column c, whose normaliser is z, to
// mass, moment and prod 2^exp, as NormalizedSums does.
func AddColumn(f []float64, m, z float64, c int, mass, moment, prod []float64, exp []int64) {
	g, lane := c/4, c%4
	inv := 1 / z
	minv := m * inv
	p := math.Float64bits(prod[c] * z)
	exp[c] += int64(p>>52) - 1023
	prod[c] = math.Float64frombits(p&(1<<52-1) | 1023<<52)
	for a, fa := range f {
		k := (g*len(f)+a)*4 + lane
		mass[k] = math.FMA(fa, inv, mass[k])
		moment[k] = math.FMA(fa, minv, moment[k])
	}
}
