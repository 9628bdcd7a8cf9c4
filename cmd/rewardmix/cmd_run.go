package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

const runSynopsis = `run [flags] <preset | config.toml>

Trains the policy under the config's reward mix and writes into the output
folder: steps.csv (tidy: step,metric,value; steps.parquet with --format
parquet or [output] format = "parquet"), summary.json, config.toml (the
resolved config, which run accepts again), the figures drift.png,
segments.png, influence.png and frontier.png (unless --no-plots), and
rewardmix.sha256 (the checksums of what it wrote). An existing output folder
is replaced whole, and only if it holds nothing but files rewardmix wrote
there, unchanged since; the config being run may not be inside it. With
--seed N and no -o the folder is out/<name>-seedN, so that another seed's
results are never replaced.
With [review] enabled (the default), the summary ends with the release
review of the final policy against the one at update_step-1, the launch
decision and, after a launch, what the deployment cost.`

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", runSynopsis)
	out := fs.String("o", "", "output folder (default out/<preset or file name>, or out/<name>-seedN with --seed N)")
	seed := fs.Uint64("seed", 0, "override the config's seed")
	noPlots := fs.Bool("no-plots", false, "write no figures (by default drift, segments, influence and frontier PNGs)")
	format := fs.String("format", "", "the steps table's format: csv or parquet (sets [output] format; by default the config's, csv for a run)")
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
	if err := setFormat(&cfg.Output, *format); err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("out", name)
		if seedSet { // another seed's results are another folder's
			dir += fmt.Sprintf("-seed%d", *seed)
		}
	}
	if inside(pos[0], dir) {
		return inputErrorf("%s is inside the output folder %s, which a run replaces whole: choose another folder with -o", pos[0], dir)
	}
	// Refuse a foreign folder before the run, not after it; WriteRunDir
	// checks again.
	if err := results.CheckRunDir(filepath.Clean(dir)); err != nil {
		return err
	}
	res, err := sim.Run(ctx, cfg)
	if err != nil {
		return err
	}
	files, err := results.RunFiles(res)
	if err != nil {
		return err
	}
	if !*noPlots {
		if err := runFigures(files, res); err != nil {
			return err
		}
	}
	if err := results.WriteRunDir(dir, files); err != nil {
		return err
	}
	printSummary(stdout, cfg, res)
	names := []string{results.RunManifestFile}
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	fmt.Fprintf(stdout, "\nwrote %s/{%s}\n", dir, strings.Join(names, ","))
	return nil
}

// inside reports whether file (if it is one) lies within folder dir.
func inside(file, dir string) bool {
	if fi, err := os.Stat(file); err != nil || fi.IsDir() {
		return false // a preset name
	}
	f, err1 := filepath.Abs(file)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	if rd, err := filepath.EvalSymlinks(d); err == nil {
		d = rd
	}
	if rf, err := filepath.EvalSymlinks(f); err == nil {
		f = rf
	}
	rel, err := filepath.Rel(d, f)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// runFigures adds a run folder's figures to its files as PNGs: the run's
// drift panels, and the rest of the standard set.
func runFigures(files map[string][]byte, res *sim.Result) error {
	src := results.FromResult(res)
	drift, err := plots.RunDrift(src)
	if err != nil {
		return err
	}
	kinds, figs, err := plots.StandardSet(src, plots.Options{}, plots.KindDrift)
	if err != nil {
		return err
	}
	kinds, figs = append(kinds, plots.KindDrift), append(figs, drift)
	for i, k := range kinds {
		if files[string(k)+".png"], err = render(figs[i], "png", 0, 0); err != nil {
			return err
		}
	}
	return nil
}

// render draws a figure in a format at a size (zero: the figure's own).
func render(fig *plots.Figure, format string, w, h vg.Length) ([]byte, error) {
	var b bytes.Buffer
	if err := plots.Render(&b, fig, format, w, h); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// printSummary writes the terminal summary of a run.
func printSummary(w io.Writer, cfg *sim.Config, res *sim.Result) {
	s := &res.Summary
	change := "the mix does not change there"
	if slices.Contains(cfg.MixChanges(), s.UpdateStep) {
		change = "the mix changes there"
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
