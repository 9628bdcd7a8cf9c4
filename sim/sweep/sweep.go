package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/internal/atomicfile"
	"github.com/rewardmix/rewardmix/sim/internal/ordered"
	"github.com/rewardmix/rewardmix/sim/results"
)

// Options are the settings of Run; the zero value runs the whole sweep on
// as many goroutines as there are CPUs into a new or empty folder.
type Options struct {
	// Workers is the number of runs at a time (0: runtime.GOMAXPROCS).
	Workers int
	// Shard is the part of the sweep to run (the zero value: all of it).
	Shard Shard
	// Resume continues a folder that holds this sweep's (shard's) run
	// log: finished runs are not redone. Without it such a folder is
	// refused. A log that does not end with a whole, valid record is cut
	// back to its valid records, and the cut is reported (LogRepair).
	Resume bool
	// Force discards what a sweep folder holds and starts over. It does
	// not override the lock of a folder another sweep is writing.
	Force bool
	// FailFast stops at the first failed run (ErrFailFast) rather than
	// record it and go on.
	FailFast bool
	// Progress, if set, is called before the first run and after each run
	// finishes, in run order, never concurrently. A run is recorded (in
	// the log, and so kept by a crash) once its part of the steps table is
	// on disk: at most PartRows rows or MaxPartRuns runs later.
	Progress func(Progress)

	// partRows, if not 0, replaces partRows (tests).
	partRows int
}

// Progress is a report of a sweep's progress.
type Progress struct {
	Done, Total int     // runs of the shard finished so far, and in all
	Run         *RunRow // the run just recorded; nil in the first report
	// Repair, in the first report of a resumed sweep whose run log did
	// not end with a whole, valid record, says what was cut off it.
	Repair *LogRepair
}

// Summary is what a finished Run or Merge did.
type Summary struct {
	Runs   int // runs in the folder (the shard's)
	Ran    int // runs made by this call
	Failed int // runs recorded as failed (diverged), in the folder
	// Repair is what resuming cut off a run log that did not end with a
	// whole, valid record (nil if nothing), as in the first Progress.
	Repair *LogRepair
}

// Errors that stop a sweep before its end; the folder holds the runs so
// far, and Run with Options.Resume continues it.
var (
	ErrInterrupted = errors.New("interrupted")
	ErrFailFast    = errors.New("stopped at the first failed run")
)

