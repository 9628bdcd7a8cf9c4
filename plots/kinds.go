package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Default figure sizes: one column of a two-column paper is about 8.5 cm;
// these are drawn for a full-width figure or a slide.
const (
	defaultWidth  = 16 * vg.Centimeter
	defaultHeight = 10 * vg.Centimeter
)

// Series is a metric over steps: the mean over N replicates and, when Lower
// and Upper are set, its 95% confidence band.
type Series struct {
	Label        string
	X, Mean      []float64
	Lower, Upper []float64 // nil: no band
	N            int       // replicates behind the mean; 0 or 1: none stated
	// Emphasis draws the line black and dashed, on top (for a total
	// beside its parts).
	Emphasis bool
}

// Lines is one plot of several series over steps, each with its band: the
// drift, segments and compare figures.
type Lines struct {
	Title, XLabel, YLabel string
	Series                []Series
	Markers               []Marker
	// LegendTitle, when set, heads the legend (the key whose values
	// label the series).
	LegendTitle string
	// YMin and YMax widen the y range to include them when YMin < YMax.
	YMin, YMax float64
}

func checkSeries(s *Series) error {
	if len(s.X) == 0 {
		return dataErr("series %q has no points", s.Label)
	}
	if len(s.Mean) != len(s.X) || (s.Lower != nil && len(s.Lower) != len(s.X)) || (s.Upper != nil && len(s.Upper) != len(s.X)) {
		return dataErr("series %q: x, mean and band differ in length", s.Label)
	}
	if (s.Lower == nil) != (s.Upper == nil) {
		return dataErr("series %q has only one side of its band", s.Label)
	}
	for k, v := range s.Mean {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.IsNaN(s.X[k]) || math.IsInf(s.X[k], 0) {
			return dataErr("series %q has a non-finite value at x=%g", s.Label, s.X[k])
		}
	}
	return nil
}

// Figure builds the plot. Bands are drawn first, then lines, then the
// emphasised lines, so that no band hides a line. Each series has its own
// colour and dash pattern, so that series which coincide stay visible.
func (d *Lines) Figure() (*Figure, error) {
	if len(d.Series) == 0 {
		return nil, dataErr("no series to draw (no run finished, or none has the metric)")
	}
	p := newPlot(d.Title, d.XLabel, d.YLabel)
	var lines, top []plot.Plotter
	var entries, topEntries []KeyEntry
	xmin, xmax := math.Inf(1), math.Inf(-1)
	colour := 0
	// When every band has the same n, the key states it once.
	sameN := d.Series[0].N
	for _, s := range d.Series {
		if s.N != sameN || s.N < 2 || s.Lower == nil {
			sameN = 0
		}
	}
	for i := range d.Series {
		s := &d.Series[i]
		if err := checkSeries(s); err != nil {
			return nil, err
		}
		xmin, xmax = math.Min(xmin, s.X[0]), math.Max(xmax, s.X[len(s.X)-1])
		l, err := plotter.NewLine(xys(s.X, s.Mean))
		if err != nil {
			return nil, err
		}
		styleLine(l, s.Emphasis, &colour)
		th := []plot.Thumbnailer{}
		if s.Lower != nil {
			bc := l.Color
			if s.Emphasis {
				bc = color.Gray{Y: 0xa0} // a black band would darken the others
			}
			b := NewBand(s.X, s.Lower, s.Upper, bc)
			p.Add(b)
			th = append(th, b)
		}
		th = append(th, l)
		label := s.Label
		if s.N > 1 && sameN == 0 {
			label = fmt.Sprintf("%s (n=%d)", label, s.N)
		}
		if s.Emphasis {
			top = append(top, l)
			topEntries = append(topEntries, KeyEntry{label, th})
			continue
		}
		lines = append(lines, l)
		entries = append(entries, KeyEntry{label, th})
	}
	p.Add(lines...)
	p.Add(top...)
	var strokes []*draw.LineStyle
	for _, l := range append(lines, top...) {
		strokes = append(strokes, &l.(*plotter.Line).LineStyle)
	}
	key := NewKey()
	key.Title = d.LegendTitle
	if sameN > 0 {
		if key.Title != "" {
			key.Title += "; "
		}
		key.Title += fmt.Sprintf("mean and 95%% CI of n=%d runs", sameN)
	}
	for _, e := range append(topEntries, entries...) {
		if e.Label != "" {
			key.Entries = append(key.Entries, e)
		}
	}
	f := single(p)
	f.scaled(strokes...)
	for _, v := range markerLines(d.Markers, xmin, xmax) {
		f.addMarker(p, v)
	}
	if d.YMin < d.YMax {
		p.Y.Min = math.Min(p.Y.Min, d.YMin)
		p.Y.Max = math.Max(p.Y.Max, d.YMax)
	}
	p.X.Min, p.X.Max = xmin, xmax
	f.Key = key
	return f, nil
}

