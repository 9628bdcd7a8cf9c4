package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rewardmix/rewardmix/configs"
)

const mergeSynopsis = `merge -o DIR <shard folder>...

Joins the shard folders of one sweep ('rewardmix sweep --shard i/n') into
one sweep folder, byte-identical in runs.csv, steps.csv and agg.csv to the
same sweep run on one machine. Every shard 0..n-1 must be given once and be
complete.`

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
	// Read and check the shards' manifests.
	shards := make([]string, 0, len(pos))
	var first *manifest
	byIndex := map[int]string{}
	outInfo, outErr := os.Stat(*out)
	for _, dir := range pos {
		m, err := readManifest(dir)
		if err != nil {
			return inputErrorf("%s is not a sweep folder: %v", dir, err)
		}
		// --force would clear the shard before reading it.
		if fi, err := os.Stat(dir); outErr == nil && err == nil && os.SameFile(fi, outInfo) {
			return inputErrorf("-o %s is one of the shards; merge into another folder", *out)
		}
		if first == nil {
			first = m
		}
		switch {
		case m.SweepHash != first.SweepHash:
			return inputErrorf("%s holds a different sweep than %s (hash %.12s vs %.12s)", dir, pos[0], m.SweepHash, first.SweepHash)
		case m.Shard.Count != first.Shard.Count:
			return inputErrorf("%s is shard %d/%d but %s is shard %d/%d", dir, m.Shard.Index, m.Shard.Count, pos[0], first.Shard.Index, first.Shard.Count)
		}
		if prev, dup := byIndex[m.Shard.Index]; dup {
			return inputErrorf("%s and %s are both shard %d/%d", prev, dir, m.Shard.Index, m.Shard.Count)
		}
		byIndex[m.Shard.Index] = dir
		n := 0
		if _, err := scanLog(filepath.Join(dir, runLogName), func(*logRecord) error { n++; return nil }); err != nil {
			return err
		}
		if n != m.Shard.Runs {
			return inputErrorf("%s is incomplete: %d of its %d runs are done; finish it with 'rewardmix sweep ... --shard %d/%d --resume'", dir, n, m.Shard.Runs, m.Shard.Index, m.Shard.Count)
		}
	}
	for i := 0; i < first.Shard.Count; i++ {
		dir, ok := byIndex[i]
		if !ok {
			return inputErrorf("shard %d/%d is missing", i, first.Shard.Count)
		}
		shards = append(shards, dir)
	}
	sweepFile, err := os.ReadFile(filepath.Join(shards[0], sweepName))
	if err != nil {
		return err
	}
	s, err := configs.LoadSweep(filepath.Join(shards[0], sweepName), sweepFile, nil, first.Runs)
	if err != nil {
		return err
	}
	if s.Hash() != first.SweepHash {
		return fmt.Errorf("%s does not match its manifest's sweep hash", filepath.Join(shards[0], sweepName))
	}
	m := newManifest(s, shardInfo{Index: 0, Count: 1, Runs: s.Len()})
	if _, _, err := prepareSweepDir(*out, m, sweepFile, false, *force, false); err != nil {
		return err
	}
	if err := mergeLogs(*out, shards); err != nil {
		return err
	}
	if err := finalize(*out, axisKeys(s), len(s.Seeds)); err != nil {
		return err
	}
	if !*noPlots {
		if err := drawSweepFigures(*out); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "merged %d shards, %d runs -> %s\n", len(shards), s.Len(), *out)
	return nil
}

// mergeLogs interleaves the shards' run logs (shard i holds runs i, i+n,
// ...) into one log in run order.
func mergeLogs(dir string, shards []string) error {
	readers := make([]*logReader, len(shards))
	for i, sd := range shards {
		f, err := os.Open(filepath.Join(sd, runLogName))
		if err != nil {
			return err
		}
		defer f.Close()
		readers[i] = newLogReader(f)
	}
	log, err := openRunLog(filepath.Join(dir, runLogName), 0)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		rec := readers[i%len(shards)].next()
		if rec == nil {
			break
		}
		if rec.row.Index != i {
			log.Close()
			return fmt.Errorf("%s: expected run %d next, found run %d", shards[i%len(shards)], i, rec.row.Index)
		}
		b, err := encodeRecord(rec)
		if err == nil {
			err = log.appendEncoded(b)
		}
		if err != nil {
			log.Close()
			return err
		}
	}
	if err := log.f.Sync(); err != nil {
		log.Close()
		return err
	}
	return log.Close()
}
