package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Band is a shaded region between a lower and an upper curve over the same
// x values, for example a 95% confidence band around a mean. It is drawn as
// one polygon: the upper curve forward and the lower curve reversed (as
// go-hep's hplot.Band).
type Band struct {
	// X, Lower and Upper have the same length; Lower[i] <= Upper[i].
	X, Lower, Upper []float64
	// FillColor fills the band; nil draws nothing.
	FillColor color.Color
}

// NewBand returns a band filled with c made translucent, so that lines and
// other bands stay visible through it. It panics if the lengths differ.
func NewBand(x, lower, upper []float64, c color.Color) *Band {
	if len(lower) != len(x) || len(upper) != len(x) {
		panic("plots: band curves differ in length")
	}
	return &Band{X: x, Lower: lower, Upper: upper, FillColor: Translucent(c, 0x50)}
}

// Translucent returns c with alpha a (premultiplied).
func Translucent(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	f := float64(a) / 255
	return color.RGBA{uint8(float64(r>>8) * f), uint8(float64(g>>8) * f), uint8(float64(b>>8) * f), a}
}

// Plot implements plot.Plotter.
func (b *Band) Plot(c draw.Canvas, p *plot.Plot) {
	if b.FillColor == nil || len(b.X) == 0 {
		return
	}
	trX, trY := p.Transforms(&c)
	pts := make([]vg.Point, 0, 2*len(b.X))
	for i, x := range b.X {
		pts = append(pts, vg.Point{X: trX(x), Y: trY(b.Upper[i])})
	}
	for i := len(b.X) - 1; i >= 0; i-- {
		pts = append(pts, vg.Point{X: trX(b.X[i]), Y: trY(b.Lower[i])})
	}
	c.FillPolygon(b.FillColor, c.ClipPolygonXY(pts))
}

// DataRange implements plot.DataRanger.
func (b *Band) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, x := range b.X {
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		ymin, ymax = math.Min(ymin, b.Lower[i]), math.Max(ymax, b.Upper[i])
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer: a filled box.
func (b *Band) Thumbnail(c *draw.Canvas) {
	if b.FillColor != nil {
		swatch{b.FillColor}.Thumbnail(c)
	}
}