// Influence is each signal's share of the policy update over steps, drawn
// as stacked areas from the bottom in the order given (the primary signal
// first, so that its shrinking share sits on the axis).
type Influence struct {
	Title   string
	X       []float64
	Labels  []string
	Shares  [][]float64
	Markers []Marker
	// Colors, when set, fill the layers (one per share), so that a signal
	// keeps its colour across figures; otherwise the Palette in turn.
	Colors []color.Color
}

// Figure builds the stacked-area plot.
func (d *Influence) Figure() (*Figure, error) {
	if len(d.X) == 0 || len(d.Shares) == 0 || len(d.Labels) != len(d.Shares) {
		return nil, dataErr("influence needs x values and one label per share series")
	}
	for i, s := range d.Shares {
		if len(s) != len(d.X) {
			return nil, dataErr("share %q has %d points, x has %d", d.Labels[i], len(s), len(d.X))
		}
		for k, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, dataErr("share %q has a non-finite value at x=%g", d.Labels[i], d.X[k])
			}
		}
	}
	p := newPlot(d.Title, "training step", "share of the update")
	st := NewStack(d.X, d.Shares...)
	if d.Colors != nil {
		if len(d.Colors) != len(d.Shares) {
			return nil, dataErr("influence has %d colours for %d shares", len(d.Colors), len(d.Shares))
		}
		st.Colors = d.Colors
	}
	p.Add(st)
	f := single(p)
	f.scaled(&st.LineStyle)
	for _, v := range markerLines(d.Markers, d.X[0], d.X[len(d.X)-1]) {
		v.LineStyle.Color = color.Black
		v.TextStyle.Color = color.Black
		f.addMarker(p, v)
	}
	// The key lists the top layer first, as the areas are stacked.
	key := NewKey()
	for i := len(d.Labels) - 1; i >= 0; i-- {
		key.Add(d.Labels[i], st.Layer(i))
	}
	p.X.Min, p.X.Max = d.X[0], d.X[len(d.X)-1]
	p.Y.Min, p.Y.Max = 0, 1
	f.Key = key
	return f, nil
}

// Heatmap is a final metric over two swept axes. Z[j][i] is the value at
// (X[i], Y[j]); NaN marks a missing point.
type Heatmap struct {
	Title, XLabel, YLabel, ZLabel string
	X, Y                          []float64
	Z                             [][]float64
	// Level, when Contour is set, draws the simulated contour Z = Level.
	Level   float64
	Contour bool
	// Critical is the analytic critical line (nil: none), labelled
	// CriticalLabel.
	Critical      plotter.XYs
	CriticalLabel string
}

// ylgnbu is ColorBrewer's YlGnBu from dark to light: sequential, monotone
// in luminance and safe for colour-blind readers. (The first two light
// tints are left out: their luminance is not monotone.)
var ylgnbu = []color.Color{
	color.RGBA{0x08, 0x1d, 0x58, 0xff}, color.RGBA{0x25, 0x34, 0x94, 0xff}, color.RGBA{0x22, 0x5e, 0xa8, 0xff},
	color.RGBA{0x1d, 0x91, 0xc0, 0xff}, color.RGBA{0x41, 0xb6, 0xc4, 0xff}, color.RGBA{0x7f, 0xcd, 0xbb, 0xff},
	color.RGBA{0xc7, 0xe9, 0xb4, 0xff}, color.RGBA{0xed, 0xf8, 0xb1, 0xff},
}

type grid struct {
	x, y []float64
	z    [][]float64
}

