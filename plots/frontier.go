package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
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
}

// Gao evaluates d (a - b ln d), taking d ln d = 0 at d = 0.
func Gao(d, a, b float64) float64 {
	if d == 0 {
		return 0
	}
	return d * (a - b*math.Log(d))
}

// FitGao fits R = d (a - b ln d) to the points (d[i], r[i]): r is the gain
// since the reference policy, at d = 0. The model is linear in (a, b), so
// the fit is the exact least-squares solution (a QR factorisation, gonum
// mat). It returns an error for fewer than three points, a negative or
// non-finite d, or points that cannot tell a from b (all at one d).
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
	n := len(d)
	if n < 3 {
		return GaoFit{}, dataErr("the Gao fit needs at least three points, got %d", n)
	}
	// Features u = d - d0 and v = -(d ln d - d0 ln d0); r = a u + b v.
	xlogx := func(x float64) float64 {
		if x == 0 {
			return 0
		}
		return x * math.Log(x)
	}
	X := mat.NewDense(n, 2, nil)
	y := mat.NewVecDense(n, nil)
	for i, x := range d {
		if !(x >= 0) || math.IsInf(x, 0) || math.IsNaN(r[i]) || math.IsInf(r[i], 0) {
			return GaoFit{}, dataErr("the Gao fit needs finite d >= 0 and finite r, got d=%g r=%g", x, r[i])
		}
		X.Set(i, 0, x-d0)
		X.Set(i, 1, -(xlogx(x) - xlogx(d0)))
		y.SetVec(i, r[i])
	}
	var qr mat.QR
	qr.Factorize(X)
	var R mat.Dense
	qr.RTo(&R)
	// Columns that are (nearly) dependent leave a and b undetermined: the
	// points lie at one d, or at d0.
	scale := math.Max(mat.Norm(X.ColView(0), 2), mat.Norm(X.ColView(1), 2))
	if scale == 0 || math.Abs(R.At(1, 1)) <= 1e-10*scale || math.Abs(R.At(0, 0)) <= 1e-10*scale {
		return GaoFit{}, dataErr("the Gao fit needs points at more than one distance d")
	}
	var coef mat.VecDense
	if err := qr.SolveVecTo(&coef, false, y); err != nil {
		return GaoFit{}, dataErr("the Gao fit failed: %v", err)
	}
	f := GaoFit{A: coef.AtVec(0), B: coef.AtVec(1)}
	mean := mat.Sum(y) / float64(n)
	ssRes, ssTot := 0.0, 0.0
	for i := range n {
		e := f.A*X.At(i, 0) + f.B*X.At(i, 1) - r[i]
		ssRes += e * e
		ssTot += (r[i] - mean) * (r[i] - mean)
	}
	f.RMSE = math.Sqrt(ssRes / float64(n))
	f.R2 = 1 - ssRes/ssTot
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
	// Change, when the points start after step 0 because the reward
	// changed there, says what changed it (the key says so).
	Change string
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
	if top < 2 && n >= 3 {
		fitErr = dataErr("sqrt(KL) does not grow after step %s: the policy moves back towards the reference, not along a KL path", FormatNumber(step(top)))
	}
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
	if d.Change != "" {
		key.Add(fmt.Sprintf("steps %s-%s only: the reward is fixed from step %s, where", FormatNumber(step(0)), FormatNumber(step(n-1)), FormatNumber(step(0))))
		addClauses(key, d.Change)
	}
	key.Add("proxy reward (trained on)", pl)
	key.Add("gold utility (not trained on)", gl)
	switch {
	case fitErr != nil:
		key.Add("no Gao fit: "+strings.TrimPrefix(fitErr.Error(), "plots: "), fl)
	default:
		p.Add(fl)
		key.Add(fmt.Sprintf("Gao fit d(a - b ln d), steps %s-%s", FormatNumber(step(0)), FormatNumber(step(top))), fl)
		key.Add(gaoLabel(fit, dmax))
	}
	key.Add(fmt.Sprintf("final step (%s)", FormatNumber(step(n-1))), end)
	if peak-gold[n-1] > 1e-3*math.Max(math.Abs(peak), 1e-12) {
		// The drop height normalised by the peak gain, as Gao et al.
		// compare overoptimisation across scales.
		p.Add(drop)
		label := fmt.Sprintf("gold drop, peak to final: %.3g", peak-gold[n-1])
		switch {
		case gold[n-1] < 0:
			label += fmt.Sprintf(", to below step %s's", FormatNumber(step(0)))
		case peak > 0:
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

// FrontierRuns is the Goodhart frontier across a sweep's runs, one point
// per run: its final d = sqrt(KL to the reference) and its gains in gold
// utility and proxy reward, in groups (one per value of a swept key, or
// one for all). When the gains are from the reference (From = 0, the
// reward fixed for the whole of every run) the Gao form is fitted across
// each group's runs; otherwise the points are drawn without a fit, since
// they are not on one curve from the reference.
type FrontierRuns struct {
	Title string
	// LegendTitle names what the groups are values of ("" for one group).
	LegendTitle string
	Groups      []FrontierGroup
	// From is the step the gains are measured from; Change, when the
	// reward changed there, says what changed it; Mixed says the runs'
	// gains start at different steps.
	From   int
	Change string
	Mixed  bool
	// Missing counts the runs left out for want of a value.
	Missing int
}

// FrontierGroup is one group's runs: the final d of each and its gains.
type FrontierGroup struct {
	Label          string
	D, Gold, Proxy []float64
}

// Figure builds the plot: gold gains as filled dots and proxy gains as
// open ones, a colour per group, and each group's Gao fit with its
// coefficients, R² and peak d* in the key.
func (d *FrontierRuns) Figure() (*Figure, error) {
	total := 0
	for _, g := range d.Groups {
		if len(g.Gold) != len(g.D) || len(g.Proxy) != len(g.D) {
			return nil, dataErr("frontier series differ in length")
		}
		total += len(g.D)
	}
	if total == 0 {
		return nil, dataErr("frontier has no runs with values")
	}
	ylabel := fmt.Sprintf("gain since step %d", d.From)
	if d.Mixed {
		ylabel = "gain since the reward last changed"
	}
	p := newPlot(d.Title, "d = sqrt(KL to reference), final", ylabel)
	key := NewKey()
	key.MaxColumns = 1
	fit := d.From == 0 && !d.Mixed
	switch {
	case d.Mixed:
		key.Add("the reward changes at different steps in different runs: gains from each run's last change; no fit")
	case d.Change != "":
		key.Add(fmt.Sprintf("gains since step %d, where the reward changes (no fit):", d.From))
		addClauses(key, d.Change)
	case !fit:
		key.Add(fmt.Sprintf("gains since step %d, not the reference: no fit", d.From))
	}
	// A colour per group; past the palette, the next shape (filled for
	// gold, open for the proxy).
	shapes := [][2]draw.GlyphDrawer{{draw.CircleGlyph{}, draw.RingGlyph{}}, {draw.SquareGlyph{}, draw.BoxGlyph{}}, {draw.TriangleGlyph{}, draw.PyramidGlyph{}}}
	glyph := func(gi, open int) draw.GlyphStyle {
		shape := shapes[(gi/len(Palette))%len(shapes)][open]
		return draw.GlyphStyle{Color: Palette[gi%len(Palette)], Radius: vg.Points(2.5), Shape: shape}
	}
	key.Title = d.LegendTitle
	key.Add("filled: gold utility (not trained on); open: proxy reward (trained on)")
	if fit {
		key.Add("dashed: Gao fit of gold, d(a - b ln d), across each group's runs")
	}
	var strokes []*draw.LineStyle
	for gi, g := range d.Groups {
		if len(g.D) == 0 {
			continue
		}
		c := Palette[gi%len(Palette)]
		gs, err := plotter.NewScatter(xys(g.D, g.Gold))
		if err != nil {
			return nil, err
		}
		gs.GlyphStyle = glyph(gi, 0)
		ps, err := plotter.NewScatter(xys(g.D, g.Proxy))
		if err != nil {
			return nil, err
		}
		ps.GlyphStyle = glyph(gi, 1)
		p.Add(ps, gs)
		name := g.Label
		if name == "" {
			name = "all runs"
		}
		name += fmt.Sprintf(" (%d runs)", len(g.D))
		if !fit {
			key.Add(name, gs)
			continue
		}
		f, err := FitGao(g.D, g.Gold)
		if err != nil {
			key.Add(name+": no Gao fit: "+strings.TrimPrefix(err.Error(), "plots: "), gs)
			continue
		}
		dmax := slices.Max(g.D)
		line := make(plotter.XYs, 101)
		for i := range line {
			x := dmax * float64(i) / 100
			line[i].X, line[i].Y = x, Gao(x, f.A, f.B)
		}
		fl, err := plotter.NewLine(line)
		if err != nil {
			return nil, err
		}
		fl.Color, fl.Width, fl.Dashes = c, vg.Points(1.5), Dashes[1]
		p.Add(fl)
		strokes = append(strokes, &fl.LineStyle)
		key.Add(name+": "+gaoLabel(f, dmax), fl, gs)
	}
	if d.Missing > 0 {
		key.Add(fmt.Sprintf("%d runs without a value at the steps asked for are left out", d.Missing))
	}
	fig := single(p)
	fig.Height = 12 * vg.Centimeter
	fig.Key = key
	fig.scaled(strokes...)
	return fig, nil
}

// addClauses adds a description of what changed, one clause ("; "
// separated) per indented key line, so that no line runs off the figure.
func addClauses(key *Key, what string) {
	for _, c := range strings.Split(what, "; ") {
		key.Add("  " + c)
	}
}

// gaoLabel states a Gao fit: its coefficients, R² and where gold peaks.
func gaoLabel(f GaoFit, dmax float64) string {
	label := fmt.Sprintf("a=%.3g, b=%.3g, R²=%.2f", f.A, f.B, f.R2)
	switch ds := math.Exp(f.A/f.B - 1); {
	case f.B <= 0:
		label += ", no peak (b <= 0)"
	case ds > 10*dmax:
		label += ", peak d* beyond 10x the data"
	default:
		label += fmt.Sprintf(", peak d*=%.3g", ds)
	}
	return label
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
