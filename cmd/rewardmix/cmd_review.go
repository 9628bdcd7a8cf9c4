package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

const reviewSynopsis = `review [flags] <run folder>

Re-judges a finished run: re-runs the deterministic simulation from the
folder's config.toml (training is not changed by review settings), applies
the [review] and [deployment] tables of --gates if given, and prints the
review table, the launch decision and, after a launch, what the deployment
cost. Writes nothing.`

func runReview(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("review", reviewSynopsis)
	gates := fs.String("gates", "", "a TOML file with [review] and/or [deployment] tables to apply")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return inputErrorf("want one run folder, got %d arguments (see 'rewardmix review --help')", len(pos))
	}
	path := filepath.Join(pos[0], "config.toml")
	data, err := results.ReadConfig(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return inputErrorf("%s: no config.toml (is %s a folder written by 'rewardmix run'?)", path, pos[0])
		}
		return &inputError{err}
	}
	cfg, err := configs.Load(path, data, results.ReadRelative)
	if err != nil {
		return err
	}
	if *gates != "" {
		g, err := results.ReadConfig(*gates)
		if err != nil {
			return err
		}
		if cfg, err = configs.ApplyReview(cfg, *gates, g); err != nil {
			return err
		}
	}
	cfg.Review.Enabled = true
	if err := cfg.Validate(); err != nil {
		return err
	}
	res, err := sim.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: seed %d, candidate = step %d, incumbent = step %d\n",
		cfg.Name, cfg.Seed, cfg.Train.Steps, cfg.Train.UpdateStep-1)
	printReview(stdout, res)
	return nil
}

// printReview writes the review table, the decision and the deployment.
func printReview(w io.Writer, res *sim.Result) {
	r := res.Review
	fmt.Fprintf(w, "release review (rule %s)\n", r.Rule)
	line := func(format string, a ...any) {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf(format, a...), " "))
	}
	line("  %-22s %8s  %-17s %-5s %-8s  %s", "gate", "value", "threshold", "", "", "")
	for _, g := range r.Gates {
		res := "pass"
		if !g.Passed {
			res = "FAIL"
		}
		role := "advisory"
		if g.Blocking {
			role = "blocking"
		}
		val := fmt.Sprintf("%.3f", g.Value)
		thr := fmt.Sprintf("%s %.3f", g.Op, g.Threshold)
		note := g.Note
		switch g.Name {
		case "vibe_checks":
			val = fmt.Sprintf("%d/%d", r.VibeFlags, r.VibeChecks)
			thr = fmt.Sprintf("%s %d", g.Op, int(g.Threshold))
			note = "testers flagged it"
		case "ab_preference":
			note = fmt.Sprintf("%s at alpha %g, CI %.3f-%.3f", g.Note, r.AB.Alpha, r.AB.CILow, r.AB.CIHigh)
		case "ab_thumbs_delta":
			val = fmt.Sprintf("%+.3f", g.Value)
			note = fmt.Sprintf("%.3f vs %.3f", r.AB.ThumbsCand, r.AB.ThumbsInc)
		}
		line("  %-22s %8s  %-17s %-5s %-8s  %s", g.Name, val, thr, res, role, note)
	}
	fmt.Fprintf(w, "decision: %s\n", r.Decision)
	d := res.Deployment
	if d == nil {
		return
	}
	if d.HoursToDetection < 0 {
		fmt.Fprintf(w, "deployment: not detected within the horizon\n")
	} else {
		where := ""
		if d.CaughtInAlpha {
			where = " (in the alpha phase)"
		}
		fmt.Fprintf(w, "deployment: detected at %.1f h%s, mitigation at %s, rollback %.1f-%.1f h\n",
			d.HoursToDetection, where, hours(d.HoursToMitigation), d.HoursToRollback, d.HoursToRollbackDone)
	}
	var parts []string
	for _, s := range res.Summary.Segments {
		parts = append(parts, fmt.Sprintf("%s %s", s, count(d.Sycophantic[s])))
	}
	fmt.Fprintf(w, "sycophantic responses served: %s (total %s)\n", strings.Join(parts, ", "), count(d.SycophanticTotal))
	parts = parts[:0]
	for _, s := range res.Summary.Segments {
		parts = append(parts, fmt.Sprintf("%s %s", s, count(d.HarmWeighted[s])))
	}
	fmt.Fprintf(w, "harm-weighted (%s): %s (total %s)\n", strings.Join(d.HarmContexts, ", "),
		strings.Join(parts, ", "), count(d.HarmWeightedTotal))
}

func hours(h float64) string {
	if h < 0 {
		return "none"
	}
	return fmt.Sprintf("%.1f h", h)
}

// count formats a large count compactly.
func count(x float64) string {
	switch a := math.Abs(x); {
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.0fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}
