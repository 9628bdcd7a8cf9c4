package plots

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func testPanels() *Panels {
	x := []float64{0, 1, 2, 3}
	return &Panels{
		Title: "t", XLabel: "step", X: x,
		Panels: []Panel{
			{YLabel: "rate", YMin: 0, YMax: 1, Lines: []Line{{Label: "a", Y: []float64{0, 0.1, 0.2, 0.3}}, {Label: "all", Y: []float64{0, 0.2, 0.3, 0.4}, Emphasis: true}}},
			{YLabel: "u", Lines: []Line{{Label: "g", Y: []float64{1, 2, 3, 4}}}},
		},
		Markers: []Marker{{X: 2, Label: "update"}, {X: 99, Label: "outside"}},
	}
}

func TestPanelsFigure(t *testing.T) {
	f, err := testPanels().Figure()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 2 || f.Width <= 0 || f.Height <= 0 {
		t.Fatalf("figure has %d rows, size %v x %v", len(f.Rows), f.Width, f.Height)
	}
	p := f.Rows[0][0]
	if p.Y.Min > 0 || p.Y.Max < 1 {
		t.Errorf("rate panel y range [%v, %v], want it to include [0, 1]", p.Y.Min, p.Y.Max)
	}
	if p.X.Min != 0 || p.X.Max != 3 {
		t.Errorf("x range [%v, %v], want [0, 3]", p.X.Min, p.X.Max)
	}
	if f.Rows[1][0].X.Label.Text != "step" || f.Rows[0][0].X.Label.Text != "" {
		t.Error("only the bottom panel should carry the x label")
	}
	// Drawing must not panic, including the marker outside the x range.
	c := vgimg.New(10*vg.Centimeter, 10*vg.Centimeter)
	f.Draw(draw.New(c))
}

func TestPanelsErrors(t *testing.T) {
	cases := map[string]func(*Panels){
		"no x":         func(d *Panels) { d.X = nil },
		"short series": func(d *Panels) { d.Panels[1].Lines[0].Y = []float64{1, 2} },
		"NaN":          func(d *Panels) { d.Panels[1].Lines[0].Y[2] = math.NaN() },
		"Inf":          func(d *Panels) { d.Panels[0].Lines[0].Y[0] = math.Inf(1) },
	}
	for name, mutate := range cases {
		d := testPanels()
		mutate(d)
		if _, err := d.Figure(); err == nil || !strings.HasPrefix(err.Error(), "plots: ") {
			t.Errorf("%s: error %v, want a plots: error", name, err)
		}
	}
}

// TestPanelsSingleLineNotKeyed: a panel's one line is named by its y
// label, not the key, so it takes no colour of the key's lines (it took the
// first palette colour, the top panel's first line's).
func TestPanelsSingleLineNotKeyed(t *testing.T) {
	colour := 0
	keyed, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	stylePanelLine(keyed, false, true, &colour)
	single, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	colour = 0
	stylePanelLine(single, false, false, &colour)
	if keyed.Color != Palette[0] || single.Color != greyish {
		t.Errorf("keyed line %v, single line %v; want %v and grey", keyed.Color, single.Color, Palette[0])
	}
}
