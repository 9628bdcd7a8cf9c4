package sweep

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

// Merge joins the shard folders of one sweep (every shard 0..n-1 once,
// each complete, in any order) into folder dir, whose runs.csv, steps.csv
// and agg.csv are then byte-identical to those of the same sweep run in
// one go. A folder at dir that holds a sweep is replaced only with force.
// Shards that do not fit together are refused with a *results.Error.
// Merge holds dir as Run does (a *BusyError if another holds it).
func Merge(dir string, shards []string, force bool) (*Summary, error) {
	var first *Manifest
	byIndex := map[int]string{}
	outInfo, outErr := os.Stat(dir)
	for _, sd := range shards {
		m, err := ReadManifest(sd)
		if err != nil {
			return nil, results.Errorf("%s is not a sweep folder: %v", sd, err)
		}
		// force would clear the shard before reading it.
		if fi, err := os.Stat(sd); outErr == nil && err == nil && os.SameFile(fi, outInfo) {
			return nil, results.Errorf("-o %s is one of the shards; merge into another folder", dir)
		}
		if first == nil {
			first = m
		}
		switch {
		case m.SweepHash != first.SweepHash:
			return nil, results.Errorf("%s holds a different sweep than %s (hash %.12s vs %.12s)", sd, shards[0], m.SweepHash, first.SweepHash)
		case m.Shard.Count != first.Shard.Count:
			return nil, results.Errorf("%s is shard %d/%d but %s is shard %d/%d", sd, m.Shard.Index, m.Shard.Count, shards[0], first.Shard.Index, first.Shard.Count)
		}
		if prev, dup := byIndex[m.Shard.Index]; dup {
			return nil, results.Errorf("%s and %s are both shard %d/%d", prev, sd, m.Shard.Index, m.Shard.Count)
		}
		byIndex[m.Shard.Index] = sd
		n := 0
		if _, err := scanLog(filepath.Join(sd, results.RunLogFile), func(*logRecord) error { n++; return nil }); err != nil {
			return nil, err
		}
		if n != m.Shard.Runs {
			return nil, results.Errorf("%s is incomplete: %d of its %d runs are done; finish it with 'rewardmix sweep ... --shard %d/%d --resume'", sd, n, m.Shard.Runs, m.Shard.Index, m.Shard.Count)
		}
	}
	if first == nil {
		return nil, results.Errorf("no shard folders to merge")
	}
	ordered := make([]string, 0, len(shards))
	for i := 0; i < first.Shard.Count; i++ {
		sd, ok := byIndex[i]
		if !ok {
			return nil, results.Errorf("shard %d/%d is missing", i, first.Shard.Count)
		}
		ordered = append(ordered, sd)
	}
	path := filepath.Join(ordered[0], results.SweepFile)
	sweepFile, err := results.ReadConfig(path)
	if err != nil {
		return nil, err
	}
	s, err := configs.LoadSweep(path, sweepFile, nil, first.Runs)
	if err != nil {
		return nil, err
	}
	if s.Hash() != first.SweepHash {
		return nil, fmt.Errorf("%s does not match its manifest's sweep hash", path)
	}
	m := newManifest(s, ShardInfo{Index: 0, Count: 1, Runs: s.Len()})
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer lock.unlock()
	format := s.Base.Output.Format.Resolve(true)
	if _, _, _, _, err := prepareDir(dir, m, sweepFile, format, false, force, false); err != nil {
		return nil, err
	}
	parts, join, err := mergeShards(dir, ordered, format, s.Len())
	if err != nil {
		return nil, err
	}
	failed, err := finalize(dir, axisKeys(s), len(s.Seeds), format, parts, nil, join, nil)
	if err != nil {
		return nil, err
	}
	return &Summary{Runs: s.Len(), Ran: 0, Failed: failed}, nil
}

// mergeShards interleaves the shards' runs (shard i holds runs i, i+n,
// ...) into dir's run log and steps table parts, in run order, as a sweep
// run in one go writes them, and returns the number of parts and the
// table they are being joined into (see joiner), for finalize. It reads
// each shard's run log for the rows and its steps table for the series,
// streaming: memory grows with the number of shards, not of runs.
func mergeShards(dir string, shards []string, format sim.Format, total int) (int, *joiner, error) {
	logs := make([]*logReader, len(shards))
	steps := make([]*results.SeriesReader, len(shards))
	for i, sd := range shards {
		f, err := os.Open(filepath.Join(sd, results.RunLogFile))
		if err != nil {
			return 0, nil, err
		}
		defer f.Close()
		logs[i] = &logReader{br: bufio.NewReaderSize(f, 64<<10)}
		table := ""
		for _, n := range []string{results.StepsParquetFile, results.StepsFile} {
			if _, err := os.Stat(filepath.Join(sd, n)); err == nil {
				table = filepath.Join(sd, n)
				break
			}
		}
		if table == "" {
			return 0, nil, results.Errorf("%s has no steps table (steps.parquet or steps.csv): finish it with --resume", sd)
		}
		r, err := results.OpenSeries(table)
		if err != nil {
			return 0, nil, err
		}
		defer r.Close()
		steps[i] = r
	}
	log, err := openRunLog(filepath.Join(dir, results.RunLogFile), 0)
	if err != nil {
		return 0, nil, err
	}
	pw := newPartWriter(dir, format, log, 0)
	defer pw.abort()
	var pending *RunRow
	var pendingSeries *results.Series
	n := 0
	for i := 0; i < total; i++ {
		k := i % len(shards)
		rec := logs[k].next()
		if rec == nil {
			break
		}
		n++
		if rec.row.Index != i {
			log.Close()
			return 0, nil, fmt.Errorf("%s: expected run %d next, found run %d", shards[k], i, rec.row.Index)
		}
		row := rec.row
		row.Part, row.PartRuns, row.PartSize = 0, 0, 0
		var series *results.Series
		if row.Status == statusOK {
			id, s, err := steps[k].Next()
			if err == io.EOF {
				err = results.Errorf("%s: the steps table ends before run %s", shards[k], row.ID)
			}
			if err == nil && id != row.ID {
				err = results.Errorf("%s: the steps table holds run %s where run %s is due", shards[k], id, row.ID)
			}
			if err != nil {
				log.Close()
				return 0, nil, err
			}
			series = s
		}
		// A run is added once the next is known, so that the last run
		// closes the last part.
		if pending != nil {
			if err := pw.add(pending, pendingSeries, false); err != nil {
				log.Close()
				return 0, nil, err
			}
		}
		pending, pendingSeries = &row, series
	}
	if pending != nil {
		if err := pw.add(pending, pendingSeries, true); err != nil {
			log.Close()
			return 0, nil, err
		}
	}
	if n != total {
		log.Close()
		return 0, nil, fmt.Errorf("merged %d runs of the %d the shards' manifests promise: a shard's run log could not be read whole", n, total)
	}
	// Every shard's log and steps table must be used up: a read error
	// ends a log as its end does, and a table may hold more than its log.
	for k, sd := range shards {
		if logs[k].next() != nil {
			log.Close()
			return 0, nil, results.Errorf("%s: its run log holds runs after run %d, the last of the sweep", sd, n-1)
		}
		if id, _, err := steps[k].Next(); err != io.EOF {
			log.Close()
			if err == nil {
				err = results.Errorf("%s: its steps table holds run %s, which its run log does not", sd, id)
			}
			return 0, nil, err
		}
	}
	if err := log.Close(); err != nil {
		return 0, nil, err
	}
	return pw.k, pw.joiner(), nil
}
