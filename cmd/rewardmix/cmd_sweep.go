package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
	"github.com/rewardmix/rewardmix/sim/sweep"
)

const sweepSynopsis = `sweep [flags] <sweep.toml>

Runs every run of a sweep (a config with a [sweep] table) on --workers
goroutines and writes into the output folder: manifest.json, sweep.toml
(the resolved sweep), runs.log (a crash-safe record of finished runs), and
when all are done runs.csv, agg.csv and the steps table: steps.parquet (by
default), or steps.csv with --format csv or [output] format = "csv". While
it runs, the steps table grows as parts in steps.parts/, which a crash
keeps; each run's series is stored once. Outputs do not depend on
--workers, on sharding, or on interruptions followed by --resume.

With --shard i/n (0 <= i < n; by default from SLURM_ARRAY_TASK_ID and
SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX and JOB_COMPLETIONS) it runs
runs i, i+n, i+2n, ... into DIR-shard-i; 'rewardmix merge' joins the shards.

One sweep at a time writes a folder: a sweep, merge or boundary search
into a folder that another one is writing stops at once, even with
--resume or --force. --resume cuts a damaged or torn runs.log back to its
last valid record and says so on stderr; the runs cut off are run again.
Exit status: 0 all runs ok, 1 some runs failed or were interrupted, 2 bad
input (or the folder is in use).`

func runSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep", sweepSynopsis)
	out := fs.String("o", "", "output folder (default out/<file name>; with a shard, the folder gets -shard-i)")
	workers := fs.Int("workers", runtime.NumCPU(), "runs at a time")
	resume := fs.Bool("resume", false, "continue an interrupted sweep in the output folder; finished runs are not redone")
	force := fs.Bool("force", false, "discard what the output folder holds and start over")
	shardFlag := fs.String("shard", "", "run one shard i/n of the sweep (0 <= i < n)")
	dryRun := fs.Bool("dry-run", false, "list the runs and run nothing")
	maxRuns := fs.Int("max-runs", configs.DefaultMaxRuns, "refuse sweeps with more runs")
	failFast := fs.Bool("fail-fast", false, "stop at the first failed run")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	noPlots := fs.Bool("no-plots", false, "draw no figures (by default the standard set as PNGs in the folder)")
	format := fs.String("format", "", "the steps table's format: csv or parquet (sets [output] format, and so the sweep's hash: give every shard the same)")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return inputErrorf("want one sweep file, got %d arguments (see 'rewardmix sweep --help')", len(pos))
	}
	if os.Getenv("GOGC") == "" {
		// A sweep's live heap is small and bounded (tens of MB: the runs
		// in flight, a part's pages), and each run leaves a few hundred KB
		// of garbage: collecting at twice the live heap rather than at
		// once collects a third as often (the 200-run incident sweep: 6
		// collections, not 16) for about 10 MB more resident, 2-3% less
		// CPU. GOGC, if set, decides instead.
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	if *workers < 1 || *workers > 1024 {
		return inputErrorf("--workers %d: want 1 to 1024", *workers)
	}
	if *maxRuns < 1 {
		return inputErrorf("--max-runs %d: want at least 1", *maxRuns)
	}
	// The shard: --shard, else a Slurm or Kubernetes job array's.
	sh, sharded := sweep.Shard{Index: 0, Count: 1}, *shardFlag != ""
	if sharded {
		sh, err = sweep.ParseShard(*shardFlag)
	} else {
		sh, sharded, err = sweep.ShardFromEnv(os.Getenv)
	}
	if err != nil {
		return &inputError{err}
	}
	s, err := loadSweep(pos[0], *maxRuns)
	if err != nil {
		return err
	}
	if err := setFormat(&s.Base.Output, *format); err != nil {
		return err
	}
	if s.Mode == configs.ModeBoundary {
		dir := *out
		if dir == "" {
			dir = filepath.Join("out", stem(pos[0]))
		}
		if sharded {
			dir = fmt.Sprintf("%s-shard-%d", filepath.Clean(dir), sh.Index)
		}
		if *dryRun {
			return boundaryDryRun(stdout, pos[0], s, sh)
		}
		opt := sweep.Options{Workers: *workers, Shard: sh, Resume: *resume, Force: *force, FailFast: *failFast,
			Progress: func(p sweep.Progress) { reportRepair(stderr, p.Repair, *quiet) }}
		return runBoundary(ctx, stdout, pos[0], s, dir, opt, *noPlots)
	}
	indices := sh.Indices(s.Len())
	if *dryRun {
		fmt.Fprintf(stdout, "%s: %d runs (%d points x %d seeds, mode %s); shard %d/%d holds %d\n",
			pos[0], s.Len(), s.Points(), len(s.Seeds), s.Mode, sh.Index, sh.Count, len(indices))
		keys := make([]string, len(s.Axes))
		for i, ax := range s.Axes {
			keys[i] = ax.Key
		}
		fmt.Fprintf(stdout, "run_id\tseed\t%s\n", strings.Join(keys, "\t"))
		for _, i := range indices {
			r := s.Run(i)
			params := make([]string, len(r.Params))
			for k, p := range r.Params {
				params[k] = configs.FormatParam(p)
			}
			fmt.Fprintf(stdout, "%s\t%d\t%s\n", r.ID, r.Seed, strings.Join(params, "\t"))
		}
		return nil
	}
	if *out == "" {
		*out = filepath.Join("out", stem(pos[0]))
	}
	dir := *out
	if sharded { // even 0/1, so that 'merge DIR-shard-*' finds every task's folder
		dir = fmt.Sprintf("%s-shard-%d", filepath.Clean(dir), sh.Index)
	}
	var prog *progress
	sum, err := sweep.Run(ctx, s, dir, sweep.Options{
		Workers: *workers, Shard: sh, Resume: *resume, Force: *force, FailFast: *failFast,
		Progress: func(p sweep.Progress) {
			switch {
			case prog == nil:
				reportRepair(stderr, p.Repair, *quiet)
				prog = newProgress(stderr, p.Total, p.Done, *quiet)
			case p.Run.Status != "ok":
				prog.note(fmt.Sprintf("run %s (%s) failed: %s", p.Run.ID, s.Describe(s.Run(p.Run.Index)), p.Run.Error))
				prog.step()
			default:
				prog.step()
			}
		},
	})
	if prog != nil {
		prog.finish()
	}
	switch {
	case errors.Is(err, sweep.ErrBusy):
		return &inputError{err}
	case errors.Is(err, sweep.ErrFailFast):
		return fmt.Errorf("stopped at the first failed run (--fail-fast); %s holds the runs finished before the last part of the steps table closed; continue with --resume", dir)
	case errors.Is(err, sweep.ErrInterrupted):
		shardArg := ""
		if sharded {
			shardArg = fmt.Sprintf(" --shard %d/%d", sh.Index, sh.Count)
		}
		return fmt.Errorf("%w; continue with: rewardmix sweep %s -o %s%s --resume", err, pos[0], *out, shardArg)
	case err != nil:
		return err
	}
	if !*noPlots {
		if err := drawSweepFigures(dir); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s: %d runs (%d this time, %d failed) -> %s/{runs.csv,%s,agg.csv,manifest.json}\n",
		pos[0], sum.Runs, sum.Ran, sum.Failed, dir, results.StepsFileName(s.Base.Output.Format.Resolve(true)))
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d runs failed; see the status and error columns of %s", sum.Failed, sum.Runs, filepath.Join(dir, results.RunsFile))
	}
	return nil
}

