package plots

import (
	"fmt"
	"image/color"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"

	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

// Kind is a kind of figure drawn from results.
type Kind string

// The kinds of figure Build draws.
const (
	// KindDrift is a metric over steps: the mean and 95% band across runs,
	// one line per value of Options.By, the steps where the mix changes
	// marked.
	KindDrift Kind = "drift"
	// KindInfluence is each signal's share of the update over steps, stacked.
	KindInfluence Kind = "influence"
	// KindSegments is sycophancy per user segment over steps.
	KindSegments Kind = "segments"
	// KindHeatmap is a final metric over two swept axes, with the analytic
	// critical line when both are signal weights.
	KindHeatmap Kind = "heatmap"
	// KindFrontier is gold utility and proxy reward against sqrt(KL), with
	// the Gao et al. fit to gold: a run's curve over the last stretch of
	// steps with a fixed reward, or a sweep's runs as points, grouped by
	// Options.By (by default the first swept key that changes the reward).
	KindFrontier Kind = "frontier"
	// KindCompare is one metric from several sources overlaid.
	KindCompare Kind = "compare"
)

// Kinds lists the kinds of figure in the order `rewardmix plot --help`
// gives them.
var Kinds = []Kind{KindDrift, KindInfluence, KindSegments, KindHeatmap, KindFrontier, KindCompare}

// Options select what a figure of results shows. The zero value draws
// sycophancy over every step.
type Options struct {
	Metric string // drift, heatmap, compare (default "sycophancy_rate")
	By     string // drift, frontier: one line (colour) per value of this swept key
	X, Y   string // heatmap: the swept keys on its axes (default the first two numeric axes)
	// Level is the heatmap's contour and analytic critical line (0: 0.5,
	// or midway between the map's extremes when 0.5 is outside them).
	Level float64
	// Steps limits the figures over steps to a range (nil: every step).
	Steps *results.StepRange
	Title string // replaces the figure's title
}

func (o Options) steps() results.StepRange {
	if o.Steps == nil {
		return results.AllSteps
	}
	return *o.Steps
}

// Build draws a figure of kind from results: one source, or for KindCompare
// one or more. A request the results cannot answer (a metric or axis they
// do not have, no data in the step range) is a *results.Error.
func Build(kind Kind, o Options, srcs ...results.Source) (*Figure, error) {
	if len(srcs) == 0 {
		panic("plots: Build without a source")
	}
	src := srcs[0]
	if o.Metric == "" {
		o.Metric = "sycophancy_rate"
	}
	var fig *Figure
	var err error
	switch kind {
	case KindDrift:
		fig, err = driftFigure(o, src)
	case KindSegments:
		fig, err = segmentsFigure(o, src)
	case KindInfluence:
		fig, err = influenceFigure(o, src)
	case KindFrontier:
		fig, err = frontierFigure(o, src)
	case KindHeatmap:
		fig, err = heatmapFigure(o, src)
	case KindCompare:
		fig, err = compareFigure(o, srcs)
	default:
		panic(fmt.Sprintf("plots: Build of unknown kind %q", kind))
	}
	if err != nil {
		return nil, err
	}
	if o.Title != "" && len(fig.Rows) > 0 && len(fig.Rows[0]) > 0 {
		fig.Rows[0][0].Title.Text = o.Title
	}
	return fig, nil
}

// StandardKinds is a source's standard set of figures: drift, segments,
// influence and frontier (each where the source records the series it
// draws: [output] metrics may leave them out), and a heatmap for a sweep of
// two or more numeric axes.
func StandardKinds(src results.Source) []Kind {
	cfg := src.Config()
	var kinds []Kind
	if hasSeries(src, "sycophancy_rate") {
		kinds = append(kinds, KindDrift)
	}
	segs := true
	for _, s := range sim.Names(cfg.Segments) {
		segs = segs && hasSeries(src, "sycophancy_rate/"+s)
	}
	if segs {
		kinds = append(kinds, KindSegments)
	}
	infl := false
	for _, s := range sim.Names(cfg.Signals) {
		infl = infl || hasSeries(src, "influence/"+s)
	}
	if infl {
		kinds = append(kinds, KindInfluence)
	}
	if hasSeries(src, "kl") && hasSeries(src, "gold_utility") && hasSeries(src, "proxy_reward") {
		kinds = append(kinds, KindFrontier)
	}
	if len(results.NumericAxes(src)) >= 2 {
		kinds = append(kinds, KindHeatmap)
	}
	return kinds
}

// hasSeries reports whether src holds metric m's series: it has the
// metric, and its [output] table records it.
func hasSeries(src results.Source, m string) bool {
	return slices.Contains(src.Metrics(), m) && src.Config().Output.Records(m)
}

// StandardSet draws a source's standard set, except the kinds in skip,
// with one pass over its steps for all the figures that pool every run.
// A sweep's drift figure has a line per value of its first axis unless
// o.By says otherwise. It returns the kinds drawn, in order, and their
// figures.
func StandardSet(src results.Source, o Options, skip ...Kind) ([]Kind, []*Figure, error) {
	cfg := src.Config()
	pooled := []string{"sycophancy_rate", "kl", "gold_utility", "proxy_reward", "influence/kl"}
	for _, s := range sim.Names(cfg.Segments) {
		pooled = append(pooled, "sycophancy_rate/"+s)
	}
	for _, s := range sim.Names(cfg.Signals) {
		pooled = append(pooled, "influence/"+s)
	}
	var have []string
	for _, m := range pooled {
		if hasSeries(src, m) {
			have = append(have, m)
		}
	}
	st, err := src.Steps(have, results.Pool(src), o.steps())
	if err != nil {
		return nil, nil, err
	}
	cached := &pooledCache{Source: src, stats: st, steps: o.steps()}
	var kinds []Kind
	var figs []*Figure
	for _, k := range StandardKinds(src) {
		if slices.Contains(skip, k) {
			continue
		}
		ko := o
		if k == KindDrift && src.Sweep() && len(src.Axes()) > 0 && ko.By == "" {
			ko.By = src.Axes()[0]
		}
		fig, err := Build(k, ko, cached)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", k, err)
		}
		kinds = append(kinds, k)
		figs = append(figs, fig)
	}
	return kinds, figs, nil
}

