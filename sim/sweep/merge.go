package sweep

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rewardmix/rewardmix/configs"
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
	if _, _, _, err := prepareDir(dir, m, sweepFile, false, force, false); err != nil {
		return nil, err
	}
	if err := mergeLogs(dir, ordered); err != nil {
		return nil, err
	}
	failed, err := finalize(dir, axisKeys(s), len(s.Seeds), nil, nil)
	if err != nil {
		return nil, err
	}
	return &Summary{Runs: s.Len(), Ran: 0, Failed: failed}, nil
}

// mergeLogs interleaves the shards' run logs (shard i holds runs i, i+n,
// ...) into one log in run order.
func mergeLogs(dir string, shards []string) error {
	readers := make([]*logReader, len(shards))
	for i, sd := range shards {
		f, err := os.Open(filepath.Join(sd, results.RunLogFile))
		if err != nil {
			return err
		}
		defer f.Close()
		readers[i] = newLogReader(f)
	}
	log, err := openRunLog(filepath.Join(dir, results.RunLogFile), 0)
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
			err = log.append(b)
		}
		if err != nil {
			log.Close()
			return err
		}
	}
	return log.Close()
}