func (g grid) Dims() (c, r int)   { return len(g.x), len(g.y) }
func (g grid) Z(c, r int) float64 { return g.z[r][c] }
func (g grid) X(c int) float64    { return g.x[c] }
func (g grid) Y(r int) float64    { return g.y[r] }
func (g grid) minMax() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range g.z {
		for _, v := range row {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	return lo, hi
}

// Figure builds the heat map beside its colour bar.
func (d *Heatmap) Figure() (*Figure, error) {
	if len(d.X) < 2 || len(d.Y) < 2 {
		return nil, dataErr("a heat map needs at least two values on each axis, got %d x %d", len(d.X), len(d.Y))
	}
	if len(d.Z) != len(d.Y) {
		return nil, dataErr("heat map has %d rows, y has %d values", len(d.Z), len(d.Y))
	}
	for _, row := range d.Z {
		if len(row) != len(d.X) {
			return nil, dataErr("heat map row has %d values, x has %d", len(row), len(d.X))
		}
	}
	// A swept axis whose values are not evenly spaced (0.5, 1, 2, 4) is
	// drawn by position, each value a cell of the same size, so that no
	// cell looks larger for its gap to the next; curves in values are
	// mapped onto the positions piecewise linearly.
	xpos, xat := axisPositions(d.X)
	ypos, yat := axisPositions(d.Y)
	g := grid{xpos, ypos, d.Z}
	lo, hi := g.minMax()
	if math.IsInf(lo, 0) {
		return nil, dataErr("heat map has no values")
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	light, err := moreland.NewLuminance(ylgnbu)
	if err != nil {
		panic("plots: " + err.Error())
	}
	light.SetMin(lo)
	light.SetMax(hi)
	cm := palette.Reverse(light) // high values dark
	p := newPlot(d.Title, d.XLabel, d.YLabel)
	key := NewKey()
	var strokes []*draw.LineStyle
	hm := plotter.NewHeatMap(g, sampleReversed(light, lo, hi, 255))
	hm.Min, hm.Max = lo, hi
	hm.NaN = color.Gray{Y: 0xc0}
	p.Add(hm)
	halo := draw.LineStyle{Color: color.White, Width: vg.Points(4.5)}
	if d.Contour && d.Level > lo && d.Level < hi {
		// Drawn only where the level is inside the map's range.
		ls := draw.LineStyle{Color: color.Black, Width: vg.Points(2), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
		under := plotter.NewContour(g, []float64{d.Level}, nil)
		under.LineStyles = []draw.LineStyle{halo}
		c := plotter.NewContour(g, []float64{d.Level}, nil)
		c.LineStyles = []draw.LineStyle{ls}
		p.Add(under, c)
		l, _ := plotter.NewLine(plotter.XYs{})
		l.LineStyle = ls
		strokes = append(strokes, &under.LineStyles[0], &c.LineStyles[0], &l.LineStyle)
		key.Add(fmt.Sprintf("simulated contour at %.3g", d.Level), l)
	}
	critical := make(plotter.XYs, len(d.Critical))
	for i, pt := range d.Critical {
		critical[i].X, critical[i].Y = xat(pt.X), yat(pt.Y)
	}
	if len(critical) > 1 && crosses(critical, xpos, ypos) {
		under, err := plotter.NewLine(critical)
		if err != nil {
			return nil, err
		}
		under.LineStyle = halo
		l, _ := plotter.NewLine(critical)
		l.Color, l.Width = Palette[1], vg.Points(2.5)
		p.Add(under, l)
		strokes = append(strokes, &under.LineStyle, &l.LineStyle)
		key.Add(d.CriticalLabel, l)
	}
	// The curves may leave the grid: keep the axes on the grid's cells,
	// with ticks at the swept values.
	xmin, xmax, ymin, ymax := hm.DataRange()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
	p.X.Tick.Marker = valueTicks{xpos, d.X, maxXTickLabels}
	p.Y.Tick.Marker = valueTicks{ypos, d.Y, maxYTickLabels}

	bar := plot.New()
	cb := &plotter.ColorBar{ColorMap: cm, Vertical: true}
	bar.Add(cb)
	// An empty x axis with the heat map's label and tick sizes keeps the
	// bar as tall as the map's data area.
	bar.X.Min, bar.X.Max = 0, 1
	bar.X.LineStyle.Width = 0
	bar.X.Tick.LineStyle.Width = 0
	bar.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0.5, Label: " "}})
	bar.X.Label.Text = " "
	bar.Y.Label.Text = d.ZLabel
	bar.Y.Padding = 0
	bar.Title.Padding = p.Title.Padding
	if d.Title != "" {
		bar.Title.Text = " "
	}
	bar.Title.TextStyle = p.Title.TextStyle
	bar.BackgroundColor = color.Transparent // the figure's background shows through
	f := &Figure{Rows: [][]*plot.Plot{{p}}, Width: defaultWidth, Height: 11 * vg.Centimeter, Side: bar, SideWidth: 22 * vg.Millimeter, Key: key}
	f.scaled(strokes...)
	return f, nil
}

