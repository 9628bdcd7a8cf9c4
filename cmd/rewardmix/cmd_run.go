package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/sim"
)

const runSynopsis = `run [flags] <preset | config.toml>

Trains the policy under the config's reward mix and writes into the output
folder: steps.csv (tidy: step,metric,value), summary.json, config.toml (the
resolved config, which run accepts again) and drift.png. An existing output
folder is replaced whole, and only if it holds nothing but such files.
With [review] enabled (the default), the summary ends with the release
review of the final policy against the one at update_step-1, the launch
decision and, after a launch, what the deployment cost.`

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", runSynopsis)
	out := fs.String("o", "", "output folder (default out/<preset or file name>)")
	seed := fs.Uint64("seed", 0, "override the config's seed")
	noPlots := fs.Bool("no-plots", false, "write no figures (by default drift, segments, influence and frontier PNGs)")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	if len(pos) != 1 {
		return inputErrorf("want one preset name or config file, got %d arguments (see 'rewardmix run --help')", len(pos))
	}
	cfg, name, err := loadConfig(pos[0])
	if err != nil {
		return err
	}
	if seedSet && *seed > math.MaxInt64 {
		// config.toml records the seed, and a TOML integer is an int64.
		return inputErrorf("--seed %d: want at most %d", *seed, int64(math.MaxInt64))
	}
	if seedSet {
		cfg.Seed = *seed
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("out", name)
	}
	// Refuse a foreign folder before the run, not after it; writeDirAtomic
	// checks again.
	if err := checkOutDir(filepath.Clean(dir)); err != nil {
		return err
	}
	res, err := sim.Run(ctx, cfg)
	if err != nil {
		return err
	}
	files, err := runFiles(cfg, res, !*noPlots)
	if err != nil {
		return err
	}
	var figures func(tmp string) (map[string][]byte, error)
	var extra []string
	if !*noPlots {
		// The rest of the standard set, drawn from the files just written.
		figures = func(tmp string) (map[string][]byte, error) {
			rd, err := openResults(tmp)
			if err != nil {
				return nil, err
			}
			rd.label = cfg.Name // as drift.png: the same config draws the same bytes wherever it is written
			o := plotOpts{steps: allSteps}
			names, figs, err := standardFigures(o, rd, io.Discard, map[string]bool{"drift": true})
			extra = names
			return figs, err
		}
	}
	if err := writeDirAtomic(dir, files, figures); err != nil {
		return err
	}
	printSummary(stdout, cfg, res)
	names := append([]string(nil), extra...)
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(stdout, "\nwrote %s/{%s}\n", dir, strings.Join(names, ","))
	return nil
}

