package vmath

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// maxULP bounds Exp's error, in units in the last place, against the
// exact exponential (TestExpAccuracy measures 1 ulp) and against
// math.Exp (2 ulp: on amd64 math.Exp is itself sometimes 2 ulp off, for
// example at 1.7423513789488219).
const (
	maxULP     = 1
	maxULPMath = 2
)

// ulps is the distance between two finite doubles of the same sign in
// units in the last place, counting through subnormals.
func ulps(a, b float64) int64 {
	d := int64(math.Float64bits(a)) - int64(math.Float64bits(b))
	if d < 0 {
		d = -d
	}
	return d
}

// ln2 to 110 digits, for the reference.
const ln2Digits = "0.69314718055994530941723212145817656807550013436025525412068000949339362196969471560586332699641868754200148102"

// exactExp is exp(x) rounded to the nearest double, from a Taylor series
// in 256-bit arithmetic after reducing x by a multiple of ln 2.
func exactExp(x float64) float64 {
	switch {
	case x > 710:
		return math.Inf(1)
	case x < -746:
		return 0
	}
	const prec = 256
	ln2, _, err := big.ParseFloat(ln2Digits, 10, prec, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	n := math.RoundToEven(x / math.Ln2)
	r := new(big.Float).SetPrec(prec).SetFloat64(x)
	r.Sub(r, new(big.Float).SetPrec(prec).Mul(ln2, new(big.Float).SetFloat64(n)))
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	for k := int64(1); k < 60; k++ {
		term.Mul(term, r)
		term.Quo(term, new(big.Float).SetInt64(k))
		sum.Add(sum, term)
	}
	sum.SetMantExp(sum, int(n))
	f, _ := sum.Float64()
	return f
}

// inputs returns x values over the whole range of exp, denser where
// results are normal, with the edges and special values.
func inputs() []float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -0.5, math.Ln2 / 2, -math.Ln2 / 2,
		1e-300, -1e-300, 5e-324, 1e-10, -1e-10,
		709.78, 709.782712893383973096, 709.79, 710, 1000, 1e300, math.MaxFloat64,
		-708.39, -708.4, -709, -744, -745, -745.13, -745.14, -746, -1000, -1e300, -math.MaxFloat64}
	for i := 0; i < 200_000; i++ {
		xs = append(xs, -745.2+rng.Float64()*(709.8+745.2)) // whole range, subnormals included
		xs = append(xs, -20+40*rng.Float64())               // where the simulator lives
		xs = append(xs, (rng.Float64()-0.5)*1e-3)
	}
	for k := -1100; k <= 1030; k++ { // half-way points of the reduction
		xs = append(xs, (float64(k)+0.5)*math.Ln2)
	}
	return xs
}

func TestExpAccuracy(t *testing.T) {
	xs := inputs()
	got := make([]float64, len(xs))
	Exp(got, xs)
	var worst, worstMath int64
	var worstX, worstMathX float64
	for i, x := range xs {
		if i%20 == 0 || i < 40 { // the exact reference is slow: every 20th input, and the edge cases
			want := exactExp(x)
			if d := ulps(got[i], want); d > worst {
				worst, worstX = d, x
			}
		}
		if x > 709.4 { // math.Exp on amd64 overflows to +Inf early, from about 709.44
			continue
		}
		if d := ulps(got[i], math.Exp(x)); d > worstMath {
			worstMath, worstMathX = d, x
		}
	}
	t.Logf("max error %d ulp against the exact exponential (at x = %v), %d ulp against math.Exp (at x = %v), over %d inputs",
		worst, worstX, worstMath, worstMathX, len(xs))
	if worst > maxULP {
		t.Errorf("max error %d ulp at x = %v (Exp %v, exact %v), want <= %d", worst, worstX, exp1(worstX), exactExp(worstX), maxULP)
	}
	if worstMath > maxULPMath {
		t.Errorf("max difference from math.Exp %d ulp at x = %v (Exp %v, math.Exp %v), want <= %d",
			worstMath, worstMathX, exp1(worstMathX), math.Exp(worstMathX), maxULPMath)
	}
}

func TestExpSpecial(t *testing.T) {
	cases := []struct {
		x, want float64
	}{
		{0, 1},
		{math.Copysign(0, -1), 1},
		{math.Inf(1), math.Inf(1)},
		{math.Inf(-1), 0},
		{1000, math.Inf(1)},
		{709.79, math.Inf(1)},
		{-746, 0},
		{-1000, 0},
		{-745.1, 5e-324}, // the smallest subnormal
		{1, math.E},
	}
	xs := make([]float64, 0, 4*len(cases))
	for _, c := range cases {
		xs = append(xs, c.x, c.x, c.x, c.x) // through the assembly and the scalar tail
	}
	xs = append(xs, cases[0].x)
	got := make([]float64, len(xs))
	Exp(got, xs)
	for i, x := range xs {
		want := cases[i/4%len(cases)].want
		if i == len(xs)-1 {
			want = cases[0].want
		}
		if math.Abs(got[i]-want) > 4e-16*want {
			t.Errorf("Exp(%v) = %v, want %v", x, got[i], want)
		}
	}
	// -745.1: the subnormal must be exactly math.Exp's.
	if got := exp1(-745.1); got != math.Exp(-745.1) || got == 0 {
		t.Errorf("exp1(-745.1) = %v, want %v", got, math.Exp(-745.1))
	}
	nan := []float64{math.NaN(), 1, math.NaN(), -1, math.NaN()}
	out := make([]float64, len(nan))
	Exp(out, nan)
	for i, v := range out {
		if math.IsNaN(nan[i]) != math.IsNaN(v) {
			t.Errorf("Exp(%v) = %v", nan[i], v)
		}
	}
}

