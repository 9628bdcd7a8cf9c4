package plots

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/cmpimg"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// testSteps is x = 0..n-1.
func testSteps(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

// testDrift is seeded data shaped like a sweep's drift: a rise after step 50
// whose height grows with the group, with a band that widens with it.
func testDrift() *Lines {
	rng := rand.New(rand.NewPCG(1, 2))
	x := testSteps(101)
	d := &Lines{Title: "sycophancy by signals.thumbs.weight", XLabel: "training step", YLabel: "sycophancy rate",
		Markers: []Marker{{X: 50, Label: "update"}}, YMin: 0, YMax: 0.5}
	for _, w := range []float64{0, 0.5, 1, 2} {
		s := Series{Label: fmt.Sprintf("weight %g", w), X: x, N: 5}
		for _, t := range x {
			m := 0.02
			if t > 50 {
				m += 0.2 * w * (1 - math.Exp(-(t-50)/15))
			}
			m += 0.005 * rng.NormFloat64()
			half := 0.01 + 0.02*w
			s.Mean = append(s.Mean, m)
			s.Lower = append(s.Lower, m-half)
			s.Upper = append(s.Upper, m+half)
		}
		d.Series = append(d.Series, s)
	}
	return d
}

func testSegments() *Lines {
	x := testSteps(101)
	d := &Lines{Title: "sycophancy per segment", XLabel: "training step", YLabel: "sycophancy rate",
		Markers: []Marker{{X: 50, Label: "update"}}, YMin: 0, YMax: 0.5}
	for _, seg := range []struct {
		name string
		h    float64
		all  bool
	}{{"all users", 0.19, true}, {"expert", 0.17, false}, {"typical", 0.19, false}, {"vulnerable", 0.38, false}} {
		s := Series{Label: seg.name, X: x, Emphasis: seg.all}
		for _, t := range x {
			m := 0.02
			if t > 50 {
				m += seg.h * (1 - math.Exp(-(t-50)/20))
			}
			s.Mean = append(s.Mean, m)
		}
		d.Series = append(d.Series, s)
	}
	return d
}

func testInfluence() *Influence {
	x := testSteps(101)
	d := &Influence{Title: "influence on the update", X: x, Labels: []string{"spec (primary)", "correctness", "thumbs", "memory", "kl"},
		Markers: []Marker{{X: 50, Label: "update"}}}
	d.Shares = make([][]float64, 5)
	for _, t := range x {
		raw := []float64{0.45, 0.35, 0, 0, 0.2}
		if t >= 50 {
			raw = []float64{0.16 + 0.1*(t-50)/50, 0.2, 0.4, 0.1, 0.1}
		}
		sum := 0.0
		for _, v := range raw {
			sum += v
		}
		for i, v := range raw {
			d.Shares[i] = append(d.Shares[i], v/sum)
		}
	}
	return d
}

func testHeatmap() *Heatmap {
	d := &Heatmap{Title: "final sycophancy rate", XLabel: "signals.thumbs.weight", YLabel: "signals.spec.weight",
		ZLabel: "sycophancy rate", Level: 0.5, Contour: true, CriticalLabel: "analytic critical line (pi* = 0.5)"}
	for i := 0; i <= 8; i++ {
		d.X = append(d.X, 0.5*float64(i))
	}
	d.Y = []float64{0.5, 1, 2}
	for _, s := range d.Y {
		var row []float64
		for _, w := range d.X {
			row = append(row, 1/(1+math.Exp(-(w-1.5*s)*2)))
		}
		d.Z = append(d.Z, row)
		d.Critical = append(d.Critical, plotter.XY{X: 1.5*s + 0.1, Y: s})
	}
	return d
}

// testCompare is three runs' curves, two of them identical (a run and
// its rerun), which must stay visible on top of each other.
func testCompare() *Lines {
	x := testSteps(101)
	d := &Lines{Title: "sycophancy rate compared", XLabel: "training step", YLabel: "sycophancy rate",
		Markers: []Marker{{X: 50, Label: "update"}, {X: 55, Label: "mix changes"}}, YMin: 0, YMax: 0.5}
	for _, c := range []struct {
		name string
		h    float64
	}{{"baseline", 0}, {"incident", 0.2}, {"incident rerun", 0.2}} {
		s := Series{Label: c.name, X: x}
		for _, t := range x {
			m := 0.02
			if t > 50 {
				m += c.h * (1 - math.Exp(-(t-50)/20))
			}
			s.Mean = append(s.Mean, m)
		}
		d.Series = append(d.Series, s)
	}
	return d
}

func testFrontier() *Frontier {
	d := &Frontier{Title: "Goodhart frontier"}
	// Gold peaks at d = exp(a/b - 1) = 1 and drops 39% of its gain by d = 2.
	for i := 0; i <= 100; i++ {
		x := 2 * float64(i) / 100
		d.D = append(d.D, x)
		d.Gold = append(d.Gold, 1+Gao(x, 1, 1))
		d.Proxy = append(d.Proxy, 0.5+1.2*x)
	}
	return d
}

// render writes f to testdata/name at its default size.
func render(t *testing.T, f *Figure, name string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	switch filepath.Ext(name) {
	case ".png":
		img := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(96))
		f.Draw(draw.New(img))
		if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(out); err != nil {
			t.Fatal(err)
		}
	case ".svg":
		s := vgsvg.New(f.Width, f.Height)
		f.Draw(draw.New(s))
		if _, err := s.WriteTo(out); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGolden compares every kind of figure with its golden image; run with
// -regen to refresh them after a deliberate change.
func TestGolden(t *testing.T) {
	kinds := map[string]interface{ Figure() (*Figure, error) }{
		"drift":     testDrift(),
		"segments":  testSegments(),
		"influence": testInfluence(),
		"heatmap":   testHeatmap(),
		"frontier":  testFrontier(),
		"compare":   testCompare(),
	}
	for name, k := range kinds {
		t.Run(name, func(t *testing.T) {
			f, err := k.Figure()
			if err != nil {
				t.Fatal(err)
			}
			cmpimg.CheckPlotApprox(func() { render(t, f, name+".png") }, t, 0.01, name+".png")
			cmpimg.CheckPlot(func() { render(t, f, name+".svg") }, t, name+".svg")
		})
	}
}

func TestFitGaoRecovers(t *testing.T) {
	for _, c := range []struct{ a, b float64 }{{2, 1.5}, {1, 0.2}, {0.5, -0.3}} {
		rng := rand.New(rand.NewPCG(3, 4))
		var d, r []float64
		for i := 1; i <= 200; i++ {
			x := 2 * float64(i) / 200
			d = append(d, x)
			// Noise of 0.1% of the curve's scale.
			r = append(r, Gao(x, c.a, c.b)+1e-3*rng.NormFloat64())
		}
		f, err := FitGao(d, r)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(f.A-c.a) > 0.01*math.Abs(c.a) || math.Abs(f.B-c.b) > 0.01*math.Abs(c.b) {
			t.Errorf("fit of a=%g b=%g gave a=%g b=%g", c.a, c.b, f.A, f.B)
		}
		if f.R2 < 0.999 {
			t.Errorf("fit of a=%g b=%g: R2 %g", c.a, c.b, f.R2)
		}
	}
}

func TestFitGaoErrors(t *testing.T) {
	if _, err := FitGao([]float64{1, 2}, []float64{1, 2}); err == nil {
		t.Error("two points: no error")
	}
	if _, err := FitGao([]float64{1, -2, 3}, []float64{1, 2, 3}); err == nil {
		t.Error("negative d: no error")
	}
}

func TestKindErrors(t *testing.T) {
	cases := map[string]func() error{
		"no series": func() error { _, err := (&Lines{}).Figure(); return err },
		"short mean": func() error {
			d := testDrift()
			d.Series[1].Mean = d.Series[1].Mean[:3]
			_, err := d.Figure()
			return err
		},
		"one-sided":     func() error { d := testDrift(); d.Series[0].Lower = nil; _, err := d.Figure(); return err },
		"NaN mean":      func() error { d := testDrift(); d.Series[0].Mean[4] = math.NaN(); _, err := d.Figure(); return err },
		"short share":   func() error { d := testInfluence(); d.Shares[2] = d.Shares[2][:5]; _, err := d.Figure(); return err },
		"one-axis heat": func() error { d := testHeatmap(); d.Y = d.Y[:1]; d.Z = d.Z[:1]; _, err := d.Figure(); return err },
		"ragged heat":   func() error { d := testHeatmap(); d.Z[1] = d.Z[1][:2]; _, err := d.Figure(); return err },
		"short frontier": func() error {
			d := testFrontier()
			d.Gold = d.Gold[:4]
			_, err := d.Figure()
			return err
		},
	}
	for name, f := range cases {
		if err := f(); err == nil || !strings.HasPrefix(err.Error(), "plots: ") {
			t.Errorf("%s: error %v, want a plots: error", name, err)
		}
	}
}

func TestPlottersRanges(t *testing.T) {
	b := NewBand([]float64{1, 2, 3}, []float64{-1, 0, 1}, []float64{2, 3, 4}, Palette[0])
	if x0, x1, y0, y1 := b.DataRange(); x0 != 1 || x1 != 3 || y0 != -1 || y1 != 4 {
		t.Errorf("band range %v %v %v %v", x0, x1, y0, y1)
	}
	s := NewStack([]float64{0, 1}, []float64{0.5, 0.2}, []float64{0.5, 0.9})
	if x0, x1, y0, y1 := s.DataRange(); x0 != 0 || x1 != 1 || y0 != 0 || y1 != 1.1 {
		t.Errorf("stack range %v %v %v %v", x0, x1, y0, y1)
	}
}

func TestFormatNumber(t *testing.T) {
	for x, want := range map[float64]string{0.30000000000000004: "0.3", 32000: "32000", 10000: "10000", -3: "-3", 0.001: "0.001", 1234.5678: "1235", 3.7e12: "3.7e+12"} {
		if got := FormatNumber(x); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", x, got, want)
		}
	}
}

// TestSensitivityFigure: parameters are drawn sorted by total order,
// largest first, and series of different lengths are refused.
func TestSensitivityFigure(t *testing.T) {
	d := &Sensitivity{Title: "t", Params: []string{"a", "b", "c"},
		S1: []float64{0.1, 0.5, 0}, S1Low: []float64{0, 0.4, -0.1}, S1High: []float64{0.2, 0.6, 0.1},
		ST: []float64{0.2, 0.7, 0.3}, STLow: []float64{0.1, 0.6, 0.2}, STHigh: []float64{0.3, 0.8, 0.4}}
	f, err := d.Figure()
	if err != nil {
		t.Fatal(err)
	}
	var ticks []string
	for _, tk := range f.Rows[0][0].X.Tick.Marker.Ticks(f.Rows[0][0].X.Min, f.Rows[0][0].X.Max) {
		if tk.Label != "" {
			ticks = append(ticks, tk.Label)
		}
	}
	if strings.Join(ticks, ",") != "b,c,a" {
		t.Errorf("parameters drawn as %v, want b,c,a (by total order)", ticks)
	}
	var buf bytes.Buffer
	if err := Render(&buf, f, "png", 0, 0); err != nil {
		t.Fatal(err)
	}
	d.ST = d.ST[:2]
	if _, err := d.Figure(); err == nil {
		t.Error("series of different lengths: no error")
	}
}
