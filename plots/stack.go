package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Stack is a stacked area plot: layer i fills the region between the sum of
// layers below it and that sum plus Ys[i], over the shared x values. Shares
// that sum to one fill the unit square.
type Stack struct {
	X  []float64
	Ys [][]float64
	// Colors fill the layers, cycling; LineStyle outlines each layer's top
	// (zero width: no outline).
	Colors []color.Color
	draw.LineStyle
}

// NewStack returns a stack coloured with the Palette and thin white
// separators. It panics if a layer's length differs from x's.
func NewStack(x []float64, ys ...[]float64) *Stack {
	for _, y := range ys {
		if len(y) != len(x) {
			panic("plots: stack layer differs in length from x")
		}
	}
	return &Stack{X: x, Ys: ys, Colors: Palette,
		LineStyle: draw.LineStyle{Color: color.White, Width: vg.Points(0.5)}}
}

func (s *Stack) color(i int) color.Color { return s.Colors[i%len(s.Colors)] }

// Plot implements plot.Plotter.
func (s *Stack) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	base := make([]float64, len(s.X))
	top := make([]float64, len(s.X))
	for i, y := range s.Ys {
		for k := range s.X {
			top[k] = base[k] + y[k]
		}
		pts := make([]vg.Point, 0, 2*len(s.X))
		for k, x := range s.X {
			pts = append(pts, vg.Point{X: trX(x), Y: trY(top[k])})
		}
		for k := len(s.X) - 1; k >= 0; k-- {
			pts = append(pts, vg.Point{X: trX(s.X[k]), Y: trY(base[k])})
		}
		c.FillPolygon(s.color(i), c.ClipPolygonXY(pts))
		if s.LineStyle.Width > 0 {
			line := pts[:len(s.X)]
			c.StrokeLines(s.LineStyle, c.ClipLinesXY(line)...)
		}
		base, top = top, base
	}
}

// DataRange implements plot.DataRanger: the x extent, and from the lowest
// to the highest cumulative sum (including zero).
func (s *Stack) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, x := range s.X {
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
	}
	for k := range s.X {
		sum := 0.0
		for _, y := range s.Ys {
			sum += y[k]
			ymin, ymax = math.Min(ymin, sum), math.Max(ymax, sum)
		}
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer with the bottom layer's colour;
// Layer gives each layer's own thumbnail for a legend.
func (s *Stack) Thumbnail(c *draw.Canvas) { s.Layer(0).Thumbnail(c) }

// Layer returns a legend thumbnail for layer i.
func (s *Stack) Layer(i int) plot.Thumbnailer { return swatch{s.color(i)} }

// swatch is a filled box for a legend.
type swatch struct{ color.Color }

func (w swatch) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y},
		{X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	}
	c.FillPolygon(w.Color, c.ClipPolygonY(pts))
}