// runBoundary runs a boundary search and prints its table.
func runBoundary(ctx context.Context, stdout io.Writer, file string, s *configs.Sweep, dir string, opt sweep.Options, noPlots bool) error {
	rows, err := sweep.Boundary(ctx, s, dir, opt)
	switch {
	case errors.Is(err, sweep.ErrBusy):
		return &inputError{err}
	case errors.Is(err, sweep.ErrInterrupted):
		return fmt.Errorf("%w; continue with: rewardmix sweep %s -o %s --resume", err, file, dir)
	case err != nil:
		return err
	}
	key := s.Axes[s.Search].Key
	runs, found := 0, 0
	for _, r := range rows {
		runs += r.Runs
		if r.Status == "ok" {
			found++
			fmt.Fprintf(stdout, "%s: %s crosses %s at %s = %.4g [%.4g, %.4g] (%d runs)\n", strings.Join(r.Params, ", "), s.Metric, results.FormatValue(s.Level), key, r.Crossing, r.Low, r.High, r.Runs)
		} else {
			fmt.Fprintf(stdout, "%s: %s (%d runs)\n", strings.Join(r.Params, ", "), r.Status, r.Runs)
		}
	}
	if !noPlots && len(s.Axes) >= 2 {
		if err := drawBoundary(s, rows, filepath.Join(dir, "boundary.png")); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s: %d of %d points crossed, %d runs -> %s/%s\n", file, found, len(rows), runs, dir, sweep.BoundaryFile)
	return nil
}

// reportRepair prints on stderr what resuming cut off a run log, if
// anything: damage always, as a warning; the torn last record a crash
// leaves, the normal case, as a note that --quiet silences.
func reportRepair(stderr io.Writer, r *sweep.LogRepair, quiet bool) {
	switch {
	case r == nil, r.Torn && quiet:
	case r.Torn:
		fmt.Fprintln(stderr, "note: "+r.String())
	default:
		fmt.Fprintln(stderr, "warning: "+r.String())
	}
}

// boundaryDryRun lists a boundary search's points and bracket.
func boundaryDryRun(stdout io.Writer, file string, s *configs.Sweep, sh sweep.Shard) error {
	ax := s.Axes[s.Search]
	steps := int(math.Ceil(math.Log2((ax.Hi - ax.Lo) / s.Tolerance)))
	pts := sh.Indices(s.Points())
	fmt.Fprintf(stdout, "%s: boundary search of %s = %s along %s in [%s, %s] to %s: %d points x at most %d probes x %d seeds = at most %d runs; shard %d/%d holds %d points\n",
		file, s.Metric, results.FormatValue(s.Level), ax.Key, results.FormatValue(ax.Lo), results.FormatValue(ax.Hi), results.FormatValue(s.Tolerance),
		s.Points(), 2+steps, len(s.Seeds), s.Points()*(2+steps)*len(s.Seeds), sh.Index, sh.Count, len(pts))
	for _, p := range pts {
		var parts []string
		for i, v := range s.SearchPoint(p) {
			if i != s.Search {
				parts = append(parts, s.Axes[i].Key+"="+configs.FormatParam(v))
			}
		}
		fmt.Fprintf(stdout, "point %d\t%s\n", p, strings.Join(parts, "\t"))
	}
	return nil
}

// drawBoundary draws a boundary search's crossings against its first other
// axis.
func drawBoundary(s *configs.Sweep, rows []sweep.BoundaryRow, path string) error {
	other := 0
	if other == s.Search {
		other = 1
	}
	d := &plots.Boundary{Title: fmt.Sprintf("%s: where %s crosses %s", s.Base.Name, s.Metric, results.FormatValue(s.Level)),
		XKey: s.Axes[s.Search].Key, YKey: s.Axes[other].Key, Metric: s.Metric, Level: s.Level, Config: s.Base}
	col := other
	if other > s.Search {
		col-- // Params leave the search axis out
	}
	for _, r := range rows {
		y, err := strconv.ParseFloat(r.Params[col], 64)
		if err != nil {
			return nil // not a numeric axis: no figure
		}
		d.Y, d.X, d.XLow, d.XHigh = append(d.Y, y), append(d.X, r.Crossing), append(d.XLow, r.Low), append(d.XHigh, r.High)
	}
	fig, err := d.Figure()
	if err != nil {
		return err
	}
	data, err := render(fig, "png", 0, 0)
	if err != nil {
		return err
	}
	return results.WriteFile(path, data)
}

func loadSweep(path string, maxRuns int) (*configs.Sweep, error) {
	data, err := results.ReadConfig(path) // a regular .toml file, read with a bound
	if err != nil {
		return nil, err // a *configs.Error naming the file: exit 2
	}
	return configs.LoadSweep(path, data, results.ReadRelative, maxRuns)
}

// drawSweepFigures draws a finished sweep folder's standard set into it as
// PNGs, each file written atomically. A sweep whose runs all failed has
// nothing to draw and gets no figures.
func drawSweepFigures(dir string) error {
	src, err := results.Open(dir)
	if err != nil {
		return err
	}
	anyOK := false
	for _, r := range src.Runs() {
		anyOK = anyOK || r.OK
	}
	if !anyOK {
		return nil
	}
	kinds, figs, err := plots.StandardSet(src, plots.Options{})
	if err != nil {
		return err
	}
	for i, k := range kinds {
		data, err := render(figs[i], "png", 0, 0)
		if err != nil {
			return err
		}
		if err := results.WriteFile(filepath.Join(dir, string(k)+".png"), data); err != nil {
			return err
		}
	}
	return nil
}

// setFormat sets an [output] table's format from a --format flag (none if
// flag is empty).
func setFormat(o *sim.Output, flag string) error {
	if flag == "" {
		return nil
	}
	f := sim.Format(flag)
	if err := sim.OneOf("--format", f, sim.Formats); err != nil {
		return inputErrorf("%v", err)
	}
	o.Format = f
	return nil
}
