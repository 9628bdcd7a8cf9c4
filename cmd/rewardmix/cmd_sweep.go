package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

const sweepSynopsis = `sweep [flags] <sweep.toml>

Runs every run of a sweep (a config with a [sweep] table) on --workers
goroutines and writes into the output folder: manifest.json, sweep.toml
(the resolved sweep), runs.log (a crash-safe record of finished runs), and
when all are done runs.csv, steps.csv and agg.csv. Outputs do not depend on
--workers, on sharding, or on interruptions followed by --resume.

With --shard i/n (0 <= i < n; by default from SLURM_ARRAY_TASK_ID and
SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX and JOB_COMPLETIONS) it runs
runs i, i+n, i+2n, ... into DIR-shard-i; 'rewardmix merge' joins the shards.
Exit status: 0 all runs ok, 1 some runs failed or were interrupted, 2 bad input.`

// errInterrupted reports a sweep stopped before its end.
var errInterrupted = errors.New("interrupted")

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
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return inputErrorf("want one sweep file, got %d arguments (see 'rewardmix sweep --help')", len(pos))
	}
	if *workers < 1 || *workers > 1024 {
		return inputErrorf("--workers %d: want 1 to 1024", *workers)
	}
	if *maxRuns < 1 {
		return inputErrorf("--max-runs %d: want at least 1", *maxRuns)
	}
	sh, err := resolveShard(*shardFlag, os.Getenv)
	if err != nil {
		return err
	}
	s, err := loadSweep(pos[0], *maxRuns)
	if err != nil {
		return err
	}
	indices := shardIndices(s.Len(), sh)
	sh.Runs = len(indices)
	if *dryRun {
		fmt.Fprintf(stdout, "%s: %d runs (%d points x %d seeds, mode %s); shard %d/%d holds %d\n",
			pos[0], s.Len(), s.Points(), len(s.Seeds), s.Mode, sh.Index, sh.Count, len(indices))
		fmt.Fprintf(stdout, "run_id\tseed\t%s\n", strings.Join(axisKeys(s), "\t"))
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
	sharded := shardRequested(*shardFlag, os.Getenv)
	if sharded { // even 0/1, so that 'merge DIR-shard-*' finds every task's folder
		dir = fmt.Sprintf("%s-shard-%d", filepath.Clean(dir), sh.Index)
	}
	m := newManifest(s, sh)
	done, valid, err := prepareSweepDir(dir, m, configs.EncodeSweep(s), *resume, *force, true)
	if err != nil {
		return err
	}
	// The log holds a prefix of this shard's runs; check it is what we expect.
	if done > len(indices) {
		return fmt.Errorf("%s: the run log holds %d runs, the shard only %d", dir, done, len(indices))
	}
	todo := indices[done:]
	log, err := openRunLog(filepath.Join(dir, runLogName), valid)
	if err != nil {
		return err
	}
	// A sweep started afresh writes steps.csv (to a temporary file) as the
	// runs arrive, in order, so that finalize need not copy every step
	// series out of the log again; a resumed one builds it from the log.
	var steps *atomicFile
	if done == 0 {
		if steps, err = createAtomic(filepath.Join(dir, "steps.csv")); err != nil {
			log.Close()
			return err
		}
		defer steps.abort() // after commit it does nothing
		steps.WriteString(stepsHeader)
	}
	prog := newProgress(stderr, len(indices), done, *quiet)
	failed, interrupted := 0, false
	// Each run is encoded into its log record on the worker that ran it;
	// only the ordered append happens here.
	// The records' storage is reused once written (a record holds the
	// run's whole step series).
	type encoded struct {
		rec, storage []byte
		steps        int // where the step series begins in rec
		row          *runRow
		err          error
		index        int
	}
	var buffers sync.Pool
	runErr := sim.RunAllPrepared(ctx, len(todo), *workers,
		func(k int) (*sim.Config, error) { return s.Config(s.Run(todo[k])) },
		func(k int, res *sim.Result, err error) encoded {
			row, metrics, values := runRecord(s, s.Run(todo[k]), res, err)
			var buf []byte
			if b, ok := buffers.Get().(*[]byte); ok {
				buf = *b
			}
			rec, at, storage, eerr := encodeRun(buf, row, metrics, values)
			return encoded{rec: rec, steps: at, storage: storage, row: row, err: eerr, index: todo[k]}
		},
		func(k int, e encoded) error {
			if e.err != nil {
				return e.err
			}
			err := log.appendEncoded(e.rec)
			if err == nil && steps != nil {
				_, err = steps.Write(e.rec[e.steps:])
			}
			buffers.Put(&e.storage)
			if err != nil {
				return err
			}
			if e.row.Status != "ok" {
				failed++
				prog.note(fmt.Sprintf("run %s (%s) failed: %s", e.row.ID, s.Describe(s.Run(e.index)), e.row.Error))
				if *failFast {
					return errFailFast
				}
			}
			prog.step()
			return nil
		})
	prog.finish()
	// The syncs of the log and of steps.csv, most of a finished sweep's
	// tail, run while finalize reads the log; its files are committed only
	// once both are done.
	logClosed, stepsSynced := make(chan error, 1), make(chan error, 1)
	go func() { logClosed <- log.Close() }()
	if steps != nil && runErr == nil {
		go func() {
			err := steps.Flush()
			if err == nil {
				err = steps.f.Sync()
			}
			stepsSynced <- err
		}()
	} else {
		stepsSynced <- nil
	}
	var syncOnce sync.Once
	var syncErr error
	synced := func() error {
		syncOnce.Do(func() {
			err1, err2 := <-logClosed, <-stepsSynced
			syncErr = err1
			if err1 == nil {
				syncErr = err2
			}
		})
		return syncErr
	}
	defer synced() // on every return, before steps.abort
	if runErr != nil {
		synced() // the run's own error is the one reported
	}
	switch {
	case errors.Is(runErr, errFailFast):
		return fmt.Errorf("stopped at the first failed run (--fail-fast); %s holds the runs so far; continue with --resume", dir)
	case runErr != nil && ctx.Err() != nil:
		interrupted = true
	case runErr != nil:
		return runErr
	}
	if interrupted {
		shardArg := ""
		if sharded {
			shardArg = fmt.Sprintf(" --shard %d/%d", sh.Index, sh.Count)
		}
		return fmt.Errorf("%w: %s holds the finished runs; continue with: rewardmix sweep %s -o %s%s --resume", errInterrupted, dir, pos[0], *out, shardArg)
	}
	totalFailed, err := finalizeCount(dir, axisKeys(s), len(s.Seeds), steps, synced)
	if err != nil {
		return err
	}
	if !*noPlots {
		if err := drawSweepFigures(dir); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s: %d runs (%d this time, %d failed) -> %s/{runs.csv,steps.csv,agg.csv,manifest.json}\n",
		pos[0], len(indices), len(todo), totalFailed, dir)
	if totalFailed > 0 {
		return fmt.Errorf("%d of %d runs failed; see the status and error columns of %s", totalFailed, len(indices), filepath.Join(dir, "runs.csv"))
	}
	return nil
}

