package vmath

import (
	"math"
	"slices"
)

// Exp writes exp(x[i]) into dst[i] for every i; dst and x may be the same
// slice. The result is within 1 ulp of math.Exp (the test states the
// maximum measured); exp(0) = 1 exactly, large x gives +Inf, very negative
// x subnormals then 0, and NaN stays NaN. It panics if dst is shorter
// than x.
func Exp(dst, x []float64) {
	if len(dst) < len(x) {
		panic("vmath: Exp: dst shorter than x")
	}
	n := 0
	if useAVX512 {
		n = len(x) &^ 7
		if n > 0 {
			expAVX512(dst[:n], x[:n], &expConst)
		}
	}
	if useAVX2 {
		k := n + (len(x)-n)&^3
		if k > n {
			expAVX2(dst[n:k], x[n:k], &expConst)
		}
		n = k
	}
	for i := n; i < len(x); i++ {
		dst[i] = exp1(x[i])
	}
}

// ExpOuter writes exp(m[i] d[j]) into dst[i*len(d)+j], as Exp would of
// the products, with the products never stored (the memory factors of a
// softmax whose logits are affine in each row's m). It panics if dst is
// shorter than len(m)*len(d).
func ExpOuter(dst, m, d []float64) {
	n := len(d)
	if len(dst) < len(m)*n {
		panic("vmath: ExpOuter: dst too short")
	}
	if useAVX2 && n == 4 {
		k := 0
		if useAVX512 {
			k = len(m) &^ 1 // two rows at a time
			if k > 0 {
				expOuterAVX512(dst[:4*k], m[:k], (*[4]float64)(d), &expConst)
			}
		}
		if k < len(m) {
			expOuterAVX2(dst[4*k:4*len(m)], m[k:], (*[4]float64)(d), &expConst)
		}
		return
	}
	for i, mi := range m {
		for j, dj := range d {
			dst[i*n+j] = exp1(mi * dj)
		}
	}
}

// expConst holds the constants of exp1, in the order the assembly reads
// them: log2(e); ln 2 split into a head and a tail (Cody and Waite); the
// clamp that keeps 2^n representable in two factors; then the Taylor
// coefficients 1/k! of exp on |r| <= ln2/2 from k = 13 down to 0 (the
// first omitted term, r^14/14!, is below 5e-18).
var expConst = [19]float64{
	math.Log2E,
	ln2Hi, ln2Lo,
	1000, -1000,
	1.0 / 6227020800, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800,
	1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24,
	1.0 / 6, 1.0 / 2, 1, 1,
}

const (
	ln2Hi = 6.93147180559945286227e-01 // the double nearest ln 2
	ln2Lo = 2.31904681384629955842e-17 // ln 2 - ln2Hi
)

// exp1 is one lane of the assembly: x = n ln2 + r with n = round(x/ln2),
// exp(r) by Horner's rule with fused multiply-adds, then times 2^n as two
// powers of two (so that n down to -1443 and up to 1443 needs no special
// case: the products underflow to subnormals or 0 and overflow to +Inf
// as IEEE arithmetic rounds them).
func exp1(x float64) float64 {
	if x != x {
		return x
	}
	c := &expConst
	x = math.Min(math.Max(x, c[4]), c[3])
	n := math.RoundToEven(x * c[0])
	r := math.FMA(-n, c[1], x)
	r = math.FMA(-n, c[2], r)
	p := c[5]
	for _, ck := range c[6:] {
		p = math.FMA(p, r, ck)
	}
	k := int32(n)
	k1 := k >> 1
	k2 := k - k1
	return p * math.Float64frombits(uint64(k1+1023)<<52) * math.Float64frombits(uint64(k2+1023)<<52)
}

// Paths lists the kernel paths this build can run on this CPU, narrowest
// first: "go" (every primitive's Go body), then "avx2" (the AVX2 and FMA
// assembly) and "avx512" (eight-lane AVX-512 bodies of the exponentials
// and of NormalizedSums over two groups, the AVX2 ones elsewhere) where
// the CPU has them. Every path gives the same bits; tests check it.
func Paths() []string {
	paths := []string{"go"}
	if hasAssembly() {
		paths = append(paths, "avx2")
	}
	if hasAVX512() {
		paths = append(paths, "avx512")
	}
	return paths
}

// SetPathForTest makes the primitives run the given path (one of Paths)
// and returns the path they ran before. Not for concurrent use with the
// functions here.
func SetPathForTest(path string) (was string) {
	was = "go"
	switch {
	case useAVX512:
		was = "avx512"
	case useAVX2:
		was = "avx2"
	}
	if !slices.Contains(Paths(), path) {
		panic("vmath: SetPathForTest: no path " + path + " here")
	}
	useAVX2, useAVX512 = path != "go", path == "avx512"
	return was
}
