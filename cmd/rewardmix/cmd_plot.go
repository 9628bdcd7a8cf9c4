package main

import (
	"context"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

const plotSynopsis = `plot [flags] DIR...

Draws figures from run and sweep folders. Without --kind it draws the
standard set (drift, segments, influence, frontier, and for a sweep with two
or more axes heatmap) as PNG files into the folder named by -o (default
DIR-plots beside DIR). With --kind it draws one figure into the file named
by -o (default DIR-plots/KIND.png); the format follows the extension (.png,
.svg, .pdf). Kinds:

  drift      a metric over steps: mean and 95% band across runs, one colour
             per value of --by, the steps where the mix changes marked
  influence  each signal's share of the update over steps, stacked
  segments   sycophancy per user segment over steps
  heatmap    a final metric over two swept axes (--x, --y), with the analytic
             critical line when both are signal weights
  frontier   gold utility and proxy reward against sqrt(KL), with the Gao et
             al. fit R = d(a - b ln d) to the gold curve
  compare    one metric from several folders overlaid`

var plotKinds = []string{"drift", "influence", "segments", "heatmap", "frontier", "compare"}

type plotOpts struct {
	kind, metric, by, x, y, title string
	level                         float64
	steps                         stepRange
	width, height                 vg.Length
}

func runPlot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", plotSynopsis)
	out := fs.String("o", "", "output file (with --kind) or folder (default DIR-plots)")
	kind := fs.String("kind", "", "one figure: "+strings.Join(plotKinds, ", ")+" (default: the standard set)")
	metric := fs.String("metric", "", "metric for drift, heatmap and compare (default sycophancy_rate)")
	by := fs.String("by", "", "drift: one line per value of this swept key")
	xKey := fs.String("x", "", "heatmap: swept key on the x axis (default the first axis)")
	yKey := fs.String("y", "", "heatmap: swept key on the y axis (default the second axis)")
	level := fs.Float64("level", 0, "heatmap: level of the simulated contour and the analytic critical line\n(default 0.5, or midway between the map's extremes when 0.5 is outside them)")
	width := fs.String("width", "", "figure width, e.g. 16cm or 6.5in (default per figure)")
	height := fs.String("height", "", "figure height, e.g. 10cm or 4in (default per figure)")
	title := fs.String("title", "", "figure title (default per figure)")
	steps := fs.String("step-range", "", "only steps a:b (inclusive; either end may be left out)")
	dirs, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	o := plotOpts{kind: *kind, metric: *metric, by: *by, x: *xKey, y: *yKey, title: *title, level: *level}
	if o.steps, err = parseStepRange(*steps); err != nil {
		return err
	}
	if o.width, err = parseLength("width", *width); err != nil {
		return err
	}
	if o.height, err = parseLength("height", *height); err != nil {
		return err
	}
	if len(dirs) == 0 {
		return inputErrorf("want at least one run or sweep folder (see 'rewardmix plot --help')")
	}
	if o.kind != "" && !hasString(plotKinds, o.kind) {
		return inputErrorf("unknown --kind %q (kinds: %s)", o.kind, strings.Join(plotKinds, ", "))
	}
	if len(dirs) > 1 && o.kind != "compare" {
		return inputErrorf("%d folders given: only --kind compare takes more than one", len(dirs))
	}
	outDefault := filepath.Clean(dirs[0]) + "-plots"
	var rds []*resultDir
	for _, d := range dirs {
		rd, err := openResults(d)
		if err != nil {
			return err
		}
		rds = append(rds, rd)
	}
	if o.kind != "" {
		path := *out
		if path == "" {
			path = filepath.Join(outDefault, o.kind+".png")
		}
		if err := checkFigureExt(path); err != nil {
			return err
		}
		fig, err := buildFigure(o, rds, stderr)
		if err != nil {
			return err
		}
		data, err := renderFigure(fig, path, o.width, o.height)
		if err != nil {
			return err
		}
		if err := writeFigure(path, data); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
		return nil
	}

	// The standard set: everything is drawn before anything is written.
	dir := *out
	if dir == "" {
		dir = outDefault
	}
	if ext := filepath.Ext(dir); ext == ".png" || ext == ".svg" || ext == ".pdf" {
		return inputErrorf("-o %s names a file, but the standard set is several figures: give a folder, or one --kind", dir)
	}
	names, files, err := standardFigures(o, rds[0], stderr, nil)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range names {
		if err := writeFigure(filepath.Join(dir, n), files[n]); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %s/{%s}\n", dir, strings.Join(names, ","))
	return nil
}

// standardKinds is a folder's standard set: drift, segments, influence and
// frontier, and a heatmap for a sweep of two or more numeric axes.
func standardKinds(rd *resultDir) []string {
	kinds := []string{"drift", "segments", "influence", "frontier"}
	if len(rd.numericAxes()) >= 2 {
		kinds = append(kinds, "heatmap")
	}
	return kinds
}

// standardSet builds a folder's standard set, with one read of steps.csv
// for all the figures that pool every run; kinds in skip are left out. It
// returns the kinds drawn, in order, and their figures.
func standardSet(o plotOpts, rd *resultDir, stderr io.Writer, skip map[string]bool) ([]string, map[string]*plots.Figure, error) {
	pooled := []string{"sycophancy_rate", "kl", "gold_utility", "proxy_reward", "influence/kl"}
	for _, s := range sortedNames(rd.cfg.Segments) {
		pooled = append(pooled, "sycophancy_rate/"+s)
	}
	for _, s := range sortedNames(rd.cfg.Signals) {
		pooled = append(pooled, "influence/"+s)
	}
	if err := rd.prefetch(pooled, o.steps); err != nil {
		return nil, nil, err
	}
	figs := map[string]*plots.Figure{}
	var kinds []string
	for _, k := range standardKinds(rd) {
		if skip[k] {
			continue
		}
		ko := o
		ko.kind = k
		if k == "drift" && rd.sweep && len(rd.axes) > 0 && ko.by == "" {
			ko.by = rd.axes[0]
		}
		fig, err := buildFigure(ko, []*resultDir{rd}, stderr)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", k, err)
		}
		figs[k] = fig
		kinds = append(kinds, k)
	}
	return kinds, figs, nil
}