// Run runs the runs of opt.Shard of sweep s into folder dir: manifest.json
// and sweep.toml first, each finished run appended to runs.log, and, when
// all are in the log, runs.csv, steps.csv and agg.csv. A run that fails
// (diverges) is recorded with its error and the sweep goes on. A folder
// that holds something else, or this sweep without opt.Resume, is
// refused with a *results.Error. When ctx is cancelled Run returns an
// error wrapping ErrInterrupted.
//
// Run holds the folder for the whole of its work (see LockFile): a folder
// that another Run, Merge or Boundary, in this process or another, is
// working on is refused with a *BusyError (ErrBusy), whatever opt says.
func Run(ctx context.Context, s *configs.Sweep, dir string, opt Options) (*Summary, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	sh := opt.Shard.normal()
	indices := sh.Indices(s.Len())
	m := newManifest(s, ShardInfo{Index: sh.Index, Count: sh.Count, Runs: len(indices)})
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer lock.unlock() // last: after the log and steps.csv are closed
	format := s.Base.Output.Format.Resolve(true)
	done, valid, parts, repair, err := prepareDir(dir, m, configs.EncodeSweep(s), format, opt.Resume, opt.Force, true)
	if err != nil {
		return nil, err
	}
	// The log holds a prefix of this shard's runs; check it is what we expect.
	if done > len(indices) {
		return nil, fmt.Errorf("%s: the run log holds %d runs, the shard only %d", dir, done, len(indices))
	}
	todo := indices[done:]
	log, err := openRunLog(filepath.Join(dir, results.RunLogFile), valid)
	if err != nil {
		return nil, err
	}
	pw := newPartWriter(dir, format, log, parts)
	if opt.partRows > 0 {
		pw.partRows = opt.partRows
	}
	defer pw.abort() // a part cut short by an error or interruption: its runs are redone on resume
	progress := opt.Progress
	if progress == nil {
		progress = func(Progress) {}
	}
	progress(Progress{Done: done, Total: len(indices), Repair: repair})
	finished := done
	// The metric names of every run, if this call sees every run (none
	// was in the log before), saves finalize a pass over the log.
	var union metricUnion
	// A run's series is selected on the worker that ran it; the part
	// writer, in run order, encodes it and records the run.
	type finishedRun struct {
		row    *RunRow
		series *results.Series
	}
	runErr := ordered.Run(ctx, len(todo), workers,
		func(ctx context.Context, k int) (finishedRun, error) {
			r := s.Run(todo[k])
			cfg, err := s.Config(r)
			var res *sim.Result
			if err == nil {
				res, err = sim.Run(ctx, cfg)
			}
			if err != nil && ctx.Err() != nil && err == ctx.Err() {
				return finishedRun{}, err // cut short: redone on resume
			}
			row := runRow(r, res, err)
			var series *results.Series
			if err == nil {
				series = results.Record(cfg, res.Metrics, res.Values)
			}
			return finishedRun{row, series}, nil
		},
		func(k int, f finishedRun) error {
			if err := pw.add(f.row, f.series, k == len(todo)-1); err != nil {
				return err
			}
			union.add(f.row.Metrics)
			finished++
			progress(Progress{Done: finished, Total: len(indices), Run: f.row})
			if f.row.Status != statusOK && opt.FailFast {
				return ErrFailFast
			}
			return nil
		})
	// The sync of the log, part of a finished sweep's tail, runs while
	// finalize reads it; its files are committed only once it is done.
	logClosed := make(chan error, 1)
	go func() { logClosed <- log.Close() }()
	var syncOnce sync.Once
	var syncErr error
	synced := func() error {
		syncOnce.Do(func() { syncErr = <-logClosed })
		return syncErr
	}
	defer synced() // on every return
	if runErr != nil {
		synced() // the run's own error is the one reported
	}
	switch {
	case errors.Is(runErr, ErrFailFast):
		return nil, fmt.Errorf("%w: %s holds the runs finished before the last part of the steps table closed", ErrFailFast, dir)
	case runErr != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("%w: %s holds the runs finished before the last part of the steps table closed", ErrInterrupted, dir)
	case runErr != nil:
		return nil, runErr
	}
	var metrics []string // finalize reads them from the log if runs were there before
	if done == 0 {
		metrics = union.names
	}
	failed, err := finalize(dir, axisKeys(s), len(s.Seeds), format, pw.k, metrics, pw.joiner(), synced)
	if err != nil {
		return nil, err
	}
	return &Summary{Runs: len(indices), Ran: len(todo), Failed: failed, Repair: repair}, nil
}

const statusOK = "ok"

func axisKeys(s *configs.Sweep) []string {
	keys := make([]string, len(s.Axes))
	for i, ax := range s.Axes {
		keys[i] = ax.Key
	}
	return keys
}

// runRow turns a finished (or failed) run into its log record's row.
func runRow(r configs.Run, res *sim.Result, err error) *RunRow {
	row := &RunRow{Index: r.Index, ID: r.ID, Seed: r.Seed, Status: statusOK}
	for _, p := range r.Params {
		row.Params = append(row.Params, configs.FormatParam(p))
	}
	if err != nil {
		row.Status, row.Error = "failed", err.Error()
		return row
	}
	// Final values of every step metric, then the run's release outcome
	// (one number per run, not a series: runs.csv and agg.csv only).
	names, outcome := res.Outcome()
	row.Metrics = append(append([]string(nil), res.Metrics...), names...)
	row.Final = append(append([]float64(nil), res.Values[len(res.Values)-1]...), outcome...)
	return row
}

