package vmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randRows returns n values, normal with a spread of magnitudes, with
// special values (NaN, +-Inf, +-0) at random places when special is set.
func randRows(rng *rand.Rand, n int, special bool) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(7)-3))
		if special && rng.IntN(8) == 0 {
			x[i] = []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1)}[rng.IntN(5)]
		}
	}
	return x
}

// randDists returns n rows of A probabilities each.
func randDists(rng *rand.Rand, n, A int) []float64 {
	p := make([]float64, n*A)
	for k := 0; k < n; k++ {
		row, sum := p[k*A:k*A+A], 0.0
		for a := range row {
			row[a] = rng.Float64()
			sum += row[a]
		}
		for a := range row {
			row[a] /= sum
		}
	}
	return p
}

// randOffsets returns n offsets of rows of width w in a table of rows rows.
func randOffsets(rng *rand.Rand, n, w, rows int) []int {
	off := make([]int, n)
	for i := range off {
		off[i] = rng.IntN(rows) * w
	}
	return off
}

// sameBits returns the index of the first element where a and b differ in
// their bits, or -1. Two NaNs count as the same: which NaN an operation on
// two NaNs returns is the hardware's choice of operand, not a value.
func sameBits(a, b []float64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return i
		}
	}
	return -1
}

// rowCases are the shapes the row primitives are tested on: rows, width
// A, groups G (rows of width A G where a primitive has no groups), and
// whether special values (NaN, +-Inf, +-0) are mixed in.
var rowCases = []struct {
	rows, width, groups int
	special             bool
}{
	{0, 4, 3, false},
	{1, 4, 1, false},
	{64, 4, 5, false},
	{301, 4, 2, true},
	{64, 8, 3, false},
	{50, 3, 4, false},
	{50, 5, 4, true},
	{7, 1, 2, false},
	{33, 12, 1, true},
	{40, 2, 3, false},
	{40, 6, 3, true},
	{40, 7, 2, false},
	{40, 9, 3, false},
}

// TestRowPrimitivesAssemblyMatchesGo: where the CPU has AVX2 and FMA, each
// row primitive's assembly gives its Go twin's bits, for rows of four
// (their own code) and of other widths.
func TestRowPrimitivesAssemblyMatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 and FMA on this CPU: only the Go path runs here")
	}
	for k, tc := range rowCases {
		name := fmt.Sprintf("rows=%d,width=%d,groups=%d,special=%v", tc.rows, tc.width, tc.groups, tc.special)
		rng := rand.New(rand.NewPCG(uint64(k), 11))
		n, A, G := tc.rows, tc.width, tc.groups
		t.Run(name, func(t *testing.T) {
			p, v := randDists(rng, n, A), randRows(rng, n*G*A, tc.special)
			omega, w := randRows(rng, n, tc.special), randRows(rng, G, false)
			w[0] = 0
			a, g := make([]float64, len(v)), make([]float64, len(v))
			if A == 4 {
				centredRows4AVX2(a, p, v, omega, w)
			} else {
				centredRowsAVX2(a, p, v, omega, w, A)
			}
			centredRowsGo(g, p, v, omega, w)
			if i := sameBits(a, g); i >= 0 {
				t.Errorf("CentredRows: element %d: assembly %v, Go %v", i, a[i], g[i])
			}
			if A == 4 && hasAVX512() { // two groups a vector
				centredRows4AVX512(a, p, v, omega, w)
				if i := sameBits(a, g); i >= 0 {
					t.Errorf("CentredRows, AVX-512: element %d: assembly %v, Go %v", i, a[i], g[i])
				}
			}
			if A == 4 { // the general code on rows of four too
				centredRowsAVX2(a, p, v, omega, w, A)
				if i := sameBits(a, g); i >= 0 {
					t.Errorf("CentredRows, general code: element %d: assembly %v, Go %v", i, a[i], g[i])
				}
			}
			if A == 4 { // CovRows over the first K of the G rows, K = 1 .. G
				c, vr := randRows(rng, n*G*A, tc.special), randRows(rng, n*G*A, tc.special)
				for K := 1; K <= G; K++ {
					wk := randRows(rng, K, tc.special)
					a, g := make([]float64, n*K), make([]float64, n*K)
					covRows4AVX2(a, p, v, c, vr, omega, wk, G)
					covRowsGo(g, p, v, c, vr, omega, wk)
					if i := sameBits(a, g); i >= 0 {
						t.Errorf("CovRows, %d of %d rows: element %d: assembly %v, Go %v", K, G, i, a[i], g[i])
					}
					if hasAVX512() { // two of the K a vector
						covRows4AVX512(a, p, v, c, vr, omega, wk, G)
						if i := sameBits(a, g); i >= 0 {
							t.Errorf("CovRows, AVX-512, %d of %d rows: element %d: assembly %v, Go %v", K, G, i, a[i], g[i])
						}
					}
				}
			}
		})
	}
}