// standardFigures draws a folder's standard set as PNGs, in memory.
func standardFigures(o plotOpts, rd *resultDir, stderr io.Writer, skip map[string]bool) ([]string, map[string][]byte, error) {
	kinds, figs, err := standardSet(o, rd, stderr, skip)
	if err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{}
	var names []string
	for _, k := range kinds {
		data, err := renderFigure(figs[k], k+".png", o.width, o.height)
		if err != nil {
			return nil, nil, err
		}
		files[k+".png"] = data
		names = append(names, k+".png")
	}
	return names, files, nil
}

// writeFigure writes data to path through a temporary file, so that path
// never holds a partial figure.
func writeFigure(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

func checkFigureExt(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".svg", ".pdf":
		return nil
	}
	return inputErrorf("%s: unknown figure format %q (use .png, .svg or .pdf)", path, filepath.Ext(path))
}

// parseLength parses a length with a unit: cm, mm, in or pt.
func parseLength(name, v string) (vg.Length, error) {
	if v == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		unit   vg.Length
	}{{"cm", vg.Centimeter}, {"mm", vg.Millimeter}, {"in", vg.Inch}, {"pt", vg.Points(1)}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || !(f > 0) || vg.Length(f)*u.unit > maxFigureSide {
				break
			}
			return vg.Length(f) * u.unit, nil
		}
	}
	return 0, inputErrorf("--%s %q: want a positive length up to 100cm with a unit, e.g. 16cm, 160mm, 6.5in or 450pt", name, v)
}

func hasString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// buildFigure draws one kind of figure from the folders.
func buildFigure(o plotOpts, rds []*resultDir, stderr io.Writer) (*plots.Figure, error) {
	rd := rds[0]
	if o.metric == "" {
		o.metric = "sycophancy_rate"
	}
	var fig *plots.Figure
	var err error
	switch o.kind {
	case "drift":
		fig, err = driftFigure(o, rd)
	case "segments":
		fig, err = segmentsFigure(o, rd)
	case "influence":
		fig, err = influenceFigure(o, rd)
	case "frontier":
		fig, err = frontierFigure(o, rd)
	case "heatmap":
		fig, err = heatmapFigure(o, rd, stderr)
	case "compare":
		fig, err = compareFigure(o, rds)
	}
	if err != nil {
		return nil, err
	}
	if o.title != "" && len(fig.Rows) > 0 && len(fig.Rows[0]) > 0 {
		fig.Rows[0][0].Title.Text = o.title
	}
	return fig, nil
}

