// Package results reads and writes rewardmix's results: run folders and
// sweep folders on disk, and runs held in memory, behind one Source
// interface with the across-run statistics that figures and reports need.
// File I/O is its job.
//
// A run folder, as `rewardmix run` writes it, holds
//
//	steps.csv     tidy long format: step,metric,value (what the config's [output] table records)
//	summary.json  every metric before, at and after the update, the release review and the deployment
//	config.toml   the fully resolved config, which reproduces the run
//
// (steps.parquet instead of steps.csv with [output] format = "parquet")
// and optionally figures. A sweep folder (package sweep writes it) holds
// manifest.json, sweep.toml (the resolved sweep), runs.log (the crash-safe
// record of finished runs) and, once every run is done,
//
//	runs.csv       one row per run: run_id, seed, the swept keys, the final value of every metric, status, error
//	steps.parquet  run_id, step, metric, value (steps.csv with [output] format = "csv")
//	agg.csv        per parameter point and metric: n, mean, sd and the 95% confidence interval of the mean
//
// A StepsWriter writes a steps table in either format, a run's Series
// (Record selects it from a finished run) at a time; a SeriesReader reads
// a sweep's back run by run.
//
// Open reads either kind of folder without reading its steps; FromResult
// wraps a finished sim.Result. Both are Sources: Steps streams the steps
// table, CSV or Parquet (memory grows with metrics x groups x steps and
// the largest Parquet row group, never with the number of runs) and returns, per step, the mean and the 95% confidence interval
// across the runs of each group. ReadConfig reads a config file (a regular
// .toml file, with a bound on its size) for the command line, for Open and
// for the sweep engine; ReadRelative resolves extends from disk with it.
package results
