package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rewardmix/rewardmix/sim/sweep"
)

const mergeSynopsis = `merge -o DIR <shard folder>...

Joins the shard folders of one sweep ('rewardmix sweep --shard i/n') into
one sweep folder, byte-identical in runs.csv, the steps table and agg.csv to the
same sweep run on one machine. Every shard 0..n-1 must be given once and be
complete. Shards of a boundary search merge into one boundary.csv. A merge
into a folder that another sweep or merge is writing stops at once (exit 2).`

func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("merge", mergeSynopsis)
	out := fs.String("o", "", "output folder (required)")
	force := fs.Bool("force", false, "replace a sweep folder already at -o")
	noPlots := fs.Bool("no-plots", false, "draw no figures (by default the standard set as PNGs in the folder)")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if *out == "" || len(pos) == 0 {
		return inputErrorf("want -o DIR and at least one shard folder (see 'rewardmix merge --help')")
	}
	if _, err := os.Stat(filepath.Join(pos[0], sweep.BoundarySpecFile)); err == nil {
		if err := sweep.MergeBoundary(*out, pos, *force); err != nil {
			return busyInput(err)
		}
		fmt.Fprintf(stdout, "merged %d shards of a boundary search -> %s\n", len(pos), filepath.Join(*out, sweep.BoundaryFile))
		return nil
	}
	sum, err := sweep.Merge(*out, pos, *force)
	if err != nil {
		return busyInput(err)
	}
	if !*noPlots {
		if err := drawSweepFigures(*out); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "merged %d shards, %d runs -> %s\n", len(pos), sum.Runs, *out)
	return nil
}

// busyInput makes a folder in use (sweep.ErrBusy) an input error (exit 2).
func busyInput(err error) error {
	if errors.Is(err, sweep.ErrBusy) {
		return &inputError{err}
	}
	return err
}