// markers are the update step and every other step where the mix changes.
func markers(cfg *sim.Config) []plots.Marker {
	ms := []plots.Marker{{X: float64(cfg.Train.UpdateStep), Label: "update"}}
	for _, t := range mixChanges(cfg) {
		if t != cfg.Train.UpdateStep {
			ms = append(ms, plots.Marker{X: float64(t), Label: "mix changes"})
		}
	}
	return ms
}

// metricAxis returns a metric's axis label in words, with its unit or
// "rate"/"share" where it is one, and the y range a rate or share is drawn
// over (lo = hi: the data's own range).
func metricAxis(m string) (label string, lo, hi float64) {
	base, sub, _ := strings.Cut(m, "/")
	words := strings.ReplaceAll(sub, "_", " ")
	of := func(s string) string {
		if sub == "" {
			return s
		}
		return s + ", " + words + " users"
	}
	switch base {
	case "sycophancy_rate":
		return of("sycophancy rate"), 0, 0.5
	case "thumbs_up_rate":
		return of("thumbs-up rate"), 0, 1
	case "eval":
		return words + " eval (rate)", 0, 1
	case "influence":
		if sub == "kl" {
			return "KL penalty's share of the update", 0, 1
		}
		return words + "'s share of the update", 0, 1
	case "response_share":
		return "share of " + words + " responses", 0, 1
	case "weight":
		return "effective weight of " + words, 0, 0
	case "reward":
		return words + " reward (expected, unweighted)", 0, 0
	case "alignment":
		return words + " alignment with the update (cosine)", -1, 1
	case "memory":
		return "remembered stance, " + words + " users", 0, 0
	case "gold":
		return "gold " + words + " (not trained on)", 0, 0
	case "gold_utility":
		return "gold utility (not trained on)", 0, 0
	case "proxy_reward":
		return "proxy reward (trained on)", 0, 0
	case "kl":
		return "KL to reference (nats)", 0, 0
	case "grad_norm":
		return "gradient norm", 0, 0
	}
	return strings.ReplaceAll(m, "_", " "), 0, 0
}

// metricName is a metric in words for a title: its axis label without
// the unit in brackets.
func metricName(m string) string {
	l, _, _ := metricAxis(m)
	if i := strings.Index(l, " ("); i > 0 {
		l = l[:i]
	}
	return l
}

// keyName is a swept key in words: signals.thumbs.weight reads "thumbs
// weight"; other keys are left as the config spells them.
func keyName(k string) string {
	if name, ok := strings.CutPrefix(k, "signals."); ok {
		return strings.ReplaceAll(strings.ReplaceAll(name, ".", " "), "_", " ")
	}
	return k
}

// shortNumber formats a numeric parameter with at most 4 significant
// digits (linspace values such as 0.44444444444444442 would crowd a legend).
func shortNumber(v string) string {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return plots.FormatNumber(f)
	}
	return v
}

func folderName(rd *resultDir) string {
	if rd.label != "" {
		return rd.label
	}
	return filepath.Base(filepath.Clean(rd.path))
}

func driftFigure(o plotOpts, rd *resultDir) (*plots.Figure, error) {
	if err := rd.checkMetrics(o.metric); err != nil {
		return nil, err
	}
	labels, group, err := rd.groupsBy(o.by)
	if err != nil {
		return nil, err
	}
	binned := len(labels) > maxDriftLines
	if binned {
		labels, group = binGroups(labels, group, maxDriftLines)
	}
	var st *stepStats
	if o.by == "" {
		st, err = rd.pooledSteps([]string{o.metric}, o.steps) // the standard set's one read
	} else {
		st, err = rd.aggregateSteps([]string{o.metric}, len(labels), group, o.steps)
	}
	if err != nil {
		return nil, err
	}
	ylabel, lo, hi := metricAxis(o.metric)
	d := &plots.Lines{Title: fmt.Sprintf("%s: %s over training", folderName(rd), metricName(o.metric)), XLabel: "training step", YLabel: ylabel,
		Markers: markers(rd.cfg), YMin: lo, YMax: hi}
	if o.by != "" {
		d.Title = fmt.Sprintf("%s: %s by %s", folderName(rd), metricName(o.metric), keyName(o.by))
		d.LegendTitle = keyName(o.by)
		if binned {
			d.LegendTitle += " (runs binned by value)"
		}
		if len(rd.axes) > 1 {
			d.Title += "\n(runs pooled over the other axes)"
		}
	}
	for g, l := range labels {
		s, err := seriesOf(st, o.metric, g, l)
		if err != nil {
			return nil, err
		}
		if o.by != "" {
			s.Label = shortNumber(l)
		} else {
			s.Label = metricName(o.metric)
		}
		d.Series = append(d.Series, s)
	}
	return d.Figure()
}