var errFailFast = errors.New("fail-fast")

func loadSweep(path string, maxRuns int) (*configs.Sweep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, inputErrorf("%s: no such file", path)
		}
		return nil, &inputError{err}
	}
	return configs.LoadSweep(path, data, readRelative, maxRuns)
}

func axisKeys(s *configs.Sweep) []string {
	keys := make([]string, len(s.Axes))
	for i, ax := range s.Axes {
		keys[i] = ax.Key
	}
	return keys
}

// runRecord turns a finished (or failed) run into its log record's row
// and its step series (none for a failed run).
func runRecord(s *configs.Sweep, r configs.Run, res *sim.Result, err error) (row *runRow, metrics []string, values [][]float64) {
	row = &runRow{Index: r.Index, ID: r.ID, Seed: r.Seed, Status: "ok"}
	for _, p := range r.Params {
		row.Params = append(row.Params, configs.FormatParam(p))
	}
	if err != nil {
		row.Status, row.Error = "failed", err.Error()
		return row, nil, nil
	}
	// Final values of every step metric, then the run's release outcome
	// (one number per run, not a series: runs.csv and agg.csv only).
	names, outcome := res.Outcome()
	row.Metrics = append(append([]string(nil), res.Metrics...), names...)
	row.Final = append(append([]float64(nil), res.Values[len(res.Values)-1]...), outcome...)
	return row, res.Metrics, res.Values
}

// resolveShard reads --shard i/n, else the array-job environment of Slurm
// or a Kubernetes Indexed Job, else returns shard 0/1.
func resolveShard(flagVal string, getenv func(string) string) (shardInfo, error) {
	parse := func(src, i, n string) (shardInfo, error) {
		ii, err1 := strconv.Atoi(strings.TrimSpace(i))
		nn, err2 := strconv.Atoi(strings.TrimSpace(n))
		if err1 != nil || err2 != nil || nn < 1 || ii < 0 || ii >= nn {
			return shardInfo{}, inputErrorf("%s: want shard i/n with 0 <= i < n, got %s/%s", src, i, n)
		}
		return shardInfo{Index: ii, Count: nn}, nil
	}
	if flagVal != "" {
		i, n, ok := strings.Cut(flagVal, "/")
		if !ok {
			return shardInfo{}, inputErrorf("--shard %s: want i/n, for example 3/16", flagVal)
		}
		return parse("--shard", i, n)
	}
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		n := getenv("SLURM_ARRAY_TASK_COUNT")
		if n == "" {
			return shardInfo{}, inputErrorf("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard i/n")
		}
		// Arrays may start at 1 (--array=1-16): count from the first task.
		if lo := getenv("SLURM_ARRAY_TASK_MIN"); lo != "" {
			a, err1 := strconv.Atoi(id)
			b, err2 := strconv.Atoi(lo)
			if err1 == nil && err2 == nil {
				id = strconv.Itoa(a - b)
			}
		}
		return parse("SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT", id, n)
	}
	if id := getenv("JOB_COMPLETION_INDEX"); id != "" {
		n := getenv("JOB_COMPLETIONS")
		if n == "" {
			return shardInfo{}, inputErrorf("JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS is not (set it to the Job's completions); or pass --shard i/n")
		}
		return parse("JOB_COMPLETION_INDEX/JOB_COMPLETIONS", id, n)
	}
	return shardInfo{Index: 0, Count: 1}, nil
}

