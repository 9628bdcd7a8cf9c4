// Package sweep runs a sweep (a config with a [sweep] table, loaded by
// package configs) into a sweep folder: in parallel, resumably after a
// crash, and split into shards for a cluster's job array, with results
// that are byte-identical however the work was split. File I/O is its job:
// it owns the sweep folder's format and its crash-safe run log.
//
// Run executes the runs of one shard (by default the whole sweep) on
// Options.Workers goroutines. In run order, each finished run's recorded
// step series (the base config's [output] table chooses the steps, the
// metrics and the format) goes into the current part of the steps table
// (PartsDir: about PartRows rows each); when a part is full it is synced
// into place and only then are its runs appended to the folder's run log
// (runs.log), one checksummed record per run holding its final values. So
// every series is on disk once, a kill -9 at any moment loses at most the
// runs of the part being written and those in flight, which
// Options.Resume redoes, and a resumed sweep cuts its parts where the
// sweep run in one go did. When the shard's every run is in the log, Run
// writes runs.csv and agg.csv and joins the parts into the steps table
// (steps.parquet, or steps.csv; see package results for their columns),
// then removes them. Shard i of n holds runs i, i+n, i+2n, ...; Merge
// joins the shard folders of a sweep into one folder whose files are
// byte-identical to those of the same sweep run in one go. ShardFromEnv
// reads the shard of a Slurm job array or a Kubernetes Indexed Job from
// the environment.
//
// One process at a time writes a folder: Run, Merge, Boundary and
// MergeBoundary hold it through an advisory lock on its LockFile for the
// whole of their work, and refuse a folder another holds with a
// *BusyError (ErrBusy) naming its pid, whatever Options say; the lock
// goes with the process, however it ends. Resuming removes the temporary
// files a killed sweep left, and cuts a run log that does not end with a
// whole, valid record back to its valid records, saying what it cut
// (LogRepair, in the first Progress and the Summary).
//
// A run's seed derives from its parameters and replicate seed (package
// configs), never from scheduling, and the files depend only on the log's
// records and the parts, whose boundaries depend only on the runs, so
// workers, shards and resumes do not change a byte.
package sweep
