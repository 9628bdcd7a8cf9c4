package vmath

import "math"

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
	if useAVX2 {
		n = len(x) &^ 3
		if n > 0 {
			expAVX2(dst[:n], x[:n], &expConst)
		}
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
		if len(m) > 0 {
			expOuterAVX2(dst[:4*len(m)], m, (*[4]float64)(d), &expConst)
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

// Accelerated reports whether the assembly bodies run on this CPU (AVX2 and
// FMA on amd64, not built with the purego tag), so that a test knows
// whether there is a second path to compare with the Go one.
func Accelerated() bool { return useAVX2 }

// SetAcceleratedForTest switches the assembly paths off (or back on, if the
// CPU has them) and returns the previous setting, so that tests can compare
// the two paths' results. Not for concurrent use with the functions here.
func SetAcceleratedForTest(on bool) (was bool) {
	was = useAVX2
	useAVX2 = on && hasAssembly()
	return was
}
