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
// scratch of len(prod).
func NormalizedSums(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int {
	G := len(prod) / 4
	if G == 0 || len(prod) != 4*G || len(exp) != len(prod) || len(zbuf) != len(prod) {
		panic("vmath: NormalizedSums: prod, exp and zbuf must hold four per group")
	}
	A := len(e) / (4 * G)
	if len(e) != 4*G*A || len(mass) != len(e) || len(moment) != len(e) || len(f) < A*len(m) {
		panic("vmath: NormalizedSums: mismatched lengths")
	}
	if useAVX2 && A == 4 {
		return sumsAVX2(f, m, e, mass, moment, prod, exp, zbuf)
	}
	return sumsGo(f, m, e, mass, moment, prod, exp, zbuf)
}

// sumsGo is NormalizedSums lane by lane, as sumsAVX2 does it four lanes at
// a time.
func sumsGo(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int {
	G := len(prod) / 4
	A := len(e) / (4 * G)
	for u, mu := range m {
		fu := f[u*A : u*A+A]
		for j := range zbuf {
			g, lane := j/4, j%4
			z := e[g*A*4+lane] * fu[0]
			for a := 1; a < A; a++ {
				z = math.FMA(e[(g*A+a)*4+lane], fu[a], z)
			}
			if !(z > MinSum) {
				return u
			}
			zbuf[j] = z
		}
		for j, z := range zbuf {
			g, lane := j/4, j%4
			inv := 1 / z
			minv := mu * inv
			p := math.Float64bits(prod[j] * z)
			exp[j] += int64(p>>52) - 1023
			prod[j] = math.Float64frombits(p&(1<<52-1) | 1023<<52)
			for a, fa := range fu {
				k := (g*A+a)*4 + lane
				mass[k] = math.FMA(fa, inv, mass[k])
				moment[k] = math.FMA(fa, minv, moment[k])
			}
		}
	}
	return len(m)
}
