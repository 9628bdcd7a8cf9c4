package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/rewardmix/rewardmix/sim"
)

// Boundary is a boundary search's result: for each value Y of another key,
// the value X of the searched key at which a final metric crosses a level,
// with the bracket that holds it, and, when both keys are signal weights
// and the metric is sycophancy_rate, the analytic critical line of the
// closed form beside it.
type Boundary struct {
	Title          string
	XKey, YKey     string // the searched key, and the other
	Metric         string
	Level          float64
	Y              []float64 // per point: the other key's value
	X, XLow, XHigh []float64 // the crossing and its bracket; NaN for none
	// Config is the search's base config, for the analytic line (nil:
	// none).
	Config *sim.Config
}

// Figure builds the plot: each point's crossing with its bracket as an
// error bar, the analytic critical line where there is one, and a note for
// each point without a crossing.
func (d *Boundary) Figure() (*Figure, error) {
	n := len(d.Y)
	if len(d.X) != n || len(d.XLow) != n || len(d.XHigh) != n {
		return nil, dataErr("boundary series differ in length")
	}
	p := newPlot(d.Title, keyName(d.XKey)+" at the crossing", keyName(d.YKey))
	key := NewKey()
	key.MaxColumns = 1
	var pts plotter.XYs
	var bars errs
	var missing []float64
	for i := range d.Y {
		if math.IsNaN(d.X[i]) {
			missing = append(missing, d.Y[i])
			continue
		}
		pts = append(pts, plotter.XY{X: d.X[i], Y: d.Y[i]})
		bars = append(bars, [3]float64{0, d.X[i] - d.XLow[i], d.XHigh[i] - d.X[i]})
	}
	var strokes []*draw.LineStyle
	if len(pts) > 0 {
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width = Palette[0], vg.Points(1.5)
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: Palette[0], Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
		eb, err := plotter.NewXErrorBars(struct {
			plotter.XYs
			xerrs
		}{pts, xerrs(bars)})
		if err != nil {
			return nil, err
		}
		eb.LineStyle = draw.LineStyle{Color: Palette[0], Width: vg.Points(1)}
		p.Add(line, eb, sc)
		strokes = append(strokes, &line.LineStyle)
		key.Add(fmt.Sprintf("simulated: %s = %s, with the bracket that holds it", d.Metric, FormatNumber(d.Level)), line, sc)
	}
	if d.Config != nil && len(d.Y) > 1 {
		ys := []float64{d.Y[0], d.Y[len(d.Y)-1]}
		if line, label, note := criticalLine(d.Config, Options{X: d.XKey, Y: d.YKey, Metric: d.Metric, Level: d.Level}, ys); line != nil {
			al, err := plotter.NewLine(line)
			if err != nil {
				return nil, err
			}
			al.Color, al.Width, al.Dashes = greyish, vg.Points(1.5), Dashes[1]
			p.Add(al)
			strokes = append(strokes, &al.LineStyle)
			key.Add(label, al)
		} else if note != "" {
			key.Add(note)
		}
	}
	for _, y := range missing {
		key.Add(fmt.Sprintf("%s = %s: no crossing in the bracket (see boundary.csv)", keyName(d.YKey), FormatNumber(y)))
	}
	f := single(p)
	f.Height = 12 * vg.Centimeter
	f.Key = key
	f.scaled(strokes...)
	return f, nil
}

// xerrs are error bars' left and right lengths, by point: [_, low, high].
type xerrs [][3]float64

func (e xerrs) XError(i int) (float64, float64) { return e[i][1], e[i][2] }