// proxyAxis is the axis a sweep's frontier groups its runs by: the first
// that changes what is optimised, so that each Gao fit is over runs against
// one proxy. Keys of [train] say how it is optimised, and those of [review]
// and [deployment] judge the result; "" when no axis is of another table.
func proxyAxis(axes []string) string {
	for _, a := range axes {
		table, _, _ := strings.Cut(a, ".")
		if table != "train" && table != "review" && table != "deployment" {
			return a
		}
	}
	return ""
}

// pooledCache answers a source's pooled requests for the metrics it holds
// from one pass made ahead.
type pooledCache struct {
	results.Source
	stats *results.StepStats
	steps results.StepRange
}

func (c *pooledCache) Steps(ms []string, g results.Groups, r results.StepRange) (*results.StepStats, error) {
	if g.Key == "" && len(g.Labels) == 1 && r == c.steps && c.stats.Has(ms...) {
		return c.stats, nil
	}
	return c.Source.Steps(ms, g, r)
}

// pooledSteps aggregates metrics over every finished run of src as one
// group.
func pooledSteps(src results.Source, ms []string, r results.StepRange) (*results.StepStats, error) {
	return src.Steps(ms, results.Pool(src), r)
}

// RunDrift draws a run's drift panels: sycophancy overall and per segment,
// gold utility, and the primary signal's influence over training, with
// the update and every other change of the mix marked (drift.png of
// `rewardmix run`).
func RunDrift(src results.Source) (*Figure, error) {
	cfg := src.Config()
	segs := sim.Names(cfg.Segments)
	ms := []string{"sycophancy_rate", "gold_utility", "influence/" + cfg.Primary}
	for _, s := range segs {
		ms = append(ms, "sycophancy_rate/"+s)
	}
	if err := results.CheckMetrics(src, ms...); err != nil {
		return nil, err
	}
	st, err := pooledSteps(src, ms, results.AllSteps)
	if err != nil {
		return nil, err
	}
	y := func(m string) []float64 { _, mean, _, _, _ := st.Series(m, 0); return mean }
	x, _, _, _, _ := st.Series("sycophancy_rate", 0)
	syc := Panel{YLabel: "sycophancy rate", YMin: 0, YMax: 0.5,
		Lines: []Line{{Label: "all users", Y: y("sycophancy_rate"), Emphasis: true}}}
	for _, s := range segs {
		syc.Lines = append(syc.Lines, Line{Label: s, Y: y("sycophancy_rate/" + s)})
	}
	gold := Panel{YLabel: "gold utility\n(not trained on)", Lines: []Line{
		{Label: "gold utility (not trained on)", Y: y("gold_utility")}}}
	infl := Panel{YLabel: cfg.Primary + " (primary)\nshare of update", YMin: 0, YMax: 1, Lines: []Line{
		{Label: cfg.Primary + " (primary)", Y: y("influence/" + cfg.Primary)}}}
	d := &Panels{
		Title:   fmt.Sprintf("%s: drift over training (seed %d)", cfg.Name, cfg.Seed),
		XLabel:  "training step",
		X:       x,
		Panels:  []Panel{syc, gold, infl},
		Markers: markers(cfg),
	}
	return d.Figure()
}

