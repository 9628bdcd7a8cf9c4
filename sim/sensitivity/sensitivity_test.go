package sensitivity_test

import (
	"math"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim/sensitivity"
)

// ishigami is the Ishigami function, the standard test of sensitivity
// analysis, on [-pi, pi]^3 with a = 7, b = 0.1.
func ishigami(x []float64) float64 {
	const a, b = 7, 0.1
	return math.Sin(x[0]) + a*math.Sin(x[1])*math.Sin(x[1]) + b*math.Pow(x[2], 4)*math.Sin(x[0])
}

// TestIshigami: on the Saltelli design a Sobol sweep runs, the estimates
// of the Ishigami function's indices lie within their bootstrap intervals
// of the closed forms (Sobol' and Levitan 1999): with V = a^2/8 + b pi^4/5
// + b^2 pi^8/18 + 1/2, S1 = (1/2 (1 + b pi^4/5)^2, a^2/8, 0) / V and
// ST_1 = S1_1 + V13/V, ST_2 = S1_2, ST_3 = V13/V, V13 = b^2 pi^8 (1/18 -
// 1/50). The intervals are also checked to be narrow, so that the test can
// fail.
func TestIshigami(t *testing.T) {
	const a, b = 7.0, 0.1
	p4, p8 := math.Pow(math.Pi, 4), math.Pow(math.Pi, 8)
	V := a*a/8 + b*p4/5 + b*b*p8/18 + 0.5
	V1, V2, V13 := 0.5*(1+b*p4/5)*(1+b*p4/5), a*a/8, b*b*p8*(1.0/18-1.0/50)
	wantS1 := []float64{V1 / V, V2 / V, 0}
	wantST := []float64{(V1 + V13) / V, V2 / V, V13 / V}

	const N, d = 4096, 3
	pts := configs.SaltelliPoints(N, d, 1)
	des := sensitivity.NewDesign(N, d)
	x := make([]float64, d)
	for k, u := range pts {
		for i := range x {
			x[i] = -math.Pi + 2*math.Pi*u[i]
		}
		des.Set(k/(d+2), k%(d+2), ishigami(x))
	}
	idx, err := sensitivity.Indices(des, 500, 7)
	if err != nil {
		t.Fatal(err)
	}
	for i, ix := range idx {
		t.Logf("x%d: S1 %.4f [%.4f, %.4f] (%.4f), ST %.4f [%.4f, %.4f] (%.4f)", i+1, ix.S1, ix.S1Low, ix.S1High, wantS1[i], ix.ST, ix.STLow, ix.STHigh, wantST[i])
		if !(ix.S1Low <= wantS1[i] && wantS1[i] <= ix.S1High) || ix.S1High-ix.S1Low > 0.1 {
			t.Errorf("x%d: S1 %.4f [%.4f, %.4f], closed form %.4f", i+1, ix.S1, ix.S1Low, ix.S1High, wantS1[i])
		}
		if !(ix.STLow <= wantST[i] && wantST[i] <= ix.STHigh) || ix.STHigh-ix.STLow > 0.1 {
			t.Errorf("x%d: ST %.4f [%.4f, %.4f], closed form %.4f", i+1, ix.ST, ix.STLow, ix.STHigh, wantST[i])
		}
	}
}

// TestIndicesRefuses: a design whose output does not vary, or whose base
// samples all failed, is an error, not NaN indices.
func TestIndicesRefuses(t *testing.T) {
	flat := sensitivity.Design{A: []float64{1, 1, 1}, B: []float64{1, 1, 1}, AB: [][]float64{{1, 1, 1}, {1, 1, 1}}}
	if _, err := sensitivity.Indices(flat, 10, 1); err == nil {
		t.Error("an output that does not vary: no error")
	}
	nan := math.NaN()
	failed := sensitivity.Design{A: []float64{nan, 1, nan}, B: []float64{1, 2, 3}, AB: [][]float64{{1, 2, 3}, {1, 2, 3}}}
	if _, err := sensitivity.Indices(failed, 10, 1); err == nil {
		t.Error("one usable base sample: no error")
	}
}

// TestSpreadOf: the spread of a design's A and B outputs, NaN left out,
// against order statistics worked by hand (type 7: the 5% quantile of
// 1..9 is at 0.4 of the way from 1 to 2).
func TestSpreadOf(t *testing.T) {
	d := sensitivity.NewDesign(5, 1)
	for j, y := range []float64{1, 2, 3, 4, 5} {
		d.Set(j, 0, y)
		d.Set(j, 1, y+5)
	}
	d.Set(4, 1, math.NaN()) // 10 is missing: 1..9 remain
	s := sensitivity.SpreadOf(d)
	if s.N != 9 || s.Mean != 5 || s.Median != 5 || math.Abs(s.Q05-1.4) > 1e-12 || math.Abs(s.Q95-8.6) > 1e-12 {
		t.Errorf("spread %+v", s)
	}
}
