package vmath

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sumsInput is a random NormalizedSums problem: n rows, A = 4, G groups,
// with row bad (if >= 0) made to underflow.
func sumsInput(n, G, bad int, seed uint64) (f, m, e []float64) {
	const A = 4
	rng := rand.New(rand.NewPCG(seed, 7))
	f = make([]float64, n*A)
	for i := range f {
		f[i] = math.Exp(-5 * rng.Float64())
	}
	m = make([]float64, n)
	for i := range m {
		m[i] = rng.Float64()
	}
	e = make([]float64, G*A*4)
	for i := range e {
		e[i] = math.Exp(-5 * rng.Float64())
	}
	if bad >= 0 {
		for a := 0; a < A; a++ {
			f[bad*A+a] = 1e-300
		}
	}
	return f, m, e
}

type sumsOut struct {
	mass, moment, prod, zbuf []float64
	exp                      []int64
	done                     int
}

// runSums runs fn on a problem with fresh sums and a zbuf of block rows.
func runSums(fn func(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int, f, m, e []float64, block int) sumsOut {
	G := len(e) / 16
	o := sumsOut{mass: make([]float64, len(e)), moment: make([]float64, len(e)),
		prod: make([]float64, 4*G), zbuf: make([]float64, 4*G*block), exp: make([]int64, 4*G)}
	for i := range o.prod {
		o.prod[i] = 1
	}
	o.done = fn(f, m, e, o.mass, o.moment, o.prod, o.exp, o.zbuf)
	return o
}

func TestNormalizedSums(t *testing.T) {
	const n, G, A = 50, 2, 4
	f, m, e := sumsInput(n, G, -1, 1)
	got := runSums(NormalizedSums, f, m, e, 16)
	if got.done != n {
		t.Fatalf("done %d rows, want %d", got.done, n)
	}
	for c := 0; c < 4*G; c++ {
		g, lane := c/4, c%4
		logProd := 0.0
		for a := 0; a < A; a++ {
			k := (g*A+a)*4 + lane
			mass, moment := 0.0, 0.0
			for u := 0; u < n; u++ {
				z := 0.0
				for b := 0; b < A; b++ {
					z += e[(g*A+b)*4+lane] * f[u*A+b]
				}
				mass += f[u*A+a] / z
				moment += m[u] * f[u*A+a] / z
				if a == 0 {
					logProd += math.Log(z)
				}
			}
			if math.Abs(got.mass[k]-mass) > 1e-13*mass || math.Abs(got.moment[k]-moment) > 1e-13*moment {
				t.Errorf("cell %d response %d: mass %v moment %v, want %v %v", c, a, got.mass[k], got.moment[k], mass, moment)
			}
		}
		if p := got.prod[c]; p < 1 || p >= 2 {
			t.Errorf("cell %d: mantissa %v outside [1, 2)", c, p)
		}
		if lp := math.Log(got.prod[c]) + float64(got.exp[c])*math.Ln2; math.Abs(lp-logProd) > 1e-12*math.Abs(logProd) {
			t.Errorf("cell %d: log of the product %v, want %v", c, lp, logProd)
		}
	}
	// A row that underflows stops the sums before it is counted.
	f, m, e = sumsInput(n, G, 17, 2)
	stopped := runSums(NormalizedSums, f, m, e, 16)
	upTo := runSums(NormalizedSums, f[:17*A], m[:17], e, 16)
	if stopped.done != 17 || !slices.Equal(stopped.mass, upTo.mass) || !slices.Equal(stopped.prod, upTo.prod) {
		t.Errorf("underflowing row 17: done %d, sums equal to the first 17 rows' %v", stopped.done,
			slices.Equal(stopped.mass, upTo.mass))
	}
}

// TestNormalizedSumsAssemblyMatchesGo: where the CPU has AVX2 and FMA (and
// AVX-512, for two groups), each assembly body and the Go lanes give the
// same bits, in blocks of one row and
// more, with a row that underflows at the start, inside and at the end of
// a block.
func TestNormalizedSumsAssemblyMatchesGo(t *testing.T) {
	if !hasAssembly() {
		t.Skip("no AVX2 and FMA on this CPU: only the Go path runs here")
	}
	for _, tc := range []struct{ n, G, bad, block int }{{0, 1, -1, 1}, {1, 1, -1, 1}, {500, 2, -1, 1}, {500, 2, -1, 64},
		{300, 3, 299, 7}, {300, 3, 299, 300}, {40, 2, 0, 8}, {40, 2, 16, 8}, {40, 2, 21, 8}, {40, 2, 23, 8}, {100, 1, 50, 1}} {
		f, m, e := sumsInput(tc.n, tc.G, tc.bad, uint64(tc.n+tc.G))
		b := runSums(sumsGo, f, m, e, 1)
		kernels := map[string]func(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int{"avx2": sumsAVX2}
		if hasAVX512() && tc.G == 2 {
			kernels["avx512"] = sumsAVX512
		}
		for name, kernel := range kernels {
			a := runSums(kernel, f, m, e, tc.block)
			bits := func(x []float64) []uint64 {
				out := make([]uint64, len(x))
				for i, v := range x {
					out[i] = math.Float64bits(v)
				}
				return out
			}
			if a.done != b.done || !slices.Equal(bits(a.mass), bits(b.mass)) || !slices.Equal(bits(a.moment), bits(b.moment)) ||
				!slices.Equal(bits(a.prod), bits(b.prod)) || !slices.Equal(a.exp, b.exp) {
				t.Errorf("%+v: %s and Go differ (done %d, %d)", tc, name, a.done, b.done)
			}
		}
	}
}

func BenchmarkNormalizedSums(b *testing.B) {
	f, m, e := sumsInput(500, 2, -1, 3)
	o := runSums(NormalizedSums, f, m, e, 64)
	for _, impl := range []struct {
		name string
		fn   func(f, m, e, mass, moment, prod []float64, exp []int64, zbuf []float64) int
	}{{"dispatch", NormalizedSums}, {"avx2", sumsAVX2}, {"go", sumsGo}} {
		b.Run(impl.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				impl.fn(f, m, e, o.mass, o.moment, o.prod, o.exp, o.zbuf)
			}
		})
	}
}