// TestExpAssemblyMatchesGo checks, where the CPU has AVX2 and FMA (and
// AVX-512), that each assembly body and the pure-Go lane give the same
// bits on every input.
func TestExpAssemblyMatchesGo(t *testing.T) {
	if !hasAssembly() {
		t.Skip("no AVX2 and FMA on this CPU: only the Go path runs here")
	}
	xs := append(inputs(), math.NaN(), math.Inf(1), math.Inf(-1), -0.0)
	for len(xs)%8 != 0 {
		xs = append(xs, 0)
	}
	kernels := map[string]func(dst, x []float64, c *[19]float64){"avx2": expAVX2}
	if hasAVX512() {
		kernels["avx512"] = expAVX512
	}
	for name, kernel := range kernels {
		got := make([]float64, len(xs))
		kernel(got, xs, &expConst)
		for i, x := range xs {
			want := exp1(x)
			if math.Float64bits(got[i]) != math.Float64bits(want) {
				t.Fatalf("%s: x = %v (%#x): assembly %v (%#x), Go %v (%#x)", name, x, math.Float64bits(x),
					got[i], math.Float64bits(got[i]), want, math.Float64bits(want))
			}
		}
	}
}

func TestExpInPlace(t *testing.T) {
	x := []float64{-2, -1, 0, 1, 2, 3, 4}
	want := make([]float64, len(x))
	Exp(want, x)
	Exp(x, x)
	for i := range x {
		if x[i] != want[i] {
			t.Errorf("in place: %v, want %v", x[i], want[i])
		}
	}
}

func BenchmarkExp(b *testing.B) {
	x := make([]float64, 2000)
	for i := range x {
		x[i] = -float64(i%97) / 10
	}
	dst := make([]float64, len(x))
	b.Run("vmath", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Exp(dst, x)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/exp")
	})
	b.Run("math", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for j, v := range x {
				dst[j] = math.Exp(v)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/exp")
	})
}

// TestExpOuter: ExpOuter gives Exp of the products, bit for bit, through
// the assembly (four columns) and the Go path (three).
func TestExpOuter(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	m := make([]float64, 101)
	for i := range m {
		m[i] = rng.Float64() * 3
	}
	m[7], m[8] = 0, math.NaN()
	for _, n := range []int{4, 3} {
		d := make([]float64, n)
		for j := range d {
			d[j] = -40 * rng.Float64()
		}
		d[1] = 0
		got := make([]float64, len(m)*n)
		ExpOuter(got, m, d)
		x := make([]float64, len(m)*n)
		for i, mi := range m {
			for j, dj := range d {
				x[i*n+j] = mi * dj
			}
		}
		want := make([]float64, len(x))
		Exp(want, x)
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%d columns: element %d: ExpOuter %v, Exp of the product %v", n, i, got[i], want[i])
			}
		}
		if got[7*n+2] != math.Exp(0) || !math.IsNaN(got[8*n]) {
			t.Errorf("%d columns: exp(0 d) = %v, exp(NaN d) = %v", n, got[7*n+2], got[8*n])
		}
	}
	// The same through every path (101 rows: AVX-512 takes two at a time,
	// AVX2 the last), and Exp of lengths that leave tails.
	d := []float64{-1, 0, -2.5, -30}
	x := make([]float64, 4*len(m)+3)
	for i := range x {
		x[i] = -float64(i%37) / 3
	}
	var ref, refExp []float64
	for _, path := range Paths() {
		was := SetPathForTest(path)
		got, gotExp := make([]float64, 4*len(m)), make([]float64, len(x))
		ExpOuter(got, m, d)
		Exp(gotExp, x)
		SetPathForTest(was)
		if ref == nil {
			ref, refExp = got, gotExp
			continue
		}
		for i := range ref {
			if math.Float64bits(got[i]) != math.Float64bits(ref[i]) {
				t.Fatalf("ExpOuter element %d: %s %v, go %v", i, path, got[i], ref[i])
			}
		}
		for i := range refExp {
			if math.Float64bits(gotExp[i]) != math.Float64bits(refExp[i]) {
				t.Fatalf("Exp element %d: %s %v, go %v", i, path, gotExp[i], refExp[i])
			}
		}
	}
}