// prepareDir makes dir, which the caller holds (lockDir), ready to receive
// the sweep's runs and returns how many of the shard's runs its log
// already holds, the log's valid length, how many parts of the steps table
// (in format) those runs fill, and what was cut off the log after it (nil
// if nothing). A new or empty folder is set up; a folder
// holding this sweep is continued only with resume; anything else is
// refused unless force. The lock file and the temporary files a killed
// sweep left do not count, and the latter are removed.
func prepareDir(dir string, m *Manifest, sweepFile []byte, format sim.Format, resume, force, resumable bool) (done int, valid int64, parts int, repair *LogRepair, err error) {
	ents, err := os.ReadDir(dir)
	ents = slices.DeleteFunc(ents, func(e os.DirEntry) bool { return isOurs(e.Name(), folderFiles) })
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err == nil && len(ents) == 0:
		if err := removeTemps(dir, folderFiles); err != nil {
			return 0, 0, 0, nil, err
		}
	case err != nil:
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return 0, 0, 0, nil, results.Errorf("output folder %s exists and is not a folder", dir)
		}
		return 0, 0, 0, nil, err
	default:
		old, merr := ReadManifest(dir)
		switch {
		case merr != nil && !force:
			return 0, 0, 0, nil, results.Errorf("output folder %s exists and does not hold a rewardmix sweep; choose another folder with -o", dir)
		case merr != nil:
			return 0, 0, 0, nil, results.Errorf("output folder %s does not hold a rewardmix sweep; --force only replaces sweep folders", dir)
		case force:
			if err := clearDir(dir); err != nil {
				return 0, 0, 0, nil, err
			}
		case old.SweepHash != m.SweepHash || old.Shard.Index != m.Shard.Index || old.Shard.Count != m.Shard.Count:
			return 0, 0, 0, nil, results.Errorf("output folder %s holds a different sweep (hash %.12s, shard %d/%d; this one is %.12s, shard %d/%d): resuming it would mix results; use --force to discard it, or choose another folder",
				dir, old.SweepHash, old.Shard.Index, old.Shard.Count, m.SweepHash, m.Shard.Index, m.Shard.Count)
		case !resume:
			if !resumable {
				return 0, 0, 0, nil, results.Errorf("output folder %s already holds this sweep; replace it with --force, or choose another folder", dir)
			}
			return 0, 0, 0, nil, results.Errorf("output folder %s already holds this sweep; continue it with --resume (finished runs are not redone) or start over with --force", dir)
		default:
			if err := removeTemps(dir, folderFiles); err != nil {
				return 0, 0, 0, nil, err
			}
			return resumeLog(dir, m, format)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, 0, nil, err
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return 0, 0, 0, nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, results.SweepFile), sweepFile); err != nil {
		return 0, 0, 0, nil, err
	}
	return 0, 0, 0, nil, atomicfile.WriteFile(filepath.Join(dir, results.ManifestFile), append(mj, '\n'))
}

