package plots

import (
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
		c.FillText(sty, vg.Point{X: x + vg.Points(3), Y: c.Max.Y - vg.Points(2)}, v.Label)
	}
}