// maxDriftLines is the most lines a drift figure draws; more values of
// --by are binned into this many runs of consecutive values (more lines
// could not be told apart).
const maxDriftLines = 7

// binGroups merges n ordered groups into k bins of consecutive groups,
// labelled by their first and last value.
func binGroups(labels []string, group func(int) int, k int) ([]string, func(int) int) {
	n := len(labels)
	bin := func(g int) int { return g * k / n }
	var out []string
	for b := 0; b < k; b++ {
		first, last := -1, -1
		for g := range labels {
			if bin(g) == b {
				if first < 0 {
					first = g
				}
				last = g
			}
		}
		l := shortNumber(labels[first])
		if last != first {
			l += " to " + shortNumber(labels[last])
		}
		out = append(out, l)
	}
	return out, func(i int) int {
		if g := group(i); g >= 0 {
			return bin(g)
		}
		return -1
	}
}

// seriesOf turns one group's accumulators into a series; a band only when
// some step has two or more runs.
func seriesOf(st *stepStats, metric string, g int, label string) (plots.Series, error) {
	x, mean, lo, hi, n := st.series(metric, g)
	if len(x) == 0 {
		return plots.Series{}, inputErrorf("no data for %s in the step range", metric)
	}
	s := plots.Series{Label: label, X: x, Mean: mean, N: n}
	if n > 1 {
		s.Lower, s.Upper = lo, hi
	}
	return s, nil
}

