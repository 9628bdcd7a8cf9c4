package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

var greyish = color.Gray{Y: 0x60}

// Line is one labelled series over the shared x values of a Panels figure.
type Line struct {
	Label string
	Y     []float64
	// Emphasis draws the line black, dashed and on top (for a total
	// beside its parts).
	Emphasis bool
}

// Panel is one plot of a Panels figure.
type Panel struct {
	YLabel string
	Lines  []Line
	// YMin and YMax fix the y range when YMin < YMax (for rates and shares).
	YMin, YMax float64
}

// Marker is a labelled vertical line, for example where the signal mix
// changes.
type Marker struct {
	X     float64
	Label string
}

// Panels describes stacked panels sharing the x axis (training steps).
type Panels struct {
	Title   string
	XLabel  string
	X       []float64
	Panels  []Panel
	Markers []Marker
}

// Figure builds the stacked panels. The lines of panels with more than one
// line are named in the figure's key, below the panels; a panel with one
// line is named by its y label and drawn in grey, apart from the key's
// colours. It returns an error for malformed data (no
// x values, or a series whose length differs from X).
func (d *Panels) Figure() (*Figure, error) {
	if len(d.X) == 0 {
		return nil, dataErr("no data points")
	}
	f := &Figure{Width: 16 * vg.Centimeter, Height: vg.Length(len(d.Panels))*5*vg.Centimeter + vg.Centimeter, Key: NewKey()}
	for i, pn := range d.Panels {
		keyed := len(pn.Lines) > 1
		p := plot.New()
		if i == 0 {
			p.Title.Text = d.Title
		}
		if i == len(d.Panels)-1 {
			p.X.Label.Text = d.XLabel
		}
		p.Y.Label.Text = pn.YLabel
		p.Add(plotter.NewGrid())
		var top []*plotter.Line
		var topLabels []string
		colour := 0
		for _, ln := range pn.Lines {
			if len(ln.Y) != len(d.X) {
				return nil, dataErr("series %q has %d points, x has %d", ln.Label, len(ln.Y), len(d.X))
			}
			xy := make(plotter.XYs, len(d.X))
			for k := range d.X {
				xy[k].X, xy[k].Y = d.X[k], ln.Y[k]
				if math.IsNaN(ln.Y[k]) || math.IsInf(ln.Y[k], 0) {
					return nil, dataErr("series %q has a non-finite value at x=%g", ln.Label, d.X[k])
				}
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, err
			}
			f.scaled(&l.LineStyle)
			stylePanelLine(l, ln.Emphasis, keyed, &colour)
			if ln.Emphasis {
				top = append(top, l)
				if !keyed {
					ln.Label = ""
				}
				topLabels = append(topLabels, ln.Label)
				continue
			}
			p.Add(l)
			if ln.Label != "" && keyed {
				f.Key.Add(ln.Label, l)
			}
		}
		for k, l := range top {
			p.Add(l)
			if topLabels[k] != "" {
				f.Key.Add(topLabels[k], l)
			}
		}
		for _, v := range markerLines(d.Markers, d.X[0], d.X[len(d.X)-1]) {
			if i > 0 {
				v.Label = "" // named once, in the top panel
			}
			f.addMarker(p, v)
		}
		if pn.YMin < pn.YMax {
			p.Y.Min = math.Min(p.Y.Min, pn.YMin)
			p.Y.Max = math.Max(p.Y.Max, pn.YMax)
		}
		p.X.Min, p.X.Max = d.X[0], d.X[len(d.X)-1]
		f.Rows = append(f.Rows, []*plot.Plot{p})
	}
	return f, nil
}

// stylePanelLine styles a panel's line: as styleLine when the panel's
// lines are named in the key; grey when the panel has one line, named by
// its y label: drawn in the key's colours it would read as one of the
// key's lines.
func stylePanelLine(l *plotter.Line, emphasis, keyed bool, colour *int) {
	styleLine(l, emphasis, colour)
	if !keyed && !emphasis {
		l.Color, l.Dashes = greyish, nil
	}
}
