package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// GaoFit is the RL form of Gao, Schulman and Hilton (2023, "Scaling Laws for
// Reward Model Overoptimization", eq. 2), R(d) = d (A - B ln d), fitted by
// least squares to a gain R over the distance d = sqrt(KL) from the
// reference policy.
type GaoFit struct {
	A, B float64
	// R2 is the coefficient of determination and RMSE the root mean
	// squared residual of the fit.
	R2, RMSE float64
	Status   optimize.Status
}

// Gao evaluates d (a - b ln d), taking d ln d = 0 at d = 0.
func Gao(d, a, b float64) float64 {
	if d == 0 {
		return 0
	}
	return d * (a - b*math.Log(d))
}

// FitGao fits R = d (a - b ln d) to the points (d[i], r[i]) with
// gonum/optimize (BFGS with the analytic gradient): r is the gain since the
// reference policy, at d = 0. It returns an error for fewer than three
// points, a negative or non-finite d, or a failed optimisation.
func FitGao(d, r []float64) (GaoFit, error) { return fitGao(0, d, r) }

// FitGaoFrom fits the same form to gains measured from a point at d0 > 0
// rather than from the reference (a step range that starts after step 0):
// r[i] = R(d[i]) - R(d0). The gold curve is assumed to lie on one Gao
// curve from the reference, so the coefficients keep their meaning.
func FitGaoFrom(d0 float64, d, r []float64) (GaoFit, error) {
	if !(d0 >= 0) || math.IsInf(d0, 0) {
		return GaoFit{}, dataErr("the Gao fit needs a finite d0 >= 0, got %g", d0)
	}
	return fitGao(d0, d, r)
}

func fitGao(d0 float64, d, r []float64) (GaoFit, error) {
	if len(d) != len(r) {
		panic("plots: FitGao: d and r differ in length")
	}
	if len(d) < 3 {
		return GaoFit{}, dataErr("the Gao fit needs at least three points, got %d", len(d))
	}
	// Features u = d - d0 and v = -(d ln d - d0 ln d0); the model is
	// linear in (a, b).
	xlogx := func(x float64) float64 {
		if x == 0 {
			return 0
		}
		return x * math.Log(x)
	}
	u, v := make([]float64, len(d)), make([]float64, len(d))
	for i, x := range d {
		if !(x >= 0) || math.IsInf(x, 0) || math.IsNaN(r[i]) || math.IsInf(r[i], 0) {
			return GaoFit{}, dataErr("the Gao fit needs finite d >= 0 and finite r, got d=%g r=%g", x, r[i])
		}
		u[i] = x - d0
		v[i] = -(xlogx(x) - xlogx(d0))
	}
	prob := optimize.Problem{
		Func: func(p []float64) float64 {
			s := 0.0
			for i := range u {
				e := p[0]*u[i] + p[1]*v[i] - r[i]
				s += e * e
			}
			return s
		},
		Grad: func(g, p []float64) {
			g[0], g[1] = 0, 0
			for i := range u {
				e := p[0]*u[i] + p[1]*v[i] - r[i]
				g[0] += 2 * e * u[i]
				g[1] += 2 * e * v[i]
			}
		},
	}
	res, err := optimize.Minimize(prob, []float64{0, 0}, &optimize.Settings{GradientThreshold: 1e-12}, &optimize.BFGS{})
	if err != nil && res == nil {
		return GaoFit{}, dataErr("the Gao fit failed: %v", err)
	}
	if err != nil && !errors.Is(err, optimize.ErrLinesearcherFailure) {
		return GaoFit{}, dataErr("the Gao fit failed: %v", err)
	}
	f := GaoFit{A: res.X[0], B: res.X[1], Status: res.Status}
	mean := 0.0
	for _, y := range r {
		mean += y
	}
	mean /= float64(len(r))
	ssTot := 0.0
	for _, y := range r {
		ssTot += (y - mean) * (y - mean)
	}
	f.RMSE = math.Sqrt(res.F / float64(len(r)))
	f.R2 = 1 - res.F/ssTot
	return f, nil
}

// Frontier is gold utility and proxy reward against d = sqrt(KL) over
// training (the Goodhart frontier). Gains are taken relative to the first
// point: at step 0 (d = 0) that is the reference policy and both curves
// start at the origin, as the Gao form does; from a later first step the
// form is fitted to the gains since that point (see FitGaoFrom).
type Frontier struct {
	Title       string
	D           []float64 // sqrt(KL) at each step
	Gold, Proxy []float64 // at each step
	// Steps are the training steps of the points (nil: 0, 1, 2, ...).
	Steps []float64
}

