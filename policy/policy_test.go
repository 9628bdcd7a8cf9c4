package policy

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
)

// featureCases covers each block alone and together.
func featureCases() map[string]Features {
	traits := [][]float64{{0, 1, 0, 0.3}, {1, 0, 0, 0.8}, {1, 0, 1, 1}, {0.3, 0.3, 0, 0.5}}
	prior := []float64{0, -0.3, -1.5, -1}
	return map[string]Features{
		"tabular":        {Cells: 6, Actions: 4, Tabular: true, Prior: prior},
		"traits":         {Cells: 6, Actions: 4, Traits: traits},
		"tabular+memory": {Cells: 6, Actions: 4, Tabular: true, MemoryDim: 1, Prior: prior},
		"all":            {Cells: 3, Actions: 4, Tabular: true, Traits: traits, MemoryDim: 2, Prior: prior},
	}
}

func randomPolicy(f Features, rng *rand.Rand) *Policy {
	p := New(f)
	for i := range p.Theta {
		p.Theta[i] = rng.NormFloat64()
	}
	return p
}

func randomContext(f Features, rng *rand.Rand) Context {
	x := Context{Cell: rng.IntN(f.Cells)}
	for j := 0; j < f.MemoryDim; j++ {
		x.Memory = append(x.Memory, rng.Float64())
	}
	return x
}

// TestLogitsMatchPhi checks that the fast Logits path equals prior + theta . phi.
func TestLogitsMatchPhi(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, f := range featureCases() {
		p := randomPolicy(f, rng)
		phi := make([]float64, p.Dim())
		logits := make([]float64, f.Actions)
		for trial := 0; trial < 20; trial++ {
			x := randomContext(f, rng)
			p.Logits(logits, x)
			for a := 0; a < f.Actions; a++ {
				p.Phi(phi, x, a)
				want := floats.Dot(p.Theta, phi)
				if f.Prior != nil {
					want += f.Prior[a]
				}
				if math.Abs(logits[a]-want) > 1e-12 {
					t.Fatalf("%s: logit %d = %v, theta.phi = %v", name, a, logits[a], want)
				}
			}
		}
	}
}

// TestScoreGradientFD checks the gradient of E_pi[v] (ScoreCoef + AddScore)
// against central finite differences.
func TestScoreGradientFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for name, f := range featureCases() {
		p := randomPolicy(f, rng)
		for trial := 0; trial < 5; trial++ {
			x := randomContext(f, rng)
			v := make([]float64, f.Actions)
			for a := range v {
				v[a] = rng.NormFloat64()
			}
			probs := make([]float64, f.Actions)
			obj := func(theta []float64) float64 {
				q := p.Clone()
				copy(q.Theta, theta)
				q.Probs(probs, x)
				return floats.Dot(probs, v)
			}
			want := fd.Gradient(nil, obj, p.Theta, &fd.Settings{Formula: fd.Central, Step: 1e-5})
			p.Probs(probs, x)
			coef := make([]float64, f.Actions)
			ScoreCoef(coef, probs, v)
			got := make([]float64, p.Dim())
			p.AddScore(got, x, coef)
			assertClose(t, name+" score", got, want, 1e-8)
		}
	}
}

// TestKLGradientFD checks KL and its gradient (KLCoef + AddScore) against
// the definition and central finite differences.
func TestKLGradientFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for name, f := range featureCases() {
		p := randomPolicy(f, rng)
		ref := make([]float64, f.Actions)
		p.RefProbs(ref)
		for trial := 0; trial < 5; trial++ {
			x := randomContext(f, rng)
			probs := make([]float64, f.Actions)
			obj := func(theta []float64) float64 {
				q := p.Clone()
				copy(q.Theta, theta)
				q.Probs(probs, x)
				return KL(probs, ref)
			}
			want := fd.Gradient(nil, obj, p.Theta, &fd.Settings{Formula: fd.Central, Step: 1e-5})
			p.Probs(probs, x)
			coef := make([]float64, f.Actions)
			kl := KLCoef(coef, probs, ref)
			if d := math.Abs(kl - KL(probs, ref)); d > 1e-14 {
				t.Fatalf("%s: KLCoef returned %v, KL is %v", name, kl, KL(probs, ref))
			}
			got := make([]float64, p.Dim())
			p.AddScore(got, x, coef)
			assertClose(t, name+" KL", got, want, 1e-8)
		}
	}
}

// TestReferenceIsThetaZero checks that a new policy equals its reference and
// has zero KL to it, and that KL is positive once theta moves.
func TestReferenceIsThetaZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for name, f := range featureCases() {
		p := New(f)
		ref := make([]float64, f.Actions)
		p.RefProbs(ref)
		probs := make([]float64, f.Actions)
		x := randomContext(f, rng)
		p.Probs(probs, x)
		assertClose(t, name+" reference", probs, ref, 1e-15)
		if kl := KL(probs, ref); kl != 0 {
			t.Errorf("%s: KL(ref, ref) = %v", name, kl)
		}
		q := randomPolicy(f, rng)
		q.Probs(probs, x)
		if kl := KL(probs, ref); !(kl > 0) {
			t.Errorf("%s: KL of a moved policy = %v, want > 0", name, kl)
		}
	}
}

func TestSoftmaxStable(t *testing.T) {
	x := []float64{1000, 1000, -1000}
	Softmax(x)
	if math.Abs(x[0]-0.5) > 1e-15 || math.Abs(x[1]-0.5) > 1e-15 || x[2] != 0 {
		t.Fatalf("softmax of large logits = %v", x)
	}
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("%s: component %d = %.12g, want %.12g", what, i, got[i], want[i])
		}
	}
}

func BenchmarkProbsAddScore(b *testing.B) {
	f := featureCases()["tabular+memory"]
	rng := rand.New(rand.NewPCG(1, 1))
	p := randomPolicy(f, rng)
	x := randomContext(f, rng)
	probs := make([]float64, f.Actions)
	grad := make([]float64, p.Dim())
	for i := 0; i < b.N; i++ {
		p.Probs(probs, x)
		p.AddScore(grad, x, probs)
	}
}

// TestAddScoreSums: the batch form equals AddScore called per context.
func TestAddScoreSums(t *testing.T) {
	for name, f := range featureCases() {
		rng := rand.New(rand.NewPCG(3, 4))
		p := randomPolicy(f, rng)
		want := make([]float64, p.Dim())
		cellCoef := make([][]float64, f.Cells)
		for c := range cellCoef {
			cellCoef[c] = make([]float64, f.Actions)
		}
		memCoef := make([][]float64, f.MemoryDim)
		for j := range memCoef {
			memCoef[j] = make([]float64, f.Actions)
		}
		for n := 0; n < 20; n++ {
			x := randomContext(f, rng)
			coef := make([]float64, f.Actions)
			for a := range coef {
				coef[a] = rng.NormFloat64()
				cellCoef[x.Cell][a] += coef[a]
				for j, m := range x.Memory {
					memCoef[j][a] += m * coef[a]
				}
			}
			p.AddScore(want, x, coef)
		}
		got := make([]float64, p.Dim())
		p.AddScoreSums(got, cellCoef, memCoef)
		if !floats.EqualApprox(got, want, 1e-12) {
			t.Errorf("%s: AddScoreSums %v, AddScore per context %v", name, got, want)
		}
	}
}
