package plots

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// TestFitGaoFrom recovers (a, b) from gains measured from a first point
// at d0 > 0 (a step range that starts after step 0), where a fit from the
// origin would not.
func TestFitGaoFrom(t *testing.T) {
	for _, c := range []struct{ a, b, d0 float64 }{{2, 1.5, 0.5}, {1, 0.2, 0.1}, {0.5, -0.3, 1}} {
		rng := rand.New(rand.NewPCG(5, 6))
		var d, r []float64
		for i := 0; i <= 200; i++ {
			x := c.d0 + 2*float64(i)/200
			d = append(d, x)
			r = append(r, Gao(x, c.a, c.b)-Gao(c.d0, c.a, c.b)+1e-3*rng.NormFloat64())
		}
		f, err := FitGaoFrom(c.d0, d, r)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(f.A-c.a) > 0.01*math.Abs(c.a) || math.Abs(f.B-c.b) > 0.01*math.Abs(c.b) {
			t.Errorf("fit from d0=%g of a=%g b=%g gave a=%g b=%g", c.d0, c.a, c.b, f.A, f.B)
		}
		if g, err := FitGao(d, r); err == nil && math.Abs(g.A-c.a) <= 0.01*math.Abs(c.a) && math.Abs(g.B-c.b) <= 0.01*math.Abs(c.b) {
			t.Errorf("d0=%g: the fit from the origin recovers a and b too, so this case tests nothing", c.d0)
		}
	}
	if _, err := FitGaoFrom(-1, []float64{1, 2, 3}, []float64{0, 1, 2}); err == nil {
		t.Error("negative d0: no error")
	}
}

// TestFrontierLaterStart: a frontier whose first point is at d > 0 states
// the coefficients of the curve the points lie on and the steps fitted.
func TestFrontierLaterStart(t *testing.T) {
	d := &Frontier{}
	for i := 0; i <= 50; i++ {
		x := 0.5 + float64(i)/100
		d.D = append(d.D, x)
		d.Gold = append(d.Gold, 3+Gao(x, 1, 1))
		d.Proxy = append(d.Proxy, x)
		d.Steps = append(d.Steps, float64(100+i))
	}
	f, err := d.Figure()
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, e := range f.Key.Entries {
		labels = append(labels, e.Label)
	}
	all := strings.Join(labels, "\n")
	for _, want := range []string{"steps 100-150", "a=1, b=1,", "peak d*=1"} {
		if !strings.Contains(all, want) {
			t.Errorf("key %q lacks %q", all, want)
		}
	}
	if got := f.Rows[0][0].Y.Label.Text; got != "gain since step 100" {
		t.Errorf("y label %q", got)
	}
}

// TestValueTicks: a heat map axis has a tick at every swept value, at most
// max labels, and short labels for values such as 0.1+0.2.
func TestValueTicks(t *testing.T) {
	for _, n := range []int{2, 4, 5, 7, 21} {
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = float64(i) * 0.1 // 0.30000000000000004 at i = 3
		}
		ts := valueTicks{vals, vals, maxXTickLabels}.Ticks(vals[0], vals[n-1])
		labelled := 0
		for _, tk := range ts {
			if tk.Label != "" {
				labelled++
				if len(tk.Label) > 4 {
					t.Errorf("n=%d: label %q", n, tk.Label)
				}
			}
		}
		if len(ts) != n || labelled > maxXTickLabels || labelled < min(n, maxXTickLabels)-1 || ts[0].Label != "0" {
			t.Errorf("n=%d: %d ticks, %d labelled: %v", n, len(ts), labelled, ts)
		}
	}
	if got := FormatNumber(0.1 + 0.2); got != "0.3" {
		t.Errorf("FormatNumber(0.1+0.2) = %q", got)
	}
}

// TestLinesStyles: every series gets its own colour and dash pair, so
// that series drawn on top of each other stay visible.
func TestLinesStyles(t *testing.T) {
	d := &Lines{}
	x := []float64{0, 1, 2}
	for i := 0; i < 12; i++ {
		d.Series = append(d.Series, Series{Label: fmt.Sprint(i), X: x, Mean: []float64{1, 2, 3}})
	}
	f, err := d.Figure()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i, e := range f.Key.Entries {
		l := e.Thumbs[len(e.Thumbs)-1].(*plotter.Line)
		k := fmt.Sprint(colorKey(l.Color), l.Dashes)
		if j, ok := seen[k]; ok {
			t.Errorf("series %d and %d share colour and dashes %s", j, i, k)
		}
		seen[k] = i
	}
	if len(seen) != 12 {
		t.Errorf("%d styles for 12 series", len(seen))
	}
}

func colorKey(c color.Color) string { r, g, b, a := c.RGBA(); return fmt.Sprint(r, g, b, a) }