// TestCovRows: CovRows against its formula written out, on rows of four
// (the assembly, where the CPU has it) and of three, with signed zeros
// where a sum from +0 and a sum from the first term differ.
func TestCovRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, A := range []int{4, 3} {
		const n, G, K = 9, 4, 3
		p, x := randDists(rng, n, A), randRows(rng, n*G*A, false)
		c, v := randRows(rng, n*G*A, false), randRows(rng, n*G*A, false)
		omega, w := randRows(rng, n, false), randRows(rng, K, false)
		c[0], x[1], w[2] = math.Copysign(0, -1), math.Copysign(0, -1), 0
		got := make([]float64, n*K)
		CovRows(got, p, x, c, v, omega, w)
		for r := 0; r < n; r++ {
			for k := 0; k < K; k++ {
				cx, pv := 0.0, 0.0
				for a := 0; a < A; a++ {
					X := 0.0
					for j := 0; j < K; j++ {
						X += float64(w[j] * x[(r*G+j)*A+a])
					}
					cx += float64(c[(r*G+k)*A+a] * X)
					pv += float64(p[r*A+a] * v[(r*G+k)*A+a])
				}
				want := cx + float64(float64(float64(omega[r]*w[k])*w[k])*pv)
				if g := got[r*K+k]; math.Float64bits(g) != math.Float64bits(want) {
					t.Errorf("A = %d, row %d, k %d: %v, want %v", A, r, k, g, want)
				}
			}
		}
	}
}

// TestWideRowsAssemblyMatchesGo: the assembly of the primitives over rows
// of any width gives the Go twins' bits for every chunk width its code
// writes out (one to eight vectors, and single columns), for rows wider
// than one chunk, and for rows of one to three entries.
func TestWideRowsAssemblyMatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 and FMA on this CPU: only the Go path runs here")
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for W := 1; W <= 76; W++ {
		for _, n := range []int{1, 2, 64} {
			special := W%5 == 0
			name := fmt.Sprintf("W=%d rows=%d", W, n)
			base, slope := randRows(rng, 4*W, special), randRows(rng, 4*W, special)
			off, m := randOffsets(rng, n, W, 4), randRows(rng, n, special)
			a, g := make([]float64, n*W), make([]float64, n*W)
			if !affineRowsAVX2(a, base, slope, off, m, W, 3*W) {
				t.Fatalf("%s: AffineRows: the assembly found an offset outside the table", name)
			}
			affineRowsGo(g, base, slope, off, m)
			if i := sameBits(a, g); i >= 0 {
				t.Errorf("%s: AffineRows element %d: assembly %v, Go %v", name, i, a[i], g[i])
			}

			src := randRows(rng, n*W, special)
			a = randRows(rng, 4*W, false)
			g = append([]float64(nil), a...)
			if !scatterAddRowsAVX2(a, src, off, W, 3*W) {
				t.Fatalf("%s: ScatterAddRows: the assembly found an offset outside the table", name)
			}
			scatterAddRowsGo(g, src, off)
			if i := sameBits(a, g); i >= 0 {
				t.Errorf("%s: ScatterAddRows element %d: assembly %v, Go %v", name, i, a[i], g[i])
			}

			am := randRows(rng, W, false)
			gm := append([]float64(nil), am...)
			g = append(g[:0], a...)
			if !scatterMomentAVX2(a, am, src, m, off, 3*W) {
				t.Fatalf("%s: ScatterAddRowsMoment: the assembly found an offset outside the table", name)
			}
			scatterAddRowsGo(g, src, off)
			addWeightedRowsGo(gm, src, m)
			if i := sameBits(a, g); i >= 0 {
				t.Errorf("%s: ScatterAddRowsMoment element %d: assembly %v, Go %v", name, i, a[i], g[i])
			}
			if i := sameBits(am, gm); i >= 0 {
				t.Errorf("%s: ScatterAddRowsMoment moment %d: assembly %v, Go %v", name, i, am[i], gm[i])
			}
		}
	}
}

