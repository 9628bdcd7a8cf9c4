package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/sim/results"
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
             al. fit R = d(a - b ln d) to gold: a run's curve over its last
             stretch with a fixed reward; a sweep's runs as points, a colour
             and a fit per value of --by (default the first swept key that
             changes the reward, not the training)
  compare    one metric from several folders overlaid`

func runPlot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", plotSynopsis)
	out := fs.String("o", "", "output file (with --kind) or folder (default DIR-plots)")
	kindNames := make([]string, len(plots.Kinds))
	for i, k := range plots.Kinds {
		kindNames[i] = string(k)
	}
	kindFlag := fs.String("kind", "", "one figure: "+strings.Join(kindNames, ", ")+" (default: the standard set)")
	metric := fs.String("metric", "", "metric for drift, heatmap and compare (default sycophancy_rate)")
	by := fs.String("by", "", "drift, frontier: one line (a colour) per value of this swept key")
	xKey := fs.String("x", "", "heatmap: swept key on the x axis (default the first axis)")
	yKey := fs.String("y", "", "heatmap: swept key on the y axis (default the second axis)")
	level := fs.Float64("level", 0, "heatmap: level of the simulated contour and the analytic critical line\n(default 0.5, or midway between the map's extremes when 0.5 is outside them)")
	width := fs.String("width", "", "figure width, e.g. 16cm or 6.5in (default per figure)")
	height := fs.String("height", "", "figure height, e.g. 10cm or 4in (default per figure)")
	title := fs.String("title", "", "figure title (default per figure)")
	stepsFlag := fs.String("step-range", "", "only steps a:b (inclusive; either end may be left out)")
	dirs, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	o := plots.Options{Metric: *metric, By: *by, X: *xKey, Y: *yKey, Title: *title, Level: *level}
	steps, err := results.ParseStepRange(*stepsFlag)
	if err != nil {
		return inputErrorf("--step-range %v", err)
	}
	o.Steps = &steps
	w, err := parseLength("width", *width)
	if err != nil {
		return err
	}
	h, err := parseLength("height", *height)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return inputErrorf("want at least one run or sweep folder (see 'rewardmix plot --help')")
	}
	kind := plots.Kind(*kindFlag)
	if kind != "" && !slices.Contains(plots.Kinds, kind) {
		return inputErrorf("unknown --kind %q (kinds: %s)", kind, strings.Join(kindNames, ", "))
	}
	if len(dirs) > 1 && kind != plots.KindCompare {
		return inputErrorf("%d folders given: only --kind compare takes more than one", len(dirs))
	}
	outDefault := filepath.Clean(dirs[0]) + "-plots"
	var srcs []results.Source
	for _, d := range dirs {
		src, err := results.Open(d)
		if err != nil {
			return err
		}
		srcs = append(srcs, src)
	}
	if kind != "" {
		path := *out
		if path == "" {
			path = filepath.Join(outDefault, string(kind)+".png")
		}
		format, ok := plots.FormatOf(path)
		if !ok {
			return inputErrorf("%s: unknown figure format %q (use .png, .svg or .pdf)", path, filepath.Ext(path))
		}
		fig, err := plots.Build(kind, o, srcs...)
		if err != nil {
			return err
		}
		printNotes(stderr, fig)
		data, err := render(fig, format, w, h)
		if err != nil {
			return err
		}
		if err := results.WriteFile(path, data); err != nil {
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
	if _, ok := plots.FormatOf(dir); ok {
		return inputErrorf("-o %s names a file, but the standard set is several figures: give a folder, or one --kind", dir)
	}
	kinds, figs, err := plots.StandardSet(srcs[0], o)
	if err != nil {
		return err
	}
	files := make([][]byte, len(figs))
	names := make([]string, len(figs))
	for i, fig := range figs {
		printNotes(stderr, fig)
		if files[i], err = render(fig, "png", w, h); err != nil {
			return err
		}
		names[i] = string(kinds[i]) + ".png"
	}
	for i, n := range names {
		if err := results.WriteFile(filepath.Join(dir, n), files[i]); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %s/{%s}\n", dir, strings.Join(names, ","))
	return nil
}

// printNotes passes on what a figure could not show.
func printNotes(stderr io.Writer, fig *plots.Figure) {
	for _, n := range fig.Notes {
		fmt.Fprintf(stderr, "rewardmix plot: %s\n", n)
	}
}

// maxFigureSide bounds --width and --height (a PNG side of about 5900 pixels).
const maxFigureSide = 100 * vg.Centimeter

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