// resumeLog reads the run log of a folder being resumed: how many of the
// shard's runs it holds, its valid length, the parts of the steps table
// they fill, and what was cut off the log (nil if nothing). Runs of a part
// whose records were cut short (a crash while they were being written) are
// cut off with them, so that the sweep goes on at the part's first run.
func resumeLog(dir string, m *Manifest, format sim.Format) (done int, valid int64, parts int, repair *LogRepair, err error) {
	logPath := filepath.Join(dir, results.RunLogFile)
	type partMark struct {
		size  int64 // as recorded
		start int   // runs before it
		at    int64 // where its first record begins
	}
	var marks []partMark
	partRuns, lastPartRuns := 0, 0
	good, valid, err := scanLogAt(logPath, func(rec *logRecord, at int64) error {
		row := &rec.row
		if want := m.Shard.Index + done*m.Shard.Count; row.Index != want {
			return fmt.Errorf("%s: run log out of order: record %d is run %d, want %d", dir, done, row.Index, want)
		}
		switch {
		case row.PartRuns == 0:
			return results.Errorf("%s: the run log was written by an earlier version of rewardmix, which kept the step series in it; this version cannot continue it: start over with --force", dir)
		case row.Part == len(marks):
			marks = append(marks, partMark{row.PartSize, done, at})
			partRuns, lastPartRuns = 0, row.PartRuns
		case row.Part != len(marks)-1:
			return fmt.Errorf("%s: run log damaged: run %d is in part %d, after part %d", dir, row.Index, row.Part, len(marks)-1)
		}
		if partRuns++; partRuns > row.PartRuns {
			return fmt.Errorf("%s: run log damaged: part %d holds more than its %d runs", dir, row.Part, row.PartRuns)
		}
		done++
		return nil
	})
	if err != nil {
		return 0, 0, 0, nil, err
	}
	if repair, err = diagnoseLog(logPath, valid, good); err != nil {
		return 0, 0, 0, nil, err
	}
	cut := func(k int) { done, valid, marks = marks[k].start, marks[k].at, marks[:k] }
	if k := len(marks) - 1; k >= 0 && partRuns < lastPartRuns {
		// The last part's records were cut short (a crash while they were
		// written): its recorded runs go too, and are run again with it.
		pm := marks[k]
		switch {
		case repair == nil || repair.Torn:
			bytes := valid - pm.at
			if repair != nil {
				bytes += repair.Bytes
			}
			repair = &LogRepair{Path: logPath, Record: pm.start + 1, Offset: pm.at, Bytes: bytes, Torn: true,
				After:  good - pm.start - 1 + boolInt(repair != nil),
				Reason: fmt.Sprintf("are part %d's, cut short by a crash before its %d runs were all recorded", k, lastPartRuns)}
		default:
			repair.Reason += fmt.Sprintf("; the %d records of part %d before it go too", good-pm.start, k)
		}
		cut(k)
	}
	sizes := make([]int64, len(marks))
	for k, pm := range marks {
		sizes[k] = pm.size
	}
	if !(done >= m.Shard.Runs && joined(dir, format, len(marks))) {
		switch bad, later := firstBadPart(dir, format, sizes); {
		case bad < len(marks) && later:
			return 0, 0, 0, nil, results.Errorf("%s: part %d of the steps table is missing or changed since its runs were recorded, and later parts are there; start the sweep over with --force", dir, bad)
		case bad < len(marks):
			// Parts the log names that never reached the disk (a power
			// loss before their rename was): run them again.
			if repair == nil {
				repair = &LogRepair{Path: logPath, Record: marks[bad].start + 1, Offset: marks[bad].at, Bytes: valid - marks[bad].at,
					After: done - marks[bad].start - 1, Reason: fmt.Sprintf("names part %d of the steps table, which is not on disk", bad)}
			}
			cut(bad)
		}
		if err := removeStaleParts(dir, format, len(marks)); err != nil {
			return 0, 0, 0, nil, err
		}
	}
	if repair != nil {
		repair.Complete = done >= m.Shard.Runs
	}
	return done, valid, len(marks), repair, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// folderFiles lists the files a sweep folder may hold: its own and the figures
// of its standard set.
var folderFiles = []string{results.ManifestFile, results.SweepFile, results.RunLogFile, results.RunsFile, results.StepsFile, results.StepsParquetFile, results.AggFile, PartsDir,
	"drift.png", "segments.png", "influence.png", "frontier.png", "heatmap.png"}

// clearDir removes a sweep folder's files, and the temporary files a
// killed sweep (or finalize, or figure drawing) may have left.
func clearDir(dir string) error {
	for _, f := range folderFiles {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return removeTemps(dir, folderFiles)
}