func segmentsFigure(o plotOpts, rd *resultDir) (*plots.Figure, error) {
	segs := sortedNames(rd.cfg.Segments)
	ms := []string{"sycophancy_rate"}
	for _, s := range segs {
		ms = append(ms, "sycophancy_rate/"+s)
	}
	if err := rd.checkMetrics(ms...); err != nil {
		return nil, err
	}
	st, err := rd.pooledSteps(ms, o.steps)
	if err != nil {
		return nil, err
	}
	d := &plots.Lines{Title: folderName(rd) + ": sycophancy per user segment (% of users)", XLabel: "training step", YLabel: "sycophancy rate",
		Markers: markers(rd.cfg), YMin: 0, YMax: 0.5}
	for i, m := range ms {
		label := "all users"
		if i > 0 {
			label = segs[i-1]
			if seg := rd.cfg.Segments[segs[i-1]]; true {
				label = fmt.Sprintf("%s (%.0f%%)", segs[i-1], 100*seg.Share)
			}
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

func sortedNames[V any](m map[string]V) []string {
	ns := make([]string, 0, len(m))
	for n := range m {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

func influenceFigure(o plotOpts, rd *resultDir) (*plots.Figure, error) {
	sigs := []string{rd.cfg.Primary}
	for _, s := range sortedNames(rd.cfg.Signals) {
		if s != rd.cfg.Primary {
			sigs = append(sigs, s)
		}
	}
	var ms, labels []string
	for _, s := range sigs {
		ms = append(ms, "influence/"+s)
		l := s
		if s == rd.cfg.Primary {
			l += " (primary)"
		}
		labels = append(labels, l)
	}
	ms = append(ms, "influence/kl")
	labels = append(labels, "KL penalty")
	if err := rd.checkMetrics(ms...); err != nil {
		return nil, err
	}
	st, err := rd.pooledSteps(ms, o.steps)
	if err != nil {
		return nil, err
	}
	d := &plots.Influence{Title: folderName(rd) + ": share of the policy update", Labels: labels, Markers: markers(rd.cfg),
		Colors: influenceColors(rd.cfg, sigs)}
	for _, m := range ms {
		x, mean, _, _, n := st.series(m, 0)
		if m == ms[0] {
			d.Title += meanOf(rd, n)
		}
		if len(x) == 0 {
			return nil, inputErrorf("no data for %s in the step range", m)
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
	byKind := map[string]int{reward.KindSpec: 0, reward.KindCorrectness: 1, reward.KindMemory: 2, reward.KindThumbs: 3, reward.KindTable: 5}
	const kl = 4
	used := map[int]bool{kl: true}
	var out []color.Color
	for _, s := range sigs {
		i, ok := byKind[cfg.Signals[s].Kind]
		if !ok || used[i] {
			i = len(out) % len(plots.Palette) // more signals than colours: cycle
			for j := range plots.Palette {
				if !used[j] {
					i = j
					break
				}
			}
		}
		used[i] = true
		out = append(out, plots.Palette[i])
	}
	return append(out, plots.Palette[kl])
}

func frontierFigure(o plotOpts, rd *resultDir) (*plots.Figure, error) {
	ms := []string{"kl", "gold_utility", "proxy_reward"}
	if err := rd.checkMetrics(ms...); err != nil {
		return nil, err
	}
	st, err := rd.pooledSteps(ms, o.steps)
	if err != nil {
		return nil, err
	}
	x, kl, _, _, n := st.series("kl", 0)
	_, gold, _, _, _ := st.series("gold_utility", 0)
	_, proxy, _, _, _ := st.series("proxy_reward", 0)
	if len(x) == 0 {
		return nil, inputErrorf("no data for kl in the step range")
	}
	d := &plots.Frontier{Title: folderName(rd) + ": Goodhart frontier" + meanOf(rd, n), Gold: gold, Proxy: proxy, Steps: x}
	for _, k := range kl {
		d.D = append(d.D, math.Sqrt(math.Max(k, 0)))
	}
	return d.Figure()
}

// meanOf is a title's note that a sweep's figure shows the mean of its n
// runs (empty for a run folder).
func meanOf(rd *resultDir, n int) string {
	if !rd.sweep {
		return ""
	}
	return fmt.Sprintf("\n(mean of %d runs)", n)
}

// folderLabels names each folder by its last path element, or by as many
// of its last elements as tell it from the others (out/a/incident and
// out/b/incident read a/incident and b/incident).
func folderLabels(paths []string) []string {
	parts := make([][]string, len(paths))
	for i, p := range paths {
		parts[i] = strings.Split(filepath.ToSlash(filepath.Clean(p)), "/")
	}
	suffix := func(i, n int) string { return strings.Join(parts[i][max(0, len(parts[i])-n):], "/") }
	labels := make([]string, len(paths))
	for i := range paths {
		for n := 1; n <= len(parts[i]); n++ {
			labels[i] = suffix(i, n)
			unique := true
			for j := range paths {
				unique = unique && (j == i || suffix(j, n) != labels[i])
			}
			if unique {
				break
			}
		}
	}
	return labels
}

func compareFigure(o plotOpts, rds []*resultDir) (*plots.Figure, error) {
	ylabel, lo, hi := metricAxis(o.metric)
	d := &plots.Lines{Title: metricName(o.metric) + " compared", XLabel: "training step", YLabel: ylabel, YMin: lo, YMax: hi}
	var paths []string
	for _, rd := range rds {
		paths = append(paths, rd.path)
	}
	labels := folderLabels(paths)
	for i, rd := range rds {
		if err := rd.checkMetrics(o.metric); err != nil {
			return nil, err
		}
		_, group, _ := rd.groupsBy("")
		st, err := rd.aggregateSteps([]string{o.metric}, 1, group, o.steps)
		if err != nil {
			return nil, err
		}
		label := labels[i]
		if rd.cfg.Name != "" && rd.cfg.Name != label {
			label += " (" + rd.cfg.Name + ")"
		}
		s, err := seriesOf(st, o.metric, 0, label)
		if err != nil {
			return nil, err
		}
		d.Series = append(d.Series, s)
	}
	// The update is marked when every folder has it at the same step.
	same := true
	for _, rd := range rds {
		same = same && rd.cfg.Train.UpdateStep == rds[0].cfg.Train.UpdateStep
	}
	if same {
		d.Markers = []plots.Marker{{X: float64(rds[0].cfg.Train.UpdateStep), Label: "update"}}
	}
	return d.Figure()
}

func heatmapFigure(o plotOpts, rd *resultDir, stderr io.Writer) (*plots.Figure, error) {
	if !rd.sweep {
		return nil, inputErrorf("%s is a run folder: a heatmap needs a sweep over at least two axes", rd.path)
	}
	if len(rd.axes) < 2 {
		return nil, inputErrorf("%s: a heatmap needs a sweep over at least two axes; this folder sweeps %d (%s)", rd.path, len(rd.axes), strings.Join(rd.axes, ", "))
	}
	if err := rd.checkMetrics(o.metric); err != nil {
		return nil, err
	}
	// By default the first two numeric axes (a sweep may also run over
	// modes such as train.weights).
	num := rd.numericAxes()
	for _, a := range num {
		if o.x == "" && a != o.y {
			o.x = a
		} else if o.y == "" && a != o.x {
			o.y = a
		}
	}
	if o.x == "" || o.y == "" {
		return nil, inputErrorf("%s: a heatmap needs two numeric swept axes; the numeric ones are: %s (of %s)", rd.path, strings.Join(num, ", "), strings.Join(rd.axes, ", "))
	}
	if o.x == o.y {
		return nil, inputErrorf("--x and --y are both %s", o.x)
	}
	xi, err := rd.axisIndex(o.x)
	if err != nil {
		return nil, err
	}
	yi, err := rd.axisIndex(o.y)
	if err != nil {
		return nil, err
	}
	params, means, err := rd.aggRows(o.metric)
	if err != nil {
		return nil, err
	}
	// Average the points' means over any other axes.
	type cell struct{ x, y float64 }
	sum, cnt := map[cell]float64{}, map[cell]int{}
	xs, ys := map[float64]bool{}, map[float64]bool{}
	for i, p := range params {
		x, errx := strconv.ParseFloat(p[xi], 64)
		y, erry := strconv.ParseFloat(p[yi], 64)
		if errx != nil || erry != nil {
			return nil, inputErrorf("a heatmap needs numeric axes; %s = %q, %s = %q", o.x, p[xi], o.y, p[yi])
		}
		c := cell{x, y}
		sum[c] += means[i]
		cnt[c]++
		xs[x], ys[y] = true, true
	}
	zlabel, _, _ := metricAxis(o.metric)
	d := &plots.Heatmap{Title: fmt.Sprintf("%s: final %s", folderName(rd), metricName(o.metric)), XLabel: keyName(o.x), YLabel: keyName(o.y), ZLabel: "final " + zlabel,
		X: sortedKeys(xs), Y: sortedKeys(ys), Level: o.level, Contour: true}
	if len(rd.axes) > 2 {
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
	if o.level == 0 {
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
		o.level = d.Level
	}
	d.Critical, d.CriticalLabel = criticalLine(rd.cfg, o, d.Y, stderr)
	return d.Figure()
}

// criticalLine returns the analytic critical line when both axes are
// signal weights and the metric is the sycophancy rate: for each y weight,
// the x weight at which pi* (under the mix of the last step, memory off)
// reaches the level.
func criticalLine(cfg *sim.Config, o plotOpts, ys []float64, stderr io.Writer) (plotter.XYs, string) {
	xsig, okx := signalWeightKey(cfg, o.x)
	ysig, oky := signalWeightKey(cfg, o.y)
	if !okx || !oky || o.metric != "sycophancy_rate" {
		return nil, ""
	}
	c := cfg.Clone()
	step := c.Train.Steps - 1
	var line plotter.XYs
	lo, hi := ys[0], ys[len(ys)-1]
	var lastErr error
	for i := 0; i <= 40; i++ {
		y := lo + (hi-lo)*float64(i)/40
		s := c.Signals[ysig]
		s.Weight = y
		c.Signals[ysig] = s
		w, err := sim.CriticalWeight(c, xsig, step, o.level)
		if err != nil {
			lastErr = err
			continue
		}
		line = append(line, plotter.XY{X: w, Y: y})
	}
	if len(line) < 2 {
		fmt.Fprintf(stderr, "rewardmix plot: no analytic critical line: %v\n", lastErr)
		return nil, ""
	}
	return line, fmt.Sprintf("analytic critical line, π* at %.3g (memory off)", o.level)
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

func sortedKeys(m map[float64]bool) []float64 {
	ks := make([]float64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Float64s(ks)
	return ks
}

// maxFigureSide bounds --width and --height (a PNG side of about 5900 pixels).
const maxFigureSide = 100 * vg.Centimeter