// TestRowPrimitives checks what each primitive computes against its
// definition written out, through the dispatch (the assembly where this CPU
// has it and the width suits) and through Go, for every shape of
// rowCases: exactly where the definition fixes the operations, and the sums
// to their lane order on rows chosen so that any other order gives other
// bits.
func TestRowPrimitives(t *testing.T) {
	for _, path := range Paths() {
		was := SetPathForTest(path)
		for k, tc := range rowCases {
			rng := rand.New(rand.NewPCG(uint64(k), 12))
			n, A, G := tc.rows, tc.width, tc.groups
			name := fmt.Sprintf("path=%s,rows=%d,width=%d,groups=%d", path, n, A, G)
			W := A * G

			base, slope := randRows(rng, 5*W, false), randRows(rng, 5*W, false)
			off, m := randOffsets(rng, n, W, 5), randRows(rng, n, false)
			got := make([]float64, n*W)
			AffineRows(got, base, slope, off, m)
			for r := 0; r < n; r++ {
				for j := 0; j < W; j++ {
					if want := base[off[r]+j] + float64(m[r]*slope[off[r]+j]); got[r*W+j] != want {
						t.Fatalf("%s: AffineRows row %d column %d: %v, want %v", name, r, j, got[r*W+j], want)
					}
				}
			}

			dst := randRows(rng, 3*W, false)
			want := append([]float64(nil), dst...)
			src, off := randRows(rng, n*W, false), randOffsets(rng, n, W, 3)
			ScatterAddRows(dst, src, off)
			for r := 0; r < n; r++ {
				for j := 0; j < W; j++ {
					want[off[r]+j] += src[r*W+j]
				}
			}
			if i := sameBits(dst, want); i >= 0 {
				t.Fatalf("%s: ScatterAddRows element %d: %v, want %v", name, i, dst[i], want[i])
			}

			mom := randRows(rng, W, false)
			wantMom := append([]float64(nil), mom...)
			want = append(want[:0], dst...)
			ScatterAddRowsMoment(dst, mom, src, m, off)
			for r := 0; r < n; r++ {
				for j := 0; j < W; j++ {
					want[off[r]+j] += src[r*W+j]
					wantMom[j] += float64(m[r] * src[r*W+j])
				}
			}
			if i := sameBits(dst, want); i >= 0 {
				t.Fatalf("%s: ScatterAddRowsMoment element %d: %v, want %v", name, i, dst[i], want[i])
			}
			if i := sameBits(mom, wantMom); i >= 0 {
				t.Fatalf("%s: ScatterAddRowsMoment moment %d: %v, want %v", name, i, mom[i], wantMom[i])
			}

			// Rows whose lane sums cancel: any order but the lane order
			// rounds the small terms away differently.
			p := randDists(rng, n, A)
			x := randRows(rng, n*A, false)
			for r := 0; r < n; r++ {
				for a := 0; a < A; a++ {
					x[r*A+a] = []float64{1e17, 3, -1e17, 5, 1e16, -7, 11, -1e16}[a%8] / p[r*A+a]
				}
			}
			v := randRows(rng, n*G*A, false)
			for r := 0; r < n; r++ {
				copy(v[r*G*A:], x[r*A:r*A+A]) // the first group cancels too
			}
			omega, w := randRows(rng, n, false), randRows(rng, G, false)
			got = make([]float64, len(v))
			CentredRows(got, p, v, omega, w)
			for r := 0; r < n; r++ {
				for i := 0; i < G; i++ {
					k := (r*G + i) * A
					mean := laneSum(p[r*A:r*A+A], v[k:k+A])
					for a := 0; a < A; a++ {
						if want := (omega[r] * p[r*A+a]) * (w[i] * (v[k+a] - mean)); got[k+a] != want {
							t.Fatalf("%s: CentredRows row %d group %d entry %d: %v, want %v", name, r, i, a, got[k+a], want)
						}
					}
				}
			}
		}
		SetPathForTest(was)
	}
}

