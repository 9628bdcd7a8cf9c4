package plots

import (
	"cmp"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// VLine is a vertical marker across the whole data area at X, with an
// optional label at the top. It does not implement plot.DataRanger, so it
// never stretches the axes.
type VLine struct {
	X     float64
	Label string
	// Row moves the label down by that many lines, clear of a nearby
	// marker's label.
	Row int
	draw.LineStyle
	draw.TextStyle
}

// NewVLine returns a dashed grey marker.
func NewVLine(x float64, label string) *VLine {
	v := &VLine{X: x, Label: label}
	v.LineStyle = draw.LineStyle{Color: greyish, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
	v.TextStyle = plot.New().Title.TextStyle
	v.TextStyle.Font.Size = vg.Points(9)
	v.TextStyle.Color = greyish
	return v
}

// Plot implements plot.Plotter.
func (v *VLine) Plot(c draw.Canvas, p *plot.Plot) {
	if v.X < p.X.Min || v.X > p.X.Max {
		return
	}
	x := c.X(p.X.Norm(v.X))
	c.StrokeLine2(v.LineStyle, x, c.Min.Y, x, c.Max.Y)
	if v.Label != "" {
		sty := v.TextStyle
		sty.XAlign = draw.XLeft
		sty.YAlign = draw.YTop
		y := c.Max.Y - vg.Points(2) - vg.Length(v.Row)*sty.FontExtents().Height*1.1
		pt := vg.Point{X: x + vg.Points(3), Y: y}
		// A light box behind the label keeps it readable over a curve.
		r := sty.Rectangle(v.Label).Add(pt)
		pad := vg.Points(1)
		r.Min.X, r.Min.Y, r.Max.X, r.Max.Y = r.Min.X-pad, r.Min.Y-pad, r.Max.X+pad, r.Max.Y+pad
		c.FillPolygon(labelBox, []vg.Point{r.Min, {X: r.Min.X, Y: r.Max.Y}, r.Max, {X: r.Max.X, Y: r.Min.Y}})
		c.FillText(sty, pt, v.Label)
	}
}

// labelBox is the translucent white behind a marker's label.
var labelBox = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xc8}

// markerLines returns the markers' lines in order of x. A label that would
// start within a tenth of the x range of the previous label goes a row
// below it, so that labels of nearby markers do not overlap.
func markerLines(ms []Marker, xmin, xmax float64) []*VLine {
	ms = append([]Marker(nil), ms...)
	slices.SortStableFunc(ms, func(a, b Marker) int { return cmp.Compare(a.X, b.X) })
	var vs []*VLine
	for i, m := range ms {
		v := NewVLine(m.X, m.Label)
		if i > 0 && m.X-ms[i-1].X < (xmax-xmin)/10 && ms[i-1].X >= xmin {
			v.Row = vs[i-1].Row + 1
		}
		vs = append(vs, v)
	}
	return vs
}