// Figure builds the plot, fitting the Gao form to the gold gain and marking
// the drop from peak to final gold.
func (d *Frontier) Figure() (*Figure, error) {
	n := len(d.D)
	if len(d.Gold) != n || len(d.Proxy) != n || (d.Steps != nil && len(d.Steps) != n) {
		return nil, dataErr("frontier series differ in length")
	}
	if n == 0 {
		return nil, dataErr("frontier has no points")
	}
	step := func(i int) float64 {
		if d.Steps == nil {
			return float64(i)
		}
		return d.Steps[i]
	}
	gold, proxy := make([]float64, n), make([]float64, n)
	for i := range d.D {
		gold[i], proxy[i] = d.Gold[i]-d.Gold[0], d.Proxy[i]-d.Proxy[0]
	}
	// The Gao form describes gold as the policy moves away from its start
	// under optimisation, so it is fitted only up to the step where d is
	// largest: after that (in incident, the policy drifts back towards a
	// sycophantic reference) d and the gains no longer trace that path.
	top := 0
	for i, x := range d.D {
		if x > d.D[top] {
			top = i
		}
	}
	d0 := d.D[0]
	fit, fitErr := FitGaoFrom(d0, d.D[:top+1], gold[:top+1])
	p := newPlot(d.Title, "d = sqrt(KL to reference)", fmt.Sprintf("gain since step %s", FormatNumber(step(0))))
	dmin, dmax := d0, d.D[top]
	for _, x := range d.D[:top+1] {
		dmin = math.Min(dmin, x)
	}
	fitXY := make(plotter.XYs, 101)
	for i := range fitXY {
		x := dmin + (dmax-dmin)*float64(i)/100
		fitXY[i].X, fitXY[i].Y = x, Gao(x, fit.A, fit.B)-Gao(d0, fit.A, fit.B)
	}
	pl, err := plotter.NewLine(xys(d.D, proxy))
	if err != nil {
		return nil, err
	}
	pl.Color, pl.Width = Palette[1], vg.Points(1.5)
	pl.Dashes = Dashes[1]
	gl, err := plotter.NewLine(xys(d.D, gold))
	if err != nil {
		return nil, err
	}
	gl.Color, gl.Width = Palette[0], vg.Points(1.5)
	fl, _ := plotter.NewLine(fitXY)
	fl.Color, fl.Width, fl.Dashes = color.Black, vg.Points(1.5), []vg.Length{vg.Points(2), vg.Points(2)}
	end, _ := plotter.NewScatter(plotter.XYs{{X: d.D[n-1], Y: gold[n-1]}, {X: d.D[n-1], Y: proxy[n-1]}})
	end.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
	// The drop: from the peak of gold to its final value.
	peak, at := math.Inf(-1), 0
	for i, g := range gold {
		if g > peak {
			peak, at = g, i
		}
	}
	drop := &Drop{X: d.D[n-1], PeakX: d.D[at], Peak: peak, Final: gold[n-1]}
	drop.LineStyle = draw.LineStyle{Color: greyish, Width: vg.Points(1.5)}
	p.Add(pl, gl, end)
	key := NewKey()
	key.MaxColumns = 1
	key.Add("proxy reward (trained on)", pl)
	key.Add("gold utility (not trained on)", gl)
	switch {
	case fitErr != nil:
		key.Add("no Gao fit: "+strings.TrimPrefix(fitErr.Error(), "plots: "), fl)
	default:
		p.Add(fl)
		key.Add(fmt.Sprintf("Gao fit d(a - b ln d), steps %s-%s", FormatNumber(step(0)), FormatNumber(step(top))), fl)
		label := fmt.Sprintf("a=%.3g, b=%.3g, R²=%.2f", fit.A, fit.B, fit.R2)
		switch ds := math.Exp(fit.A/fit.B - 1); {
		case fit.B <= 0:
			label += ", no peak (b <= 0)"
		case ds > 10*dmax:
			label += ", peak d* beyond 10x the data"
		default:
			label += fmt.Sprintf(", peak d*=%.3g", ds)
		}
		key.Add(label)
	}
	key.Add(fmt.Sprintf("final step (%s)", FormatNumber(step(n-1))), end)
	if peak-gold[n-1] > 1e-3*math.Max(math.Abs(peak), 1e-12) {
		// The drop height normalised by the peak gain, as Gao et al.
		// compare overoptimisation across scales.
		p.Add(drop)
		label := fmt.Sprintf("gold drop, peak to final: %.3g", peak-gold[n-1])
		if peak > 0 {
			label += fmt.Sprintf(" (%.0f%% of peak)", 100*(peak-gold[n-1])/peak)
		}
		key.Add(label, drop)
	}
	f := single(p)
	f.Height = 12 * vg.Centimeter // room for the key below the plot
	f.Key = key
	f.scaled(&pl.LineStyle, &gl.LineStyle, &fl.LineStyle, &drop.LineStyle)
	return f, nil
}

// Drop marks the drop of a curve from its peak to its final value: a dotted
// level at the peak and a bar from the peak level down to the final value
// at X. It is labelled in the legend, where no label can overlap a curve.
type Drop struct {
	X, PeakX, Peak, Final float64
	draw.LineStyle
}

// Plot implements plot.Plotter.
func (d *Drop) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	x, yp, yf := trX(d.X), trY(d.Peak), trY(d.Final)
	dotted := d.LineStyle
	dotted.Width = vg.Points(1)
	dotted.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	c.StrokeLines(dotted, c.ClipLinesXY([]vg.Point{{X: trX(d.PeakX), Y: yp}, {X: x, Y: yp}})...)
	c.StrokeLines(d.LineStyle, c.ClipLinesXY([]vg.Point{{X: x, Y: yp}, {X: x, Y: yf}})...)
	tick := vg.Points(3)
	c.StrokeLine2(d.LineStyle, x-tick, yp, x+tick, yp)
	c.StrokeLine2(d.LineStyle, x-tick, yf, x+tick, yf)
}

// Thumbnail implements plot.Thumbnailer: the bar with its ticks.
func (d *Drop) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	tick := vg.Points(3)
	c.StrokeLine2(d.LineStyle, x, c.Min.Y, x, c.Max.Y)
	c.StrokeLine2(d.LineStyle, x-tick, c.Min.Y, x+tick, c.Min.Y)
	c.StrokeLine2(d.LineStyle, x-tick, c.Max.Y, x+tick, c.Max.Y)
}

// DataRange implements plot.DataRanger.
func (d *Drop) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Min(d.X, d.PeakX), math.Max(d.X, d.PeakX), math.Min(d.Peak, d.Final), math.Max(d.Peak, d.Final)
}
