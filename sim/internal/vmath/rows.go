package vmath

import "math"

// The row primitives work on batches stored row after row: a row n of width
// W is x[n*W : n*W+W]. A gathered row starts at an offset off[n] into a
// table. Outputs must not overlap inputs. Each primitive checks its lengths
// and offsets and panics on a mismatch (a programmer error); the assembly
// bodies check each offset before they use it, and stop at the first
// outside the table. With AVX2 and FMA the assembly takes every width
// (whole vectors, then the one to three entries after them), else the Go
// body runs, with the same bits.

// AffineRows writes dst[n*W+j] = base[off[n]+j] + m[n]*slope[off[n]+j] for
// every row n < len(m) and j < W = len(dst)/len(m): rows gathered from two
// tables at the same offsets and combined affinely in a scalar per row, the
// product rounded before the sum.
func AffineRows(dst, base, slope []float64, off []int, m []float64) {
	W := width("AffineRows", len(dst), len(m))
	if len(off) != len(m) {
		panic("vmath: AffineRows: need an offset per row")
	}
	if W == 0 {
		return
	}
	n := min(len(base), len(slope))
	if useAVX2 && n >= W {
		if !affineRowsAVX2(dst, base, slope, off, m, W, n-W) {
			panic(offsetOutside("AffineRows"))
		}
		return
	}
	checkOffsets("AffineRows", off, W, n)
	affineRowsGo(dst, base, slope, off, m)
}

func affineRowsGo(dst, base, slope []float64, off []int, m []float64) {
	W := len(dst) / max(len(m), 1)
	for n, mn := range m {
		d, b, s := dst[n*W:n*W+W], base[off[n]:off[n]+W], slope[off[n]:off[n]+W]
		for j := range d {
			d[j] = b[j] + float64(mn*s[j])
		}
	}
}

// CentredRows writes the centred products of rows: for every row n of p
// (A = len(p)/len(omega) entries, a distribution over a) and each of the
// G = len(w) rows x[n*G+i] of values it weights,
//
//	mean_ni = sum_a p[n,a] x[n*G+i,a]   (in lane order)
//	dst[n*G+i,a] = (omega[n] p[n,a]) (w[i] (x[n*G+i,a] - mean_ni))
//
// which is omega_n w_i times the coefficients of the score-function
// gradient of E_p[x] (Williams 1992): the gradient of sum_a p_a x_a with
// respect to the logits of a softmax p is p_a (x_a - E_p[x]).
func CentredRows(dst, p, x, omega, w []float64) {
	A := width("CentredRows", len(p), len(omega))
	if len(x) != len(p)*len(w) || len(dst) != len(x) {
		panic("vmath: CentredRows: x and dst must hold len(w) rows per row of p")
	}
	if A == 0 || len(w) == 0 {
		return
	}
	if useAVX2 {
		switch {
		case A == 4 && useAVX512: // two groups a vector
			centredRows4AVX512(dst, p, x, omega, w)
		case A == 4: // one vector a row, the common case, without a loop over vectors
			centredRows4AVX2(dst, p, x, omega, w)
		default:
			centredRowsAVX2(dst, p, x, omega, w, A)
		}
		return
	}
	centredRowsGo(dst, p, x, omega, w)
}

func centredRowsGo(dst, p, x, omega, w []float64) {
	A, G := len(p)/max(len(omega), 1), len(w)
	for n, on := range omega {
		pn := p[n*A : n*A+A]
		for i, wi := range w {
			k := (n*G + i) * A
			xi, d := x[k:k+A], dst[k:k+A]
			mean := dot(pn, xi)
			for a, pa := range pn {
				d[a] = (on * pa) * (wi * (xi[a] - mean))
			}
		}
	}
}

// CovRows writes, for every row n of p (A = len(p)/len(omega) entries)
// and each of the first K = len(w) of its G rows of x, c and v (rows
// n*G+k, G = len(x)/len(p)),
//
//	X_na = sum_k w_k x[n*G+k, a]
//	dst[n*K+k] = sum_a c[n*G+k, a] X_na + ((omega_n w_k) w_k) sum_a p[n,a] v[n*G+k, a]
//
// each sum taken in order (of k, of a) from +0, each product rounded
// before it is added. For rows of rewards x, their centred score
// coefficients c (CentredRows) and the variances v of the sampled
// rewards, that is the covariance of each reward's part of an advantage
// with the whole advantage, plus the reward's own sampling variance.
func CovRows(dst, p, x, c, v, omega, w []float64) {
	A := width("CovRows", len(p), len(omega))
	if len(c) != len(x) || len(v) != len(x) || (len(p) == 0 && len(x) != 0) || (len(p) > 0 && len(x)%len(p) != 0) {
		panic("vmath: CovRows: x, c and v must hold the same whole number of rows per row of p")
	}
	if len(p) == 0 {
		return
	}
	G := len(x) / len(p)
	if len(w) > G || len(dst) != len(omega)*len(w) {
		panic("vmath: CovRows: w must weight at most G rows, dst hold len(w) per row of p")
	}
	if len(w) == 0 {
		return
	}
	if useAVX512 && A == 4 {
		covRows4AVX512(dst, p, x, c, v, omega, w, G)
		return
	}
	if useAVX2 && A == 4 {
		covRows4AVX2(dst, p, x, c, v, omega, w, G)
		return
	}
	covRowsGo(dst, p, x, c, v, omega, w)
}

