package plots

import (
	"cmp"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Sensitivity is one output's Sobol indices as bars: for each parameter,
// its first-order index (what it explains alone) and its total-order
// index (with its interactions), each with its 95% interval, parameters
// sorted by total order, largest first.
type Sensitivity struct {
	Title  string
	Params []string
	// Per parameter: the indices and their interval bounds.
	S1, S1Low, S1High, ST, STLow, STHigh []float64
}

// Figure builds the bar chart.
func (d *Sensitivity) Figure() (*Figure, error) {
	n := len(d.Params)
	for _, s := range [][]float64{d.S1, d.S1Low, d.S1High, d.ST, d.STLow, d.STHigh} {
		if len(s) != n {
			return nil, dataErr("sensitivity series differ in length")
		}
	}
	if n == 0 {
		return nil, dataErr("sensitivity has no parameters")
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(d.ST[b], d.ST[a]) })
	names := make([]string, n)
	s1, st := make(plotter.Values, n), make(plotter.Values, n)
	e1, et := make(errs, n), make(errs, n)
	for k, i := range order {
		names[k] = d.Params[i]
		s1[k], st[k] = d.S1[i], d.ST[i]
		e1[k] = [3]float64{float64(k), d.S1[i] - d.S1Low[i], d.S1High[i] - d.S1[i]}
		et[k] = [3]float64{float64(k), d.ST[i] - d.STLow[i], d.STHigh[i] - d.ST[i]}
	}
	p := newPlot(d.Title, "", "share of the output's variance")
	w := vg.Points(10)
	b1, err := plotter.NewBarChart(s1, w)
	if err != nil {
		return nil, err
	}
	b1.Color, b1.LineStyle.Width, b1.Offset = Palette[0], 0, -w/2
	bt, err := plotter.NewBarChart(st, w)
	if err != nil {
		return nil, err
	}
	bt.Color, bt.LineStyle.Width, bt.Offset = Palette[1], 0, w/2
	p.Add(b1, bt)
	for _, e := range []struct {
		e   errs
		v   plotter.Values
		off vg.Length
	}{{e1, s1, -w / 2}, {et, st, w / 2}} {
		xy := make(plotter.XYs, n)
		for k := range xy {
			xy[k].X, xy[k].Y = float64(k), e.v[k]
		}
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			errs
		}{xy, e.e})
		if err != nil {
			return nil, err
		}
		eb.LineStyle = draw.LineStyle{Color: greyish, Width: vg.Points(1)}
		eb.CapWidth = vg.Points(4)
		shifted := &offsetX{Plotter: eb, dx: e.off}
		p.Add(shifted)
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0.5
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	key := NewKey()
	key.Add("first order S1 (alone), 95% interval", b1)
	key.Add("total order ST (with interactions), 95% interval", bt)
	f := single(p)
	f.Key = key
	return f, nil
}

// errs are error bars' lower and upper lengths, by point: [x, low, high].
type errs [][3]float64

func (e errs) YError(i int) (float64, float64) { return e[i][1], e[i][2] }

// offsetX draws a plotter shifted right by dx, as a bar chart's Offset
// shifts its bars, so that error bars sit on their bars.
type offsetX struct {
	plot.Plotter
	dx vg.Length
}

// Plot implements plot.Plotter.
func (o *offsetX) Plot(c draw.Canvas, p *plot.Plot) {
	c.Rectangle.Min.X += o.dx
	c.Rectangle.Max.X += o.dx
	o.Plotter.Plot(c, p)
}

// DataRange implements plot.DataRanger, as the plotter's own.
func (o *offsetX) DataRange() (xmin, xmax, ymin, ymax float64) {
	return o.Plotter.(plot.DataRanger).DataRange()
}