// TestKeyPlacement: at the paper-column width, the default size and a
// projector size, every figure's key lies outside the plots' area, its
// columns fit the width, and the plots keep most of the height.
func TestKeyPlacement(t *testing.T) {
	kinds := map[string]interface{ Figure() (*Figure, error) }{
		"drift": testDrift(), "segments": testSegments(), "influence": testInfluence(),
		"heatmap": testHeatmap(), "frontier": testFrontier(), "panels": testPanels(),
	}
	for name, k := range kinds {
		f, err := k.Figure()
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []vg.Length{8.5 * vg.Centimeter, f.Width, 32 * vg.Centimeter} {
			h := max(f.Height*w/f.Width, f.Height*6/10)
			img := vgimg.New(w, h)
			dc := draw.New(img)
			restore := f.scale(f.textScale(w, h))
			plots := dc
			l := f.Key.place(&plots, f.Side == nil)
			restore()
			width := l.c.Max.X - l.c.Min.X
			used := vg.Length(l.cols)*l.colWidth + vg.Length(l.cols-1)*keyGap
			below := l.c.Max.Y <= plots.Min.Y && l.c.Min.Y >= dc.Min.Y
			right := l.c.Min.X >= plots.Max.X
			switch {
			case !below && !right:
				t.Errorf("%s at %.1fcm: key %v overlaps the plots %v", name, w/vg.Centimeter, l.c.Rectangle, plots.Rectangle)
			case used > width:
				t.Errorf("%s at %.1fcm: key columns need %.0fpt, have %.0fpt", name, w/vg.Centimeter, used, width)
			case plots.Max.Y-plots.Min.Y < (dc.Max.Y-dc.Min.Y)/2:
				t.Errorf("%s at %.1fcm: the key leaves the plots %.0f of %.0fpt", name, w/vg.Centimeter, plots.Max.Y-plots.Min.Y, dc.Max.Y-dc.Min.Y)
			}
		}
	}
}

// TestScaleTextRestores: drawing at another size leaves the figure's
// fonts as they were, so that it can be drawn again at any size.
func TestScaleTextRestores(t *testing.T) {
	f, err := testDrift().Figure()
	if err != nil {
		t.Fatal(err)
	}
	p := f.Rows[0][0]
	before := []vg.Length{p.Title.TextStyle.Font.Size, p.X.Tick.Label.Font.Size, f.Key.Font.Size, f.texts[0].Font.Size}
	f.Draw(draw.New(vgimg.New(8.5*vg.Centimeter, 6*vg.Centimeter)))
	after := []vg.Length{p.Title.TextStyle.Font.Size, p.X.Tick.Label.Font.Size, f.Key.Font.Size, f.texts[0].Font.Size}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("font sizes %v after drawing, %v before", after, before)
	}
}

// TestMarkerRows: the label of a marker close to the previous one goes a
// row down; distant markers keep the top row.
func TestMarkerRows(t *testing.T) {
	vs := markerLines([]Marker{{X: 80, Label: "c"}, {X: 50, Label: "a"}, {X: 52, Label: "b"}, {X: 54, Label: "d"}}, 0, 100)
	var got []string
	for _, v := range vs {
		got = append(got, fmt.Sprintf("%s%d", v.Label, v.Row))
	}
	if strings.Join(got, " ") != "a0 b1 d2 c0" {
		t.Errorf("rows %v, want a0 b1 d2 c0", got)
	}
}

// TestHeatmapUnevenAxis: an axis of unevenly spaced values is drawn by
// position, every cell the same size, its ticks labelled by value, and a
// curve given in values lands between the positions of its neighbours.
func TestHeatmapUnevenAxis(t *testing.T) {
	pos, at := axisPositions([]float64{0.5, 1, 2, 4})
	if !slices.Equal(pos, []float64{0, 1, 2, 3}) {
		t.Fatalf("positions %v", pos)
	}
	for v, want := range map[float64]float64{0.5: 0, 1.5: 1.5, 3: 2.5, 4: 3, 0.25: -0.5} {
		if got := at(v); math.Abs(got-want) > 1e-12 {
			t.Errorf("value %v at %v, want %v", v, got, want)
		}
	}
	if pos, at := axisPositions([]float64{0, 0.1, 0.2, 0.30000000000000004}); pos[3] != 0.30000000000000004 || at(0.15) != 0.15 {
		t.Errorf("an even axis is drawn by value: %v", pos)
	}
	d := &Heatmap{X: []float64{0.5, 1, 2, 4}, Y: []float64{0, 1}, Z: [][]float64{{0, 1, 2, 3}, {1, 2, 3, 4}},
		Critical: plotter.XYs{{X: 1.5, Y: 0}, {X: 3, Y: 1}}, CriticalLabel: "line"}
	f, err := d.Figure()
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, tk := range f.Rows[0][0].X.Tick.Marker.Ticks(f.Rows[0][0].X.Min, f.Rows[0][0].X.Max) {
		labels = append(labels, fmt.Sprintf("%g:%s", tk.Value, tk.Label))
	}
	if strings.Join(labels, " ") != "0:0.5 1:1 2:2 3:4" {
		t.Errorf("x ticks %v", labels)
	}
}