// shardRequested reports whether the sweep runs as one task of an array:
// --shard given, or a Slurm or Kubernetes array environment.
func shardRequested(flagVal string, getenv func(string) string) bool {
	return flagVal != "" || getenv("SLURM_ARRAY_TASK_ID") != "" || getenv("JOB_COMPLETION_INDEX") != ""
}

// shardIndices returns the runs of a shard: i, i+n, i+2n, ...
func shardIndices(total int, sh shardInfo) []int {
	var idx []int
	for i := sh.Index; i < total; i += sh.Count {
		idx = append(idx, i)
	}
	return idx
}

// prepareSweepDir makes dir ready to receive the sweep's runs and returns
// how many of the shard's runs its log already holds and the log's valid
// length. A new or empty folder is set up; a folder holding this sweep is
// continued only with resume; anything else is refused unless force.
func prepareSweepDir(dir string, m *manifest, sweepFile []byte, resume, force, resumable bool) (done int, valid int64, err error) {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist), err == nil && len(ents) == 0:
	case err != nil:
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return 0, 0, inputErrorf("output folder %s exists and is not a folder", dir)
		}
		return 0, 0, err
	default:
		old, merr := readManifest(dir)
		switch {
		case merr != nil && !force:
			return 0, 0, inputErrorf("output folder %s exists and does not hold a rewardmix sweep; choose another folder with -o", dir)
		case merr != nil:
			return 0, 0, inputErrorf("output folder %s does not hold a rewardmix sweep; --force only replaces sweep folders", dir)
		case force:
			if err := clearSweepDir(dir); err != nil {
				return 0, 0, err
			}
		case old.SweepHash != m.SweepHash || old.Shard.Index != m.Shard.Index || old.Shard.Count != m.Shard.Count:
			return 0, 0, inputErrorf("output folder %s holds a different sweep (hash %.12s, shard %d/%d; this one is %.12s, shard %d/%d): resuming it would mix results; use --force to discard it, or choose another folder",
				dir, old.SweepHash, old.Shard.Index, old.Shard.Count, m.SweepHash, m.Shard.Index, m.Shard.Count)
		case !resume:
			if !resumable {
				return 0, 0, inputErrorf("output folder %s already holds this sweep; replace it with --force, or choose another folder", dir)
			}
			return 0, 0, inputErrorf("output folder %s already holds this sweep; continue it with --resume (finished runs are not redone) or start over with --force", dir)
		default:
			valid, err = scanLog(filepath.Join(dir, runLogName), func(rec *logRecord) error {
				want := m.Shard.Index + done*m.Shard.Count
				if rec.row.Index != want {
					return fmt.Errorf("%s: run log out of order: record %d is run %d, want %d", dir, done, rec.row.Index, want)
				}
				done++
				return nil
			})
			return done, valid, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, err
	}
	mj, err := marshalJSON(m)
	if err != nil {
		return 0, 0, err
	}
	if err := writeFileAtomic(filepath.Join(dir, sweepName), sweepFile); err != nil {
		return 0, 0, err
	}
	return 0, 0, writeFileAtomic(filepath.Join(dir, manifestName), mj)
}

// sweepFiles are the files a sweep folder may hold.
var sweepFiles = []string{manifestName, sweepName, runLogName, "runs.csv", "steps.csv", "agg.csv",
	"drift.png", "segments.png", "influence.png", "frontier.png", "heatmap.png"}

// drawSweepFigures draws a finished sweep folder's standard set into it,
// each file written atomically. A sweep whose runs all failed has nothing
// to draw and gets no figures.
func drawSweepFigures(dir string) error {
	rd, err := openResults(dir)
	if err != nil {
		return err
	}
	anyOK := false
	for _, r := range rd.runs {
		anyOK = anyOK || r.ok
	}
	if !anyOK {
		return nil
	}
	names, figs, err := standardFigures(plotOpts{steps: allSteps}, rd, io.Discard, nil)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := writeFileAtomic(filepath.Join(dir, n), figs[n]); err != nil {
			return err
		}
	}
	return nil
}

func clearSweepDir(dir string) error {
	for _, f := range sweepFiles {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		// Temporary files a crash during finalize may have left.
		tmps, _ := filepath.Glob(filepath.Join(dir, "."+f+".tmp-*"))
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	return nil
}