func covRowsGo(dst, p, x, c, v, omega, w []float64) {
	A := len(p) / max(len(omega), 1)
	G, K := len(x)/max(len(p), 1), len(w)
	var buf [16]float64 // rows this wide take no allocation
	X := buf[:0]
	if A <= len(buf) {
		X = buf[:A]
	} else {
		X = make([]float64, A)
	}
	for n, om := range omega {
		pn := p[n*A : n*A+A]
		for a := range X {
			s := 0.0
			for k, wk := range w {
				s += float64(wk * x[(n*G+k)*A+a])
			}
			X[a] = s
		}
		for k, wk := range w {
			o := (n*G + k) * A
			cn, vn := c[o:o+A], v[o:o+A]
			cx, pv := 0.0, 0.0
			for a, xa := range X {
				cx += float64(cn[a] * xa)
				pv += float64(pn[a] * vn[a])
			}
			dst[n*K+k] = cx + float64(float64(float64(om*wk)*wk)*pv)
		}
	}
}

// ScatterAddRows adds row n of src (W = len(src)/len(off) values) to
// dst[off[n] : off[n]+W], for n = 0, 1, ... in that order (rows may share a
// destination).
func ScatterAddRows(dst, src []float64, off []int) {
	W := width("ScatterAddRows", len(src), len(off))
	if W == 0 {
		return
	}
	if useAVX2 && len(dst) >= W {
		if !scatterAddRowsAVX2(dst, src, off, W, len(dst)-W) {
			panic(offsetOutside("ScatterAddRows"))
		}
		return
	}
	checkOffsets("ScatterAddRows", off, W, len(dst))
	scatterAddRowsGo(dst, src, off)
}

func scatterAddRowsGo(dst, src []float64, off []int) {
	W := len(src) / max(len(off), 1)
	for n, o := range off {
		d, s := dst[o:o+W], src[n*W:n*W+W]
		for j, v := range s {
			d[j] += v
		}
	}
}

// ScatterAddRowsMoment is ScatterAddRows that also adds m[n] times row n
// to mom (W = len(mom) values), in the same order, each product rounded
// before it is added: mom[j] += m[n] src[n*W+j]. It takes one pass, so
// that the additions to dst and to mom, each waiting on the one before in
// its column, overlap.
func ScatterAddRowsMoment(dst, mom, src, m []float64, off []int) {
	W := len(mom)
	if len(src) != len(m)*W || len(off) != len(m) {
		panic("vmath: ScatterAddRowsMoment: src must hold len(m) rows of len(mom), with an offset each")
	}
	if W == 0 || len(m) == 0 {
		return
	}
	if useAVX2 && len(dst) >= W {
		if !scatterMomentAVX2(dst, mom, src, m, off, len(dst)-W) {
			panic(offsetOutside("ScatterAddRowsMoment"))
		}
		return
	}
	checkOffsets("ScatterAddRowsMoment", off, W, len(dst))
	scatterAddRowsGo(dst, src, off)
	addWeightedRowsGo(mom, src, m)
}

// addWeightedRowsGo adds m[n] times row n of src to dst (W = len(dst)
// values a row), one row at a time, each product rounded before it is
// added.
func addWeightedRowsGo(dst, src, m []float64) {
	W := len(dst)
	for n, mn := range m {
		s := src[n*W : n*W+W]
		for j, v := range s {
			dst[j] += float64(mn * v)
		}
	}
}

// dot is sum_a x_a y_a in lane order.
func dot(x, y []float64) float64 {
	y = y[:len(x)]
	negZero := math.Copysign(0, -1)
	s0, s1, s2, s3 := negZero, negZero, negZero, negZero
	a := 0
	for ; a+4 <= len(x); a += 4 {
		s0 += float64(x[a] * y[a])
		s1 += float64(x[a+1] * y[a+1])
		s2 += float64(x[a+2] * y[a+2])
		s3 += float64(x[a+3] * y[a+3])
	}
	switch len(x) - a {
	case 3:
		s2 += float64(x[a+2] * y[a+2])
		fallthrough
	case 2:
		s1 += float64(x[a+1] * y[a+1])
		fallthrough
	case 1:
		s0 += float64(x[a] * y[a])
	}
	return (s0 + s2) + (s1 + s3)
}

// width returns n/rows, the width of rows that fill n values, or panics if
// they do not; no rows means width 0, and then n must be 0.
func width(name string, n, rows int) int {
	if rows == 0 {
		if n != 0 {
			panic("vmath: " + name + ": values without rows")
		}
		return 0
	}
	if n%rows != 0 {
		panic("vmath: " + name + ": the values do not fill whole rows")
	}
	return n / rows
}

// checkOffsets panics unless every row of width W at off[n] lies within a
// table of n values. (The assembly bodies check as they go, and report.)
func checkOffsets(name string, off []int, W, n int) {
	last := n - W
	if last < 0 && len(off) > 0 {
		panic("vmath: " + name + ": the table is narrower than a row")
	}
	for _, o := range off {
		if uint(o) > uint(last) {
			panic(offsetOutside(name))
		}
	}
}

func offsetOutside(name string) string {
	return "vmath: " + name + ": a row offset is outside the table"
}