// Most tick labels on a heat map's axes; more swept values are thinned to
// every k-th label (the rest keep an unlabelled tick). Five labels of four
// digits fit the x axis of a figure one paper column wide.
const (
	maxXTickLabels = 5
	maxYTickLabels = 8
)

// valueTicks puts a tick at each swept value and labels at most max of
// them, evenly thinned from the first, with at most 4 significant digits
// (so 0.1+0.2 reads 0.3).
type valueTicks struct {
	pos, vals []float64 // where each swept value is drawn, and the value
	max       int
}

func (v valueTicks) Ticks(lo, hi float64) []plot.Tick {
	k := (len(v.vals) + v.max - 1) / v.max
	var ts []plot.Tick
	for i, x := range v.pos {
		if x < lo || x > hi {
			continue
		}
		t := plot.Tick{Value: x}
		if i%k == 0 {
			t.Label = FormatNumber(v.vals[i])
		}
		ts = append(ts, t)
	}
	return ts
}

// axisPositions returns where a heat map draws an axis's (ascending)
// swept values, and the map from a value to that scale: the values
// themselves when evenly spaced, else their indices 0, 1, 2, ..., with a
// value between two swept ones placed linearly between their positions
// (and beyond the ends along the nearest interval).
func axisPositions(vals []float64) ([]float64, func(float64) float64) {
	even := true
	for i := 2; i < len(vals); i++ {
		w0, w := vals[1]-vals[0], vals[i]-vals[i-1]
		even = even && math.Abs(w-w0) <= 1e-9*math.Max(math.Abs(w0), math.Abs(vals[i]))
	}
	if even {
		return vals, func(v float64) float64 { return v }
	}
	pos := make([]float64, len(vals))
	for i := range pos {
		pos[i] = float64(i)
	}
	return pos, func(v float64) float64 {
		i := sort.SearchFloat64s(vals, v) // first value >= v
		i = min(max(i, 1), len(vals)-1)
		return float64(i-1) + (v-vals[i-1])/(vals[i]-vals[i-1])
	}
}

// FormatNumber formats a parameter value with at most 4 significant digits
// (a linspace value such as 0.30000000000000004 reads 0.3), and a whole
// number in full.
func FormatNumber(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e9 {
		return strconv.FormatFloat(x, 'f', 0, 64) // 32000 and step 10000, not 3.2e+04
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// crosses reports whether any point of line lies inside the grid's extent
// (a line wholly outside the axes gets no legend entry).
func crosses(line plotter.XYs, x, y []float64) bool {
	for _, p := range line {
		if p.X >= x[0] && p.X <= x[len(x)-1] && p.Y >= y[0] && p.Y <= y[len(y)-1] {
			return true
		}
	}
	return false
}

// sampleReversed returns n colours of cm evenly spaced over [lo, hi], from
// hi down to lo. (palette.Reverse(cm).Palette leaves a nil colour at the
// midpoint of a moreland luminance map in gonum/plot v0.17.)
func sampleReversed(cm palette.ColorMap, lo, hi float64, n int) palette.Palette {
	cs := make(colors, n)
	for i := range cs {
		v := hi - (hi-lo)*float64(i)/float64(n-1)
		c, err := cm.At(math.Min(math.Max(v, lo), hi))
		if err != nil {
			panic("plots: " + err.Error())
		}
		cs[i] = c
	}
	return cs
}

type colors []color.Color

func (c colors) Colors() []color.Color { return c }

func xys(x, y []float64) plotter.XYs {
	xy := make(plotter.XYs, len(x))
	for k := range x {
		xy[k].X, xy[k].Y = x[k], y[k]
	}
	return xy
}

// newPlot returns a plot with the house style: a grid and labels (the
// figure's Key, not the plot's legend, names the data).
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	return p
}

func single(p *plot.Plot) *Figure {
	return &Figure{Rows: [][]*plot.Plot{{p}}, Width: defaultWidth, Height: defaultHeight}
}