// markers are the update step and every other step where the mix changes.
func markers(cfg *sim.Config) []Marker {
	ms := []Marker{{X: float64(cfg.Train.UpdateStep), Label: "update"}}
	for _, t := range cfg.MixChanges() {
		if t != cfg.Train.UpdateStep {
			ms = append(ms, Marker{X: float64(t), Label: "mix changes"})
		}
	}
	return ms
}

func driftFigure(o Options, src results.Source) (*Figure, error) {
	if err := results.CheckMetrics(src, o.Metric); err != nil {
		return nil, err
	}
	g, err := results.GroupBy(src, o.By)
	if err != nil {
		return nil, err
	}
	labels := g.Labels
	binned := len(labels) > maxDriftLines
	if binned {
		g, labels = binGroups(g, maxDriftLines)
	}
	st, err := src.Steps([]string{o.Metric}, g, o.steps())
	if err != nil {
		return nil, err
	}
	ylabel, lo, hi := metricAxis(o.Metric)
	d := &Lines{Title: fmt.Sprintf("%s: %s over training", src.Label(), metricName(o.Metric)), XLabel: "training step", YLabel: ylabel,
		Markers: markers(src.Config()), YMin: lo, YMax: hi}
	if o.By != "" {
		d.Title = fmt.Sprintf("%s: %s by %s", src.Label(), metricName(o.Metric), keyName(o.By))
		d.LegendTitle = keyName(o.By)
		if binned {
			d.LegendTitle += " (runs binned by value)"
		}
		if len(src.Axes()) > 1 {
			d.Title += "\n(runs pooled over the other axes)"
		}
	}
	for i, l := range labels {
		s, err := seriesOf(st, o.Metric, i, l)
		if err != nil {
			return nil, err
		}
		if o.By != "" {
			s.Label = ShortNumber(l)
		} else {
			s.Label = metricName(o.Metric)
		}
		d.Series = append(d.Series, s)
	}
	return d.Figure()
}

// maxDriftLines is the most lines a drift figure draws; more values of
// By are binned into this many runs of consecutive values (more lines
// could not be told apart).
const maxDriftLines = 7

