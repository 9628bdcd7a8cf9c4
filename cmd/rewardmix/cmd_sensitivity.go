package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/sim/results"
	"github.com/rewardmix/rewardmix/sim/sensitivity"
)

const sensitivitySynopsis = `sensitivity [flags] DIR

Computes Sobol sensitivity indices from a finished sweep folder of mode
"sobol": for each swept parameter and each metric, the first-order index S1
(the share of the final metric's variance the parameter explains alone) and
the total-order index ST (with all its interactions), each with a 95%
bootstrap interval. Each parameter point's value is its mean over the
sweep's seeds (agg.csv). Writes DIR/sensitivity.csv (parameter, metric, S1,
S1_low, S1_high, ST, ST_low, ST_high) and a figure (bars with intervals,
parameters sorted by ST; DIR/sensitivity.png unless -o names another file,
whose extension picks PNG, SVG or PDF), and prints the table. The design's
A and B points sample the parameters' ranges evenly and independently, so
the metric's spread over them is its uncertainty when the ranges are what
the parameters could plausibly be: DIR/uncertainty.csv (metric, n, mean,
median, q05, q95) has it.`

// metricList is a repeatable --metric flag.
type metricList []string

func (m *metricList) String() string     { return strings.Join(*m, ",") }
func (m *metricList) Set(v string) error { *m = append(*m, v); return nil }

func runSensitivity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sensitivity", sensitivitySynopsis)
	var metrics metricList
	fs.Var(&metrics, "metric", "a final metric to analyse; repeat for several (default sycophancy_rate)")
	resamples := fs.Int("resamples", 1000, "bootstrap resamples for the intervals")
	out := fs.String("o", "", "figure file, .png, .svg or .pdf (default DIR/sensitivity.png)")
	noPlots := fs.Bool("no-plots", false, "write no figure")
	rest, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return inputErrorf("want one sweep folder (see 'rewardmix sensitivity --help')")
	}
	if *resamples < 0 || *resamples > 100000 {
		return inputErrorf("--resamples %d: want 0 to 100000", *resamples)
	}
	if len(metrics) == 0 {
		metrics = metricList{"sycophancy_rate"}
	}
	dir := rest[0]
	figPath := *out
	if figPath == "" {
		figPath = filepath.Join(dir, "sensitivity.png")
	}
	format, ok := plots.FormatOf(figPath)
	if !ok && !*noPlots {
		return inputErrorf("%s: unknown figure format %q (use .png, .svg or .pdf)", figPath, filepath.Ext(figPath))
	}
	src, err := results.Open(dir)
	if err != nil {
		return err
	}
	s := src.Definition()
	if s == nil || s.Mode != configs.ModeSobol {
		return inputErrorf("%s is not a sweep of mode \"sobol\": Sobol indices need its Saltelli design (see README, \"Which assumptions matter\")", dir)
	}
	if err := results.CheckMetrics(src, metrics...); err != nil {
		return err
	}
	var params []string
	for _, ax := range s.Axes {
		params = append(params, ax.Key)
	}
	var csv, unc strings.Builder
	csv.WriteString("parameter,metric,S1,S1_low,S1_high,ST,ST_low,ST_high\n")
	unc.WriteString("metric,n,mean,median,q05,q95\n")
	var figs []*plots.Figure
	for _, m := range metrics {
		des, err := design(src, s, m)
		if err != nil {
			return err
		}
		idx, err := sensitivity.Indices(des, *resamples, s.Seed)
		if err != nil {
			return results.Errorf("%s: %s: %v", dir, m, err)
		}
		sp := sensitivity.SpreadOf(des)
		f := results.FormatValue
		fmt.Fprintf(&unc, "%s,%d,%s,%s,%s,%s\n", m, sp.N, f(sp.Mean), f(sp.Median), f(sp.Q05), f(sp.Q95))
		fmt.Fprintf(stdout, "%s over the %d sampled points: median %.3f, 90%% interval [%.3f, %.3f]\n", m, sp.N, sp.Median, sp.Q05, sp.Q95)
		d := &plots.Sensitivity{Title: fmt.Sprintf("%s: what drives the final %s (N = %d)", src.Label(), m, s.Samples), Params: params}
		fmt.Fprintf(stdout, "%s (N = %d base samples, %d runs)\n%-32s %8s %18s %8s %18s\n", m, s.Samples, len(src.Runs()), "parameter", "S1", "95% interval", "ST", "95% interval")
		for i, ix := range idx {
			fmt.Fprintf(&csv, "%s,%s,%s,%s,%s,%s,%s,%s\n", params[i], m, f(ix.S1), f(ix.S1Low), f(ix.S1High), f(ix.ST), f(ix.STLow), f(ix.STHigh))
			fmt.Fprintf(stdout, "%-32s %8.3f  [%6.3f, %6.3f] %8.3f  [%6.3f, %6.3f]\n", params[i], ix.S1, ix.S1Low, ix.S1High, ix.ST, ix.STLow, ix.STHigh)
			d.S1, d.S1Low, d.S1High = append(d.S1, ix.S1), append(d.S1Low, ix.S1Low), append(d.S1High, ix.S1High)
			d.ST, d.STLow, d.STHigh = append(d.ST, ix.ST), append(d.STLow, ix.STLow), append(d.STHigh, ix.STHigh)
		}
		fig, err := d.Figure()
		if err != nil {
			return err
		}
		figs = append(figs, fig)
	}
	var figData []byte
	if !*noPlots {
		fig := figs[0]
		for _, f := range figs[1:] { // one row per metric, one key
			fig.Rows = append(fig.Rows, f.Rows...)
		}
		fig.Height *= vg.Length(len(figs))
		if figData, err = render(fig, format, 0, 0); err != nil {
			return err
		}
	}
	csvPath, uncPath := filepath.Join(dir, "sensitivity.csv"), filepath.Join(dir, "uncertainty.csv")
	if err := results.WriteFile(csvPath, []byte(csv.String())); err != nil {
		return err
	}
	if err := results.WriteFile(uncPath, []byte(unc.String())); err != nil {
		return err
	}
	wrote := csvPath + ", " + uncPath
	if figData != nil {
		if err := results.WriteFile(figPath, figData); err != nil {
			return err
		}
		wrote += ", " + figPath
	}
	fmt.Fprintf(stdout, "wrote %s\n", wrote)
	return nil
}

// design collects a Sobol sweep's outputs for metric into its Saltelli
// design: each parameter point's mean over the seeds (agg.csv), put by
// the point's block and role. A point whose every run failed is NaN.
func design(src *results.Folder, s *configs.Sweep, metric string) (sensitivity.Design, error) {
	mean, err := results.PointMeans(src, metric)
	if err != nil {
		return sensitivity.Design{}, err
	}
	des := sensitivity.NewDesign(s.Samples, len(s.Axes))
	for p := 0; p < s.Points(); p++ {
		if v, ok := mean(s.Run(p * len(s.Seeds)).Params); ok { // else NaN: every run of the point failed
			j, role := s.SobolBlock(p)
			des.Set(j, role, v)
		}
	}
	return des, nil
}