// laneSum is sum_a p_a x_a in the lane order, written out: each lane's
// entries summed from its first, an empty lane left out.
func laneSum(p, x []float64) float64 {
	var lanes [4][]float64
	for a := range p {
		lanes[a%4] = append(lanes[a%4], float64(p[a]*x[a]))
	}
	var s [4]float64
	for j, l := range lanes {
		if len(l) == 0 {
			s[j] = math.Copysign(0, -1)
			continue
		}
		s[j] = l[0]
		for _, v := range l[1:] {
			s[j] += v
		}
	}
	return (s[0] + s[2]) + (s[1] + s[3])
}

// TestLaneOrder: the lane order is not the sequential one, on rows where
// the two give different sums (else the checks above could not tell them
// apart).
func TestLaneOrder(t *testing.T) {
	for _, x := range [][]float64{{1e17, 3, -1e17, 5}, {1e17, 3, -1e17, 5, 1e16, -7}} {
		one := make([]float64, len(x))
		for i := range one {
			one[i] = 1
		}
		seq := 0.0
		for _, v := range x {
			seq += v
		}
		if got := dot(one, x); got == seq || got != laneSum(one, x) {
			t.Errorf("%v: lane sum %v, sequential %v, want the lane sum %v", x, got, seq, laneSum(one, x))
		}
	}
}

// TestRowPrimitivesPanics: mismatched lengths and offsets outside the table
// are programmer errors and panic, in the assembly (where this CPU has it)
// and in Go.
func TestRowPrimitivesPanics(t *testing.T) {
	for _, path := range Paths() {
		was := SetPathForTest(path)
		rowPanics(t)
		SetPathForTest(was)
	}
}

func rowPanics(t *testing.T) {
	four := make([]float64, 4)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"AffineRows partial row", func() { AffineRows(make([]float64, 5), four, four, []int{0, 0}, []float64{1, 2}) }},
		{"AffineRows offset past the end", func() { AffineRows(four, four, make([]float64, 8), []int{1}, []float64{1}) }},
		{"AffineRows negative offset", func() { AffineRows(four, four, four, []int{-1}, []float64{1}) }},
		{"CentredRows short x", func() { CentredRows(four, four, four, []float64{1}, []float64{1, 1}) }},
		{"ScatterAddRows offset past the end", func() { ScatterAddRows(four, four, []int{1}) }},
		{"ScatterAddRows table narrower than a row", func() { ScatterAddRows(make([]float64, 2), four, []int{0}) }},
		{"ScatterAddRowsMoment short src", func() { ScatterAddRowsMoment(four, four, four, []float64{1, 2}, []int{0, 0}) }},
		{"ScatterAddRowsMoment offset past the end", func() { ScatterAddRowsMoment(four, four, four, []float64{1}, []int{4}) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s (path avx2 %v): no panic", tc.name, useAVX2)
				}
			}()
			tc.f()
		}()
	}
}

// BenchmarkRowPrimitives times each primitive on a batch of 64 rows of four
// (five groups where there are groups), through the dispatch and in Go.
func BenchmarkRowPrimitives(b *testing.B) {
	const n, A, G = 64, 4, 5
	rng := rand.New(rand.NewPCG(1, 2))
	p, x := randDists(rng, n, A), randRows(rng, n*G*A, false)
	omega, w, m := randRows(rng, n, false), randRows(rng, G, false), randRows(rng, n, false)
	table := randRows(rng, 18*G*A, false)
	off, offA := randOffsets(rng, n, G*A, 18), randOffsets(rng, n, A, 6)
	dst, acc, mom := make([]float64, n*G*A), make([]float64, 6*G*A), make([]float64, G*A)
	for _, impl := range Paths() {
		was := SetPathForTest(impl)
		for _, bc := range []struct {
			name string
			f    func()
		}{
			{"AffineRows", func() { AffineRows(dst, table, table, off, m) }},
			{"CentredRows", func() { CentredRows(dst, p, x, omega, w) }},
			{"ScatterAddRows", func() { ScatterAddRows(acc, x, offA) }},
			{"ScatterAddRowsMoment", func() { ScatterAddRowsMoment(acc, mom, x, m, offA) }},
		} {
			b.Run(bc.name+"/"+impl, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					bc.f()
				}
			})
		}
		SetPathForTest(was)
	}
}
