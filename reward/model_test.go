package reward

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// randomThumbs draws groups of thumbs from a known model: each group a
// cell, a response, a stance and a number of thumbs, of which ups are
// binomial with the model's probability.
func randomThumbs(truth *ThumbsModel, groups, perGroup int, seed uint64) []ThumbCounts {
	rng := rand.New(rand.NewPCG(seed, 3))
	var out []ThumbCounts
	for i := 0; i < groups; i++ {
		d := ThumbCounts{Cell: rng.IntN(truth.Cells), Action: rng.IntN(truth.Actions)}
		if truth.Memory {
			d.Memory = rng.Float64()
		}
		p := Sigmoid(truth.Score(d.Cell, d.Action, d.Memory))
		for k := 0; k < perGroup; k++ {
			if rng.Float64() < p {
				d.Ups++
			} else {
				d.Downs++
			}
		}
		out = append(out, d)
	}
	return out
}

// TestFitThumbsModelOptimum: the fit is the maximum of the penalised
// likelihood: its gradient, by central finite differences of the
// objective, vanishes there.
func TestFitThumbsModelOptimum(t *testing.T) {
	for _, memory := range []bool{false, true} {
		truth := &ThumbsModel{Cells: 6, Actions: 4, Memory: memory, Coef: make([]float64, 24+4)}
		rng := rand.New(rand.NewPCG(7, 7))
		for j := range truth.Coef {
			truth.Coef[j] = 2 * rng.NormFloat64()
		}
		if !memory {
			truth.Coef = truth.Coef[:24]
		}
		data := randomThumbs(truth, 300, 5, 11)
		for _, l2 := range []float64{0.01, 1, 30} {
			m, err := FitThumbsModel(6, 4, memory, data, l2)
			if err != nil {
				t.Fatal(err)
			}
			// Every coefficient and, last, the intercept.
			at := append(append([]float64(nil), m.Coef...), m.Intercept)
			grad := fd.Gradient(nil, func(c []float64) float64 {
				saved, b := m.Coef, m.Intercept
				m.Coef, m.Intercept = c[:len(c)-1], c[len(c)-1]
				defer func() { m.Coef, m.Intercept = saved, b }()
				return m.objective(data, l2)
			}, at, &fd.Settings{Formula: fd.Central, Step: 1e-5})
			for j, g := range grad {
				if math.Abs(g) > 1e-5 {
					t.Errorf("memory %v, l2 %g: d objective / d coef %d = %g at the fit", memory, l2, j, g)
				}
			}
		}
	}
}

// TestFitThumbsModelRecovers: with many thumbs and little regularisation
// the fit recovers the coefficients that drew them, to within a few
// standard errors.
func TestFitThumbsModelRecovers(t *testing.T) {
	truth := &ThumbsModel{Cells: 3, Actions: 4, Memory: true, Coef: []float64{
		0.5, -1, 1.5, 0, -0.5, 1, 0.2, -2, 1, 1, -1, 0.3, // cells
		2, -1, 0.5, 0}} // memory slopes
	data := randomThumbs(truth, 4000, 50, 5) // 200,000 thumbs
	m, err := FitThumbsModel(3, 4, true, data, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	// The scores are what the data identify (the intercept and the cell
	// coefficients trade off). About 200,000/12 thumbs inform each cell: a
	// standard error near 0.05 for a score; 0.2 is 4 of them.
	for c := 0; c < truth.Cells; c++ {
		for a := 0; a < truth.Actions; a++ {
			for _, mem := range []float64{0, 0.5, 1} {
				if got, want := m.Score(c, a, mem), truth.Score(c, a, mem); math.Abs(got-want) > 0.2 {
					t.Errorf("cell %d response %d stance %g: score %.3f, drawn from %.3f", c, a, mem, got, want)
				}
			}
		}
	}
	// A response never logged is shrunk towards the mean thumb: its score
	// is the intercept, the mean log-odds, not even odds.
	some := []ThumbCounts{{Cell: 0, Action: 0, Ups: 80, Downs: 20}, {Cell: 0, Action: 1, Ups: 70, Downs: 30}}
	m, err = FitThumbsModel(1, 3, false, some, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Score(0, 2, 0); !(s > 1 && s < 1.7) {
		t.Errorf("an unlogged response scores %.3f, want about the mean log-odds of 150 ups in 200 (1.1)", s)
	}
}

// TestFitThumbsModelEdges: no thumbs give the zero model; a cell with only
// ups is pulled back by the penalty to a finite score, where the gradient
// of its one-dimensional problem vanishes: ups (1 - sigmoid(s)) = l2 s.
func TestFitThumbsModelEdges(t *testing.T) {
	m, err := FitThumbsModel(2, 2, true, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	for j, c := range m.Coef {
		if c != 0 {
			t.Errorf("no data: coefficient %d is %v", j, c)
		}
	}
	// All ups: the penalties keep the score finite, where both stationary
	// conditions hold: ups (1 - sigmoid(score)) = l2 coef = interceptL2 b.
	m, err = FitThumbsModel(1, 1, false, []ThumbCounts{{Ups: 40}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	s, pull := m.Score(0, 0, 0), 40*(1-Sigmoid(m.Score(0, 0, 0)))
	if r1, r2 := pull-2*m.Coef[0], pull-interceptL2*m.Intercept; math.Abs(r1) > 1e-9 || math.Abs(r2) > 1e-9 || !(s > 10) || math.IsInf(s, 0) {
		t.Errorf("all ups: score %v (coefficient %v, intercept %v), residuals %v, %v", s, m.Coef[0], m.Intercept, r1, r2)
	}
	if _, err := FitThumbsModel(1, 1, true, []ThumbCounts{{Ups: 1, Memory: math.NaN()}}, 1); err == nil {
		t.Error("a NaN stance was fitted")
	}
}