// binGroups merges n ordered groups into k bins of consecutive groups, and
// labels each bin by its first and last value ("a to b", or its one value).
func binGroups(g results.Groups, k int) (results.Groups, []string) {
	n := len(g.Labels)
	bin := func(i int) int { return i * k / n }
	var labels []string
	for b := 0; b < k; b++ {
		first, last := -1, -1
		for i := range g.Labels {
			if bin(i) == b {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		l := ShortNumber(g.Labels[first])
		if last != first {
			l += " to " + ShortNumber(g.Labels[last])
		}
		labels = append(labels, l)
	}
	out := results.Groups{Key: g.Key, Labels: labels, Of: make([]int, len(g.Of))}
	for r, i := range g.Of {
		out.Of[r] = -1
		if i >= 0 {
			out.Of[r] = bin(i)
		}
	}
	return out, labels
}

// seriesOf turns one group's accumulators into a series; a band only when
// some step has two or more runs.
func seriesOf(st *results.StepStats, metric string, g int, label string) (Series, error) {
	x, mean, lo, hi, n := st.Series(metric, g)
	if len(x) == 0 {
		return Series{}, results.Errorf("no data for %s in the step range", metric)
	}
	s := Series{Label: label, X: x, Mean: mean, N: n}
	if n > 1 {
		s.Lower, s.Upper = lo, hi
	}
	return s, nil
}

func segmentsFigure(o Options, src results.Source) (*Figure, error) {
	cfg := src.Config()
	segs := sim.Names(cfg.Segments)
	ms := []string{"sycophancy_rate"}
	for _, s := range segs {
		ms = append(ms, "sycophancy_rate/"+s)
	}
	if err := results.CheckMetrics(src, ms...); err != nil {
		return nil, err
	}
	st, err := pooledSteps(src, ms, o.steps())
	if err != nil {
		return nil, err
	}
	d := &Lines{Title: src.Label() + ": sycophancy per user segment (% of users)", XLabel: "training step", YLabel: "sycophancy rate",
		Markers: markers(cfg), YMin: 0, YMax: 0.5}
	for i, m := range ms {
		label := "all users"
		if i > 0 {
			label = fmt.Sprintf("%s (%.0f%%)", segs[i-1], 100*cfg.Segments[segs[i-1]].Share)
		}
		s, err := seriesOf(st, m, 0, label)
		if err != nil {
			return nil, err
		}
		s.Emphasis = i == 0
		d.Series = append(d.Series, s)
	}
	return d.Figure()
}

func influenceFigure(o Options, src results.Source) (*Figure, error) {
	cfg := src.Config()
	sigs := []string{cfg.Primary}
	for _, s := range sim.Names(cfg.Signals) {
		if s != cfg.Primary {
			sigs = append(sigs, s)
		}
	}
	var ms, labels []string
	for _, s := range sigs {
		ms = append(ms, "influence/"+s)
		l := s
		if s == cfg.Primary {
			l += " (primary)"
		}
		labels = append(labels, l)
	}
	ms = append(ms, "influence/kl")
	labels = append(labels, "KL penalty")
	if err := results.CheckMetrics(src, ms...); err != nil {
		return nil, err
	}
	st, err := pooledSteps(src, ms, o.steps())
	if err != nil {
		return nil, err
	}
	d := &Influence{Title: src.Label() + ": share of the policy update", Labels: labels, Markers: markers(cfg),
		Colors: influenceColors(cfg, sigs)}
	for _, m := range ms {
		x, mean, _, _, n := st.Series(m, 0)
		if m == ms[0] {
			d.Title += meanOf(src, n)
		}
		if len(x) == 0 {
			return nil, results.Errorf("no data for %s in the step range", m)
		}
		d.X = x
		d.Shares = append(d.Shares, mean)
	}
	return d.Figure()
}

// influenceColors gives each signal the colour of its kind, and the KL
// penalty its own, so that a figure of baseline and one of incident (or
// the steps of the workshop's story) colour the same signal alike. A kind
// met again takes the first colour no one has.
func influenceColors(cfg *sim.Config, sigs []string) []color.Color {
	byKind := map[reward.Kind]int{reward.KindSpec: 0, reward.KindCorrectness: 1, reward.KindMemory: 2, reward.KindThumbs: 3, reward.KindTable: 5}
	const kl = 4
	used := map[int]bool{kl: true}
	var out []color.Color
	for _, s := range sigs {
		i, ok := byKind[cfg.Signals[s].Kind]
		if !ok || used[i] {
			i = len(out) % len(Palette) // more signals than colours: cycle
			for j := range Palette {
				if !used[j] {
					i = j
					break
				}
			}
		}
		used[i] = true
		out = append(out, Palette[i])
	}
	return append(out, Palette[kl])
}

func frontierFigure(o Options, src results.Source) (*Figure, error) {
	ms := []string{"kl", "gold_utility", "proxy_reward"}
	if err := results.CheckMetrics(src, ms...); err != nil {
		return nil, err
	}
	if src.Sweep() {
		return sweepFrontier(o, src, ms)
	}
	r := o.steps()
	from, why := fixedStretch(src.Config(), r)
	r.Lo = from
	st, err := pooledSteps(src, ms, r)
	if err != nil {
		return nil, err
	}
	x, kl, _, _, _ := st.Series("kl", 0)
	_, gold, _, _, _ := st.Series("gold_utility", 0)
	_, proxy, _, _, _ := st.Series("proxy_reward", 0)
	if len(x) == 0 {
		return nil, results.Errorf("no data for kl in the step range")
	}
	d := &Frontier{Title: src.Label() + ": Goodhart frontier", Gold: gold, Proxy: proxy, Steps: x, Change: why}
	for _, k := range kl {
		d.D = append(d.D, math.Sqrt(math.Max(k, 0)))
	}
	fig, err := d.Figure()
	if err == nil && why != "" {
		fig.Notes = append(fig.Notes, "frontier: "+stretchNote(from, why))
	}
	return fig, err
}

// fixedStretch returns the first step of the last stretch of r over which
// the reward trained on is one fixed function (no change of the mix, no
// deployment refitting a reward model or moving memory), and, when that
// cuts r short, what changed the reward there, in words. A frontier drawn
// across a change would join two different proxies into one curve.
func fixedStretch(cfg *sim.Config, r results.StepRange) (int, string) {
	hi := r.Hi
	if hi < 0 {
		hi = cfg.Train.Steps
	}
	from := r.Lo
	for _, t := range cfg.RewardChanges() {
		if t > from && t <= hi {
			from = t
		}
	}
	if from == r.Lo {
		return from, ""
	}
	return from, rewardChangeAt(cfg, from)
}

// stretchNote is the sentence that says why a frontier starts at step
// from: what changed the reward there.
func stretchNote(from int, what string) string {
	return fmt.Sprintf("the reward changes at step %d (%s); the frontier shows only the steps after, where it is fixed", from, what)
}

// rewardChangeAt says in words what changes the reward at step t.
func rewardChangeAt(cfg *sim.Config, t int) string {
	var starts, ends []string
	for _, n := range sim.Names(cfg.Signals) {
		s := cfg.Signals[n]
		if s.StartStep == t {
			starts = append(starts, n)
		}
		if s.EndStep == t {
			ends = append(ends, n)
		}
	}
	var what []string
	rewards := func(names []string, verb string) string {
		if len(names) == 1 {
			return "the " + names[0] + " reward " + verb + "s the mix"
		}
		return "the " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " rewards " + verb + " the mix"
	}
	if len(starts) > 0 {
		what = append(what, rewards(starts, "join"))
	}
	if len(ends) > 0 {
		what = append(what, rewards(ends, "leave"))
	}
	if cfg.Memory.Enabled && cfg.Memory.StartStep == t {
		what = append(what, "per-user memory switches on")
	}
	if slices.Contains(cfg.Deployments(), t) {
		what = append(what, "a deployment logs new feedback")
	}
	return strings.Join(what, "; ")
}

// sweepFrontier is the frontier across a sweep's runs: each run's final
// d = sqrt(KL) and its gains since the start of its last fixed stretch,
// grouped by o.By (by default the proxy axis), with the Gao form fitted
// across the runs of each group when every stretch starts at the
// reference (step 0).
func sweepFrontier(o Options, src results.Source, ms []string) (*Figure, error) {
	if o.By == "" {
		o.By = proxyAxis(src.Axes())
	}
	g, err := results.GroupBy(src, o.By)
	if err != nil {
		return nil, err
	}
	r := o.steps()
	runs := src.Runs()
	starts, ends := make([]int, len(runs)), make([]int, len(runs))
	from, why, mixed := -1, "", false
	for i, run := range runs {
		ends[i] = r.Hi
		if !run.OK {
			continue
		}
		cfg, err := src.RunConfig(i)
		if err != nil {
			return nil, err
		}
		w := ""
		starts[i], w = fixedStretch(cfg, r)
		switch {
		case from < 0:
			from, why = starts[i], w
		case starts[i] != from:
			mixed = true
		}
	}
	at, err := src.At(ms, starts)
	if err != nil {
		return nil, err
	}
	end, err := src.At(ms, ends)
	if err != nil {
		return nil, err
	}
	if from < 0 {
		return nil, results.Errorf("%s has no finished runs", src.Name())
	}
	d := &FrontierRuns{Title: src.Label() + ": Goodhart frontier across runs", From: from, Change: why, Mixed: mixed, LegendTitle: keyName(o.By)}
	if o.By != "" {
		d.Title += fmt.Sprintf("\n(one point per run; a colour per %s)", keyName(o.By))
	}
	d.Groups = make([]FrontierGroup, len(g.Labels))
	for k, l := range g.Labels {
		d.Groups[k].Label = ShortNumber(l)
	}
	if o.By == "" {
		d.Groups[0].Label = ""
	}
	for i, gi := range g.Of {
		if gi < 0 {
			continue
		}
		kl, gold, proxy := end[i][0], end[i][1]-at[i][1], end[i][2]-at[i][2]
		if math.IsNaN(kl) || math.IsNaN(gold) || math.IsNaN(proxy) {
			d.Missing++
			continue
		}
		grp := &d.Groups[gi]
		grp.D = append(grp.D, math.Sqrt(math.Max(kl, 0)))
		grp.Gold, grp.Proxy = append(grp.Gold, gold), append(grp.Proxy, proxy)
	}
	fig, err := d.Figure()
	if err != nil {
		return nil, err
	}
	switch {
	case mixed:
		fig.Notes = append(fig.Notes, "frontier: the reward changes at different steps in different runs; each run's gains are from the start of its own last fixed stretch, and there is no fit")
	case why != "":
		fig.Notes = append(fig.Notes, "frontier: "+stretchNote(from, why)+"; with gains measured from there, not from the reference, there is no fit")
	}
	return fig, nil
}

// meanOf is a title's note that a sweep's figure shows the mean of its n
// runs (empty for a single run).
func meanOf(src results.Source, n int) string {
	if !src.Sweep() {
		return ""
	}
	return fmt.Sprintf("\n(mean of %d runs)", n)
}

func compareFigure(o Options, srcs []results.Source) (*Figure, error) {
	ylabel, lo, hi := metricAxis(o.Metric)
	d := &Lines{Title: metricName(o.Metric) + " compared", XLabel: "training step", YLabel: ylabel, YMin: lo, YMax: hi}
	var names []string
	for _, src := range srcs {
		names = append(names, src.Name())
	}
	labels := folderLabels(names)
	for i, src := range srcs {
		if err := results.CheckMetrics(src, o.Metric); err != nil {
			return nil, err
		}
		st, err := pooledSteps(src, []string{o.Metric}, o.steps())
		if err != nil {
			return nil, err
		}
		label := labels[i]
		if name := src.Config().Name; name != "" && name != label {
			label += " (" + name + ")"
		}
		s, err := seriesOf(st, o.Metric, 0, label)
		if err != nil {
			return nil, err
		}
		d.Series = append(d.Series, s)
	}
	// The update is marked when every source has it at the same step.
	same := true
	for _, src := range srcs {
		same = same && src.Config().Train.UpdateStep == srcs[0].Config().Train.UpdateStep
	}
	if same {
		d.Markers = []Marker{{X: float64(srcs[0].Config().Train.UpdateStep), Label: "update"}}
	}
	return d.Figure()
}

func heatmapFigure(o Options, src results.Source) (*Figure, error) {
	axes := src.Axes()
	if !src.Sweep() {
		return nil, results.Errorf("%s is a run folder: a heatmap needs a sweep over at least two axes", src.Name())
	}
	if len(axes) < 2 {
		return nil, results.Errorf("%s: a heatmap needs a sweep over at least two axes; this folder sweeps %d (%s)", src.Name(), len(axes), strings.Join(axes, ", "))
	}
	if err := results.CheckMetrics(src, o.Metric); err != nil {
		return nil, err
	}
	// By default the first two numeric axes (a sweep may also run over
	// modes such as train.weights).
	num := results.NumericAxes(src)
	for _, a := range num {
		if o.X == "" && a != o.Y {
			o.X = a
		} else if o.Y == "" && a != o.X {
			o.Y = a
		}
	}
	if o.X == "" || o.Y == "" {
		return nil, results.Errorf("%s: a heatmap needs two numeric swept axes; the numeric ones are: %s (of %s)", src.Name(), strings.Join(num, ", "), strings.Join(axes, ", "))
	}
	if o.X == o.Y {
		return nil, results.Errorf("--x and --y are both %s", o.X)
	}
	xi, err := results.AxisIndex(src, o.X)
	if err != nil {
		return nil, err
	}
	yi, err := results.AxisIndex(src, o.Y)
	if err != nil {
		return nil, err
	}
	points, err := src.Points(o.Metric)
	if err != nil {
		return nil, err
	}
	// Average the points' means over any other axes.
	type cell struct{ x, y float64 }
	sum, cnt := map[cell]float64{}, map[cell]int{}
	xs, ys := map[float64]bool{}, map[float64]bool{}
	for _, p := range points {
		x, errx := strconv.ParseFloat(p.Params[xi], 64)
		y, erry := strconv.ParseFloat(p.Params[yi], 64)
		if errx != nil || erry != nil {
			return nil, results.Errorf("a heatmap needs numeric axes; %s = %q, %s = %q", o.X, p.Params[xi], o.Y, p.Params[yi])
		}
		c := cell{x, y}
		sum[c] += p.Mean
		cnt[c]++
		xs[x], ys[y] = true, true
	}
	zlabel, _, _ := metricAxis(o.Metric)
	d := &Heatmap{Title: fmt.Sprintf("%s: final %s", src.Label(), metricName(o.Metric)), XLabel: keyName(o.X), YLabel: keyName(o.Y), ZLabel: "final " + zlabel,
		X: slices.Sorted(maps.Keys(xs)), Y: slices.Sorted(maps.Keys(ys)), Level: o.Level, Contour: true}
	if len(axes) > 2 {
		d.Title += " (mean over the other axes)"
	}
	for _, y := range d.Y {
		row := make([]float64, len(d.X))
		for i, x := range d.X {
			row[i] = math.NaN()
			if n := cnt[cell{x, y}]; n > 0 {
				row[i] = sum[cell{x, y}] / float64(n)
			}
		}
		d.Z = append(d.Z, row)
	}
	if o.Level == 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, row := range d.Z {
			for _, v := range row {
				if !math.IsNaN(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
		d.Level = 0.5
		if !(lo < 0.5 && 0.5 < hi) {
			d.Level = (lo + hi) / 2
		}
		o.Level = d.Level
	}
	var note string
	d.Critical, d.CriticalLabel, note = criticalLine(src.Config(), o, d.Y)
	fig, err := d.Figure()
	if err == nil && note != "" {
		fig.Notes = append(fig.Notes, note)
	}
	return fig, err
}

// criticalLine returns the analytic critical line when both axes are
// signal weights and the metric is the sycophancy rate: for each y weight,
// the x weight at which pi* (under the mix of the last step, memory off)
// reaches the level. Where it cannot be drawn, note says why.
func criticalLine(cfg *sim.Config, o Options, ys []float64) (line plotter.XYs, label, note string) {
	xsig, okx := signalWeightKey(cfg, o.X)
	ysig, oky := signalWeightKey(cfg, o.Y)
	if !okx || !oky || o.Metric != "sycophancy_rate" {
		return nil, "", ""
	}
	c := cfg.Clone()
	step := c.Train.Steps - 1
	lo, hi := ys[0], ys[len(ys)-1]
	var lastErr error
	for i := 0; i <= 40; i++ {
		y := lo + (hi-lo)*float64(i)/40
		s := c.Signals[ysig]
		s.Weight = y
		c.Signals[ysig] = s
		w, err := sim.CriticalWeight(c, xsig, step, o.Level)
		if err != nil {
			lastErr = err
			continue
		}
		line = append(line, plotter.XY{X: w, Y: y})
	}
	if len(line) < 2 {
		return nil, "", fmt.Sprintf("no analytic critical line: %v", lastErr)
	}
	return line, fmt.Sprintf("closed-form critical line: π* at %.3g (the closed form leaves memory out)", o.Level), ""
}

// signalWeightKey returns the signal named by a key signals.NAME.weight.
func signalWeightKey(cfg *sim.Config, key string) (string, bool) {
	name, ok := strings.CutPrefix(key, "signals.")
	if !ok {
		return "", false
	}
	name, ok = strings.CutSuffix(name, ".weight")
	if _, exists := cfg.Signals[name]; !ok || !exists {
		return "", false
	}
	return name, true
}