// runFiles renders the data files of a run folder, and drift.png when
// figures are wanted (the rest of the standard set is drawn from the files).
func runFiles(cfg *sim.Config, res *sim.Result, figures bool) (map[string][]byte, error) {
	summary, err := marshalJSON(summaryFile{res.Summary, res.Review, res.Deployment})
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"steps.csv":    stepsCSV(res),
		"summary.json": summary,
		"config.toml":  configs.Encode(cfg),
	}
	if figures {
		fig, err := driftPanels(cfg, res).Figure()
		if err != nil {
			return nil, err
		}
		if files["drift.png"], err = renderFigure(fig, "drift.png", 0, 0); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// summaryFile is the content of summary.json: the metrics summary, the
// release review and the deployment (each absent when it did not happen).
type summaryFile struct {
	sim.Summary
	Review     *sim.Review     `json:"review,omitempty"`
	Deployment *sim.Deployment `json:"deployment,omitempty"`
}

// mixChanges returns the steps at which a signal starts or stops, or memory
// starts.
func mixChanges(cfg *sim.Config) []int {
	seen := map[int]bool{}
	var steps []int
	memStart := 0
	if cfg.Memory.Enabled {
		memStart = cfg.Memory.StartStep
	}
	for _, s := range cfg.Signals {
		for _, t := range []int{s.StartStep, s.EndStep, memStart} {
			if t > 0 && t <= cfg.Train.Steps && !seen[t] {
				seen[t] = true
				steps = append(steps, t)
			}
		}
	}
	sort.Ints(steps)
	return steps
}

// driftPanels lays out the run's drift figure: sycophancy overall and per
// segment, gold utility, and the primary signal's influence.
func driftPanels(cfg *sim.Config, res *sim.Result) *plots.Panels {
	x := make([]float64, len(res.Values))
	for t := range x {
		x[t] = float64(t)
	}
	syc := plots.Panel{YLabel: "sycophancy rate", YMin: 0, YMax: 0.5,
		Lines: []plots.Line{{Label: "all users", Y: res.Series("sycophancy_rate"), Emphasis: true}}}
	for _, s := range res.Summary.Segments {
		syc.Lines = append(syc.Lines, plots.Line{Label: s, Y: res.Series("sycophancy_rate/" + s)})
	}
	gold := plots.Panel{YLabel: "gold utility\n(not trained on)", Lines: []plots.Line{
		{Label: "gold utility (not trained on)", Y: res.Series("gold_utility")}}}
	infl := plots.Panel{YLabel: cfg.Primary + " (primary)\nshare of update", YMin: 0, YMax: 1, Lines: []plots.Line{
		{Label: cfg.Primary + " (primary)", Y: res.Series("influence/" + cfg.Primary)}}}
	return &plots.Panels{
		Title:   fmt.Sprintf("%s: drift over training (seed %d)", cfg.Name, cfg.Seed),
		XLabel:  "training step",
		X:       x,
		Panels:  []plots.Panel{syc, gold, infl},
		Markers: markers(cfg),
	}
}

// printSummary writes the terminal summary of a run.
func printSummary(w io.Writer, cfg *sim.Config, res *sim.Result) {
	s := &res.Summary
	change := "the mix does not change there"
	for _, t := range mixChanges(cfg) {
		if t == s.UpdateStep {
			change = "the mix changes there"
		}
	}
	fmt.Fprintf(w, "%s: %s, %d steps, seed %d; update step %d (%s)\n", s.Name, s.Algorithm, s.Steps, s.Seed, s.UpdateStep, change)
	fmt.Fprintf(w, "%-34s %10s %10s %10s\n", "", fmt.Sprintf("step %d", s.BeforeStep), fmt.Sprintf("step %d", s.UpdateStep), fmt.Sprintf("step %d", s.AfterStep))
	row := func(label, metric string, three bool) {
		mid := ""
		if three {
			mid = fmt.Sprintf("%.3f", s.AtUpdate[metric])
		}
		fmt.Fprintf(w, "%-34s %10.3f %10s %10.3f\n", label, s.Before[metric], mid, s.After[metric])
	}
	row("influence of "+s.Primary+" (primary), share", "influence/"+s.Primary, true)
	row("effective weight of "+s.Primary, "weight/"+s.Primary, true)
	row("sycophancy rate, all users", "sycophancy_rate", false)
	for _, seg := range s.Segments {
		row("  "+seg, "sycophancy_rate/"+seg, false)
	}
	row("thumbs-up rate", "thumbs_up_rate", false)
	row("offline correctness eval", "eval/offline_correctness", false)
	row("gold utility (not trained on)", "gold_utility", false)
	row("KL to reference", "kl", false)
	b, a := s.Before["sycophancy_rate"], s.After["sycophancy_rate"]
	if b > 0 {
		fmt.Fprintf(w, "sycophancy changed %+.3f (x%.1f) while the thumbs-up rate changed %+.3f.\n",
			a-b, a/b, s.After["thumbs_up_rate"]-s.Before["thumbs_up_rate"])
	}
	if res.Review != nil {
		fmt.Fprintln(w)
		printReview(w, res)
	}
}
