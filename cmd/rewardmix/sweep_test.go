package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

// sweepHead is the incident scaled down to 40 steps and 50 users: the base
// of the sweeps below.
const sweepHead = `extends = "incident"
name = "grid"

[train]
steps = 40
update_step = 20

[memory]
start_step = 20

[signals.thumbs]
start_step = 20

[signals.memory]
start_step = 20

[population]
users = 50
`

// gridSweep has 2 x 3 points and 3 seeds: 18 runs.
const gridSweep = sweepHead + `
[sweep]
seeds = [1, 2, 3]

[[sweep.axis]]
key = "signals.thumbs.weight"
linspace = [0.5, 2, 2]

[[sweep.axis]]
key = "train.learning_rate"
values = [0.02, 0.04, 0.06]
`

const gridRuns = 18

// resultCSVs are the files that must not depend on workers, shards or
// interruptions.
var resultCSVs = []string{"runs.csv", "steps.csv", "agg.csv"}

// logEnds returns the byte offset where each valid record of a run log
// ends, and the records.
func logEnds(t *testing.T, path string) ([]int64, []*logRecord) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr := newLogReader(f)
	var ends []int64
	var recs []*logRecord
	for rec := lr.next(); rec != nil; rec = lr.next() {
		ends = append(ends, lr.valid)
		recs = append(recs, rec)
	}
	return ends, recs
}

// logIndices returns the run indices a log holds, in order.
func logIndices(t *testing.T, path string) []int {
	t.Helper()
	_, recs := logEnds(t, path)
	var idx []int
	for _, r := range recs {
		idx = append(idx, r.row.Index)
	}
	return idx
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.WriteFile(to, readFile(t, from), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// TestSweepDeterminism: runs.csv, steps.csv and agg.csv are byte-identical
// for one worker, two workers, three shards merged, and sweeps interrupted
// in several ways and resumed.
func TestSweepDeterminism(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := writeFile(t, tmp, "grid.toml", gridSweep)
	ref := filepath.Join(tmp, "ref")
	r := mustRun(t, "sweep", file, "-o", ref, "--workers", "1")
	want := fmt.Sprintf("%s: %d runs (%d this time, 0 failed) -> %s/{runs.csv,steps.csv,agg.csv,manifest.json}\n", file, gridRuns, gridRuns, ref)
	if r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("] %d/%d runs", gridRuns, gridRuns)) {
		t.Errorf("stderr has no final progress line:\n%s", r.stderr)
	}
	if got := listDir(t, ref); strings.Join(got, " ") != "agg.csv drift.png frontier.png heatmap.png influence.png manifest.json runs.csv runs.log segments.png steps.csv sweep.toml" {
		t.Errorf("the sweep folder holds %v", got)
	}
	refLog := readFile(t, filepath.Join(ref, runLogName))
	ends, _ := logEnds(t, filepath.Join(ref, runLogName))
	if len(ends) != gridRuns || ends[len(ends)-1] != int64(len(refLog)) {
		t.Fatalf("the run log holds %d valid records in %d of its %d bytes, want %d in all", len(ends), ends[len(ends)-1], len(refLog), gridRuns)
	}

	t.Run("workers 2", func(t *testing.T) {
		t.Parallel()
		d := filepath.Join(t.TempDir(), "w2")
		r := mustRun(t, "sweep", "--no-plots", file, "-o", d, "--workers", "2", "--quiet")
		if r.stderr != "" {
			t.Errorf("--quiet printed %q", r.stderr)
		}
		sameFiles(t, ref, d, resultCSVs...)
	})

	t.Run("shards", func(t *testing.T) {
		t.Parallel()
		tmp := t.TempDir()
		base := filepath.Join(tmp, "grid")
		var shards []string
		for i := 0; i < 3; i++ {
			r := mustRun(t, "sweep", "--no-plots", file, "-o", base, "--shard", fmt.Sprintf("%d/3", i), "--workers", "2", "--quiet")
			d := fmt.Sprintf("%s-shard-%d", base, i)
			if !strings.Contains(r.stdout, fmt.Sprintf(": 6 runs (6 this time, 0 failed) -> %s/", d)) {
				t.Errorf("shard %d: stdout %q", i, r.stdout)
			}
			if got, want := logIndices(t, filepath.Join(d, runLogName)), []int{i, i + 3, i + 6, i + 9, i + 12, i + 15}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("shard %d/3 ran %v, want %v", i, got, want)
			}
			shards = append(shards, d)
		}
		if exists(base) {
			t.Errorf("a shard wrote into %s", base)
		}
		merged := filepath.Join(tmp, "merged")
		// Shards in any order.
		r := mustRun(t, "merge", "--no-plots", "-o", merged, shards[2], shards[0], shards[1])
		if want := fmt.Sprintf("merged 3 shards, %d runs -> %s\n", gridRuns, merged); r.stdout != want {
			t.Errorf("merge stdout %q, want %q", r.stdout, want)
		}
		sameFiles(t, ref, merged, resultCSVs...)
		sameFiles(t, ref, merged, runLogName, sweepName)
		// The merged folder is a whole sweep: resuming it does nothing.
		r = mustRun(t, "sweep", "--no-plots", file, "-o", merged, "--resume", "--quiet")
		if !strings.Contains(r.stdout, "(0 this time, 0 failed)") {
			t.Errorf("resuming the merged sweep: %q", r.stdout)
		}
		sameFiles(t, ref, merged, resultCSVs...)
	})

	// resumeFrom sets up a folder as a crash leaves it, with the reference
	// run log cut or damaged by damage, resumes it, and checks that
	// exactly the runs after the last intact record are run again.
	resumeFrom := func(t *testing.T, intact int, damage func([]byte) []byte) {
		t.Helper()
		d := filepath.Join(t.TempDir(), "crashed")
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, filepath.Join(ref, manifestName), filepath.Join(d, manifestName))
		copyFile(t, filepath.Join(ref, sweepName), filepath.Join(d, sweepName))
		if err := os.WriteFile(filepath.Join(d, runLogName), damage(bytes.Clone(refLog)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := mustRun(t, "sweep", "--no-plots", file, "-o", d, "--resume", "--workers", "2")
		if want := fmt.Sprintf("resuming: %d of %d runs already done\n", intact, gridRuns); intact > 0 && !strings.HasPrefix(r.stderr, want) {
			t.Errorf("stderr does not start with %q:\n%s", want, r.stderr)
		}
		if want := fmt.Sprintf("(%d this time, 0 failed)", gridRuns-intact); !strings.Contains(r.stdout, want) {
			t.Errorf("stdout %q lacks %q", r.stdout, want)
		}
		sameFiles(t, ref, d, resultCSVs...)
		sameFiles(t, ref, d, runLogName)
	}
	t.Run("torn record", func(t *testing.T) {
		t.Parallel()
		// Cut in the middle of record 7's payload.
		resumeFrom(t, 7, func(b []byte) []byte { return b[:(ends[6]+ends[7])/2] })
	})
	t.Run("torn header", func(t *testing.T) {
		t.Parallel()
		resumeFrom(t, 7, func(b []byte) []byte { return b[:ends[6]+5] })
	})
	t.Run("cut between records", func(t *testing.T) {
		t.Parallel()
		resumeFrom(t, 12, func(b []byte) []byte { return b[:ends[11]] })
	})
	t.Run("garbage appended", func(t *testing.T) {
		t.Parallel()
		resumeFrom(t, 9, func(b []byte) []byte {
			g := append(b[:ends[8]:ends[8]], "\x00\xff R 9 12 deadbeef\nnot a record"...)
			return append(g, "R 9 5 00000000\n{}\n\n\n"...)
		})
	})
	t.Run("garbage after the last record", func(t *testing.T) {
		t.Parallel()
		resumeFrom(t, gridRuns, func(b []byte) []byte { return append(b, bytes.Repeat([]byte("R 1 2 3\n"), 1<<16)...) })
	})
	t.Run("huge length", func(t *testing.T) {
		t.Parallel()
		// A header that promises more bytes than a disk holds.
		resumeFrom(t, 4, func(b []byte) []byte { return append(b[:ends[3]:ends[3]], "R 4 9999999999 00000000\n{}"...) })
	})
	t.Run("corrupt record", func(t *testing.T) {
		t.Parallel()
		// A flipped byte in record 5 fails its checksum: 5 and later are
		// run again.
		resumeFrom(t, 5, func(b []byte) []byte { b[ends[5]-10] ^= 1; return b })
	})
	t.Run("empty log", func(t *testing.T) {
		t.Parallel()
		resumeFrom(t, 0, func(b []byte) []byte { return nil })
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		for attempt := 0; ; attempt++ {
			d := filepath.Join(t.TempDir(), "cancelled")
			done := cancelAfter(t, []string{"sweep", file, "-o", d, "--workers", "1", "--quiet"}, filepath.Join(d, runLogName), 3)
			if done < 0 {
				if attempt < 3 {
					continue // the sweep ended before the cancel reached it
				}
				t.Fatal("the sweep always ended before it could be cancelled")
			}
			if exists(filepath.Join(d, "runs.csv")) {
				t.Error("an interrupted sweep wrote runs.csv")
			}
			r := mustRun(t, "sweep", "--no-plots", file, "-o", d, "--resume", "--workers", "2")
			if want := fmt.Sprintf("resuming: %d of %d runs already done\n", done, gridRuns); !strings.HasPrefix(r.stderr, want) {
				t.Errorf("stderr does not start with %q:\n%s", want, r.stderr)
			}
			sameFiles(t, ref, d, resultCSVs...)
			return
		}
	})
	t.Run("cancelled shard", func(t *testing.T) {
		t.Parallel()
		// The way to resume names the shard.
		d := filepath.Join(t.TempDir(), "grid")
		args := []string{"sweep", file, "-o", d, "--shard", "0/2", "--workers", "1", "--quiet"}
		var out, errb bytes.Buffer
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if code := dispatch(ctx, args, &out, &errb); code != exitFailure {
			t.Fatalf("exit %d, want %d\nstderr: %s", code, exitFailure, errb.String())
		}
		want := fmt.Sprintf("rewardmix sweep: interrupted: %s-shard-0 holds the finished runs; continue with: rewardmix sweep %s -o %s --shard 0/2 --resume\n", d, file, d)
		if errb.String() != want {
			t.Errorf("stderr %q, want %q", errb.String(), want)
		}
		mustRun(t, append(args[:len(args)-1], "--resume")...)
		if n := len(logIndicesQuiet(filepath.Join(d+"-shard-0", runLogName))); n != gridRuns/2 {
			t.Errorf("the resumed shard holds %d runs, want %d", n, gridRuns/2)
		}
	})
}

// cancelAfter runs the command with a context that it cancels once the run
// log at logPath holds at least n records. It checks that the command then
// reports an interruption (exit 1, with the way to resume) and returns the
// number of runs in the log, or -1 if the command finished first.
func cancelAfter(t *testing.T, args []string, logPath string, n int) int {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if countRecords(logPath) >= n {
				cancel()
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	var out, errb bytes.Buffer
	code := dispatch(ctx, args, &out, &errb)
	if code == exitOK && len(logIndicesQuiet(logPath)) == gridRuns {
		return -1
	}
	if code != exitFailure {
		t.Fatalf("cancelled sweep: exit %d, want %d\nstderr: %s", code, exitFailure, errb.String())
	}
	if !strings.Contains(errb.String(), "interrupted") || !strings.Contains(errb.String(), "--resume") {
		t.Errorf("cancelled sweep: stderr %q does not say it was interrupted and how to resume", errb.String())
	}
	got := logIndicesQuiet(logPath)
	for k, i := range got {
		if i != k {
			t.Fatalf("the log of the cancelled sweep holds runs %v", got)
		}
	}
	return len(got)
}

// logIndicesQuiet is logIndices for a log that may be missing or growing.
func logIndicesQuiet(path string) []int {
	var idx []int
	scanLog(path, func(rec *logRecord) error { idx = append(idx, rec.row.Index); return nil })
	return idx
}

// TestSweepFiles checks the columns of runs.csv and agg.csv against the
// sweep's runs and steps.csv, and one confidence interval by hand.
func TestSweepFiles(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := writeFile(t, tmp, "grid.toml", gridSweep)
	d := filepath.Join(tmp, "out")
	mustRun(t, "sweep", "--no-plots", file, "-o", d, "--quiet")
	s, err := configs.LoadSweep(file, []byte(gridSweep), nil, configs.DefaultMaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	axes := []string{"signals.thumbs.weight", "train.learning_rate"}

	// steps.csv: run_id,step,metric,value, runs in order; its metric names
	// in order are runs.csv's metric columns.
	steps := readCSV(t, filepath.Join(d, "steps.csv"))
	if got := strings.Join(steps[0], ","); got != "run_id,step,metric,value" {
		t.Fatalf("steps.csv header %q", got)
	}
	var metrics []string
	final := map[string]map[string]string{} // run id -> metric -> last value
	for _, row := range steps[1:] {
		if row[0] == "r00" && row[1] == "0" {
			metrics = append(metrics, row[2])
		}
		if final[row[0]] == nil {
			final[row[0]] = map[string]string{}
		}
		if row[1] == "40" {
			final[row[0]][row[2]] = row[3]
		}
	}
	if len(metrics) < 10 || len(steps)-1 != gridRuns*41*len(metrics) {
		t.Fatalf("steps.csv has %d rows and %d metrics, want %d runs x 41 steps x each metric", len(steps)-1, len(metrics), gridRuns)
	}

	// After the step metrics, runs.csv holds each run's release outcome
	// (sim.Result.Outcome), under the same names for every run.
	var outcomes []string
	seen := map[string]bool{}
	for i := 0; i < gridRuns; i++ {
		cfg, err := s.Config(s.Run(i))
		if err != nil {
			t.Fatal(err)
		}
		res, err := sim.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		names, values := res.Outcome()
		for k, n := range names {
			final[s.Run(i).ID][n] = formatValue(values[k])
			if !seen[n] {
				seen[n] = true
				outcomes = append(outcomes, n)
			}
		}
	}
	if len(outcomes) == 0 {
		t.Fatal("the sweep's runs have no release outcome")
	}
	metrics = append(append([]string(nil), metrics...), outcomes...)

	runs := readCSV(t, filepath.Join(d, "runs.csv"))
	wantHead := append(append(append([]string{"run_id", "seed"}, axes...), metrics...), "status", "error")
	if got := strings.Join(runs[0], ","); got != strings.Join(wantHead, ",") {
		t.Fatalf("runs.csv header\n %s\nwant\n %s", got, strings.Join(wantHead, ","))
	}
	if len(runs)-1 != gridRuns {
		t.Fatalf("runs.csv has %d rows, want %d", len(runs)-1, gridRuns)
	}
	for i, row := range runs[1:] {
		r := s.Run(i)
		want := []string{r.ID, strconv.FormatUint(r.Seed, 10), configs.FormatParam(r.Params[0]), configs.FormatParam(r.Params[1])}
		for _, m := range metrics {
			want = append(want, final[r.ID][m])
		}
		want = append(want, "ok", "")
		if strings.Join(row, ",") != strings.Join(want, ",") {
			t.Errorf("runs.csv row %d\n %v\nwant\n %v", i, row, want)
		}
	}
	if runs[4][2] != "0.5" || runs[4][3] != "0.04" {
		t.Errorf("run r03 has %s = %s, %s = %s; want 0.5, 0.04", axes[0], runs[4][2], axes[1], runs[4][3])
	}

	// agg.csv: per point and metric, in run order.
	agg := readCSV(t, filepath.Join(d, "agg.csv"))
	if got := strings.Join(agg[0], ","); got != strings.Join(axes, ",")+",metric,n,mean,sd,ci_low,ci_high" {
		t.Fatalf("agg.csv header %q", got)
	}
	if len(agg)-1 != s.Points()*len(metrics) {
		t.Fatalf("agg.csv has %d rows, want %d points x %d metrics", len(agg)-1, s.Points(), len(metrics))
	}
	for k, row := range agg[1:] {
		p, m := k/len(metrics), metrics[k%len(metrics)]
		r := s.Run(p * len(s.Seeds))
		if row[0] != configs.FormatParam(r.Params[0]) || row[1] != configs.FormatParam(r.Params[1]) || row[2] != m || row[3] != "3" {
			t.Errorf("agg.csv row %d: %v, want point %s metric %s n 3", k, row, s.Describe(r), m)
		}
	}
	// By hand, point 4 (thumbs weight 2, learning rate 0.04), seeds in
	// rows 12, 13, 14 of runs.csv.
	tq := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: 2}.Quantile(0.975)
	if math.Abs(tq-4.302652729911275) > 1e-9 {
		t.Fatalf("t quantile %v, want 4.3027 (two-sided 95%%, 2 degrees of freedom)", tq)
	}
	for mi, m := range metrics {
		var xs []float64
		for _, row := range runs[13:16] {
			xs = append(xs, parseFloat(t, row[4+mi]))
		}
		mean := (xs[0] + xs[1] + xs[2]) / 3
		sd := math.Sqrt(((xs[0]-mean)*(xs[0]-mean) + (xs[1]-mean)*(xs[1]-mean) + (xs[2]-mean)*(xs[2]-mean)) / 2)
		half := tq * sd / math.Sqrt(3)
		row := agg[1+4*len(metrics)+mi]
		if row[0] != "2.0" || row[1] != "0.04" || row[2] != m {
			t.Fatalf("agg.csv row for point 4, %s: %v", m, row)
		}
		for j, want := range []float64{mean, sd, mean - half, mean + half} {
			got := parseFloat(t, row[4+j])
			if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
				t.Errorf("agg.csv %s of %s at point 4: %v, want %v", agg[0][4+j], m, got, want)
			}
		}
	}

	// manifest.json describes the sweep.
	man, err := readManifest(d)
	if err != nil {
		t.Fatal(err)
	}
	if man.Tool != "rewardmix" || man.Version == "" || man.SweepHash != s.Hash() || man.Runs != gridRuns ||
		man.Points != 6 || man.Mode != "grid" || fmt.Sprint(man.Seeds) != "[1 2 3]" ||
		man.Shard != (shardInfo{Index: 0, Count: 1, Runs: gridRuns}) || man.BaseConfig != string(configs.Encode(s.Base)) ||
		len(man.Axes) != 2 || man.Axes[1].Key != axes[1] || fmt.Sprint(man.Axes[1].Values) != "[0.02 0.04 0.06]" {
		t.Errorf("manifest.json: %+v", man)
	}
	// sweep.toml is the resolved sweep.
	s2, err := configs.LoadSweep("sweep.toml", readFile(t, filepath.Join(d, sweepName)), nil, configs.DefaultMaxRuns)
	if err != nil || s2.Hash() != s.Hash() {
		t.Errorf("sweep.toml does not load to the same sweep: %v", err)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(readFile(t, path)))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return f
}

// TestSweepShow: show prints a run's config, which run reproduces: its
// steps.csv is that run's rows of the sweep's steps.csv.
func TestSweepShow(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := writeFile(t, tmp, "grid.toml", gridSweep)
	d := filepath.Join(tmp, "grid")
	mustRun(t, "sweep", "--no-plots", file, "-o", d, "--quiet", "--shard", "1/2")
	shard := d + "-shard-1"
	var want bytes.Buffer
	want.WriteString("step,metric,value\n")
	for _, line := range strings.SplitAfter(string(readFile(t, filepath.Join(shard, "steps.csv"))), "\n") {
		if rest, ok := strings.CutPrefix(line, "r07,"); ok {
			want.WriteString(rest)
		}
	}
	r := mustRun(t, "show", shard, "r07")
	cfgFile := writeFile(t, tmp, "r07.toml", r.stdout)
	s, err := configs.LoadSweep(file, []byte(gridSweep), nil, configs.DefaultMaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.Config(s.Run(7))
	if err != nil {
		t.Fatal(err)
	}
	if r.stdout != string(configs.Encode(cfg)) {
		t.Errorf("show printed\n%s\nwant\n%s", r.stdout, configs.Encode(cfg))
	}
	rd := filepath.Join(tmp, "r07")
	mustRun(t, "run", "--no-plots", cfgFile, "-o", rd)
	if got := readFile(t, filepath.Join(rd, "steps.csv")); !bytes.Equal(got, want.Bytes()) || want.Len() < 1000 {
		t.Errorf("run of the shown config wrote a steps.csv (%d bytes) unlike run r07's rows of the sweep (%d bytes)", len(got), want.Len())
	}

	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no such run", []string{"show", shard, "r18"}, `has no run "r18"`},
		{"unpadded id", []string{"show", shard, "r7"}, `has no run "r7"`},
		{"not a sweep folder", []string{"show", tmp, "r07"}, "is not a sweep folder"},
		{"one argument", []string{"show", shard}, "want a sweep folder and a run_id"},
	} {
		r := rewardmix(t, tc.args...)
		if r.code != exitInput || !strings.Contains(r.stderr, tc.msg) || r.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.name, r.code, r.stdout, r.stderr, tc.msg)
		}
	}
}

// TestSweepDryRun: --dry-run lists the runs and writes nothing.
func TestSweepDryRun(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := writeFile(t, tmp, "grid.toml", gridSweep)
	d := filepath.Join(tmp, "out")
	s, err := configs.LoadSweep(file, []byte(gridSweep), nil, configs.DefaultMaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	for _, shard := range []struct {
		flag string
		runs []int
	}{{"0/1", nil}, {"2/5", []int{2, 7, 12, 17}}} {
		r := mustRun(t, "sweep", file, "-o", d, "--dry-run", "--shard", shard.flag)
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		runs := shard.runs
		if runs == nil {
			for i := 0; i < gridRuns; i++ {
				runs = append(runs, i)
			}
		}
		want := []string{
			fmt.Sprintf("%s: 18 runs (6 points x 3 seeds, mode grid); shard %s holds %d", file, shard.flag, len(runs)),
			"run_id\tseed\tsignals.thumbs.weight\ttrain.learning_rate",
		}
		for _, i := range runs {
			run := s.Run(i)
			want = append(want, fmt.Sprintf("%s\t%d\t%s\t%s", run.ID, run.Seed, configs.FormatParam(run.Params[0]), configs.FormatParam(run.Params[1])))
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Errorf("--dry-run --shard %s printed\n%s\nwant\n%s", shard.flag, r.stdout, strings.Join(want, "\n"))
		}
	}
	if !strings.Contains(mustRun(t, "sweep", file, "--dry-run").stdout, "r17\t") {
		t.Error("--dry-run without -o does not list the runs")
	}
	if got := listDir(t, tmp); strings.Join(got, " ") != "grid.toml" {
		t.Errorf("--dry-run wrote %v", got)
	}
}

// TestSweepRefusals: a sweep folder is resumed only when asked, only for
// the same sweep, and foreign folders are never touched.
func TestSweepRefusals(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	const small = sweepHead + `
[sweep]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 2.0]
`
	file := writeFile(t, tmp, "small.toml", small)
	changed := writeFile(t, tmp, "changed.toml", strings.Replace(small, "[0.5, 2.0]", "[0.5, 3.0]", 1))
	d := filepath.Join(tmp, "out")
	mustRun(t, "sweep", "--no-plots", file, "-o", d, "--quiet")
	finished := snapshot(t, d)

	refuse := func(what string, want string, args ...string) {
		t.Helper()
		r := rewardmix(t, args...)
		if r.code != exitInput {
			t.Errorf("%s: exit %d, want 2\nstderr: %s", what, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, want) {
			t.Errorf("%s: stderr %q lacks %q", what, r.stderr, want)
		}
	}
	refuse("again without --resume", "--resume", "sweep", file, "-o", d, "--quiet")
	sameSnapshot(t, "refused rerun", snapshot(t, d), finished)
	refuse("changed sweep with --resume", "--force", "sweep", changed, "-o", d, "--resume", "--quiet")
	refuse("changed sweep", "different sweep", "sweep", changed, "-o", d, "--quiet")
	sameSnapshot(t, "refused resume of a changed sweep", snapshot(t, d), finished)

	// A finished sweep resumed does nothing and changes nothing.
	r := mustRun(t, "sweep", "--no-plots", file, "-o", d, "--resume", "--quiet")
	if !strings.Contains(r.stdout, "2 runs (0 this time, 0 failed)") {
		t.Errorf("resuming a finished sweep: %q", r.stdout)
	}
	sameSnapshot(t, "resumed finished sweep", snapshot(t, d), finished)

	// --force starts over with the new sweep.
	r = mustRun(t, "sweep", "--no-plots", changed, "-o", d, "--force", "--quiet")
	if !strings.Contains(r.stdout, "2 runs (2 this time, 0 failed)") {
		t.Errorf("--force: %q", r.stdout)
	}
	fresh := filepath.Join(tmp, "fresh")
	mustRun(t, "sweep", "--no-plots", changed, "-o", fresh, "--quiet")
	sameFiles(t, fresh, d, append(resultCSVs, runLogName, sweepName)...)

	// Folders that do not hold a sweep.
	foreign := filepath.Join(tmp, "foreign")
	writeFile(t, foreign, "notes.txt", "mine\n")
	writeFile(t, foreign, "runs.csv", "mine too\n")
	before := snapshot(t, foreign)
	refuse("foreign folder", "does not hold a rewardmix sweep", "sweep", file, "-o", foreign, "--quiet")
	refuse("foreign folder, --resume", "does not hold a rewardmix sweep", "sweep", file, "-o", foreign, "--resume", "--quiet")
	refuse("foreign folder, --force", "does not hold a rewardmix sweep", "sweep", file, "-o", foreign, "--force", "--quiet")
	sameSnapshot(t, "foreign folder", snapshot(t, foreign), before)
	notDir := writeFile(t, tmp, "file", "x")
	refuse("a file as the folder", "not a folder", "sweep", file, "-o", notDir, "--quiet")
	if string(readFile(t, notDir)) != "x" {
		t.Error("the file given as the output folder changed")
	}
	// An empty folder is fine.
	empty := filepath.Join(tmp, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "sweep", "--no-plots", file, "-o", empty, "--quiet")
}

// divergeSweep's second point diverges: absolute weights of 1e200.
var divergeSweep = strings.Replace(sweepHead, "update_step = 20\n", "update_step = 20\nweights = \"absolute\"\n", 1) + `
[sweep]
seeds = [1, 2]

[[sweep.axis]]
key = "signals.spec.weight"
values = [1.0, 1e200, 2.0]
`

// TestSweepFailedRuns: a run that diverges is recorded as failed, the
// others complete, and the exit status says so; --fail-fast stops at it.
func TestSweepFailedRuns(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	text := divergeSweep
	file := writeFile(t, tmp, "diverge.toml", text)

	// First, the point on its own diverges.
	single := writeFile(t, tmp, "single.toml", strings.Split(text, "[sweep]")[0]+"\n[signals.spec]\nweight = 1e200\n")
	var out, errb bytes.Buffer
	err := runRun(t.Context(), []string{single, "--no-plots", "-o", filepath.Join(tmp, "single")}, &out, &errb)
	var de *sim.DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("run of the diverging point: %v, want a *sim.DivergedError", err)
	}
	if exitCode(err) != exitFailure {
		t.Errorf("a diverged run exits %d, want %d", exitCode(err), exitFailure)
	}

	d := filepath.Join(tmp, "out")
	r := rewardmix(t, "sweep", "--no-plots", file, "-o", d, "--workers", "2")
	if r.code != exitFailure {
		t.Fatalf("exit %d, want %d\nstderr: %s", r.code, exitFailure, r.stderr)
	}
	if want := fmt.Sprintf("rewardmix sweep: 2 of 6 runs failed; see the status and error columns of %s\n", filepath.Join(d, "runs.csv")); !strings.HasSuffix(r.stderr, want) {
		t.Errorf("stderr does not end with %q:\n%s", want, r.stderr)
	}
	if strings.Count(r.stderr, ") failed: "+de.Error()) != 2 {
		t.Errorf("stderr does not note each failed run:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "6 runs (6 this time, 2 failed)") {
		t.Errorf("stdout %q", r.stdout)
	}
	runs := readCSV(t, filepath.Join(d, "runs.csv"))
	for i, row := range runs[1:] {
		status, msg := row[len(row)-2], row[len(row)-1]
		failed := i == 2 || i == 3
		switch {
		case failed && (status != "failed" || msg != de.Error()):
			t.Errorf("run %d: status %q, error %q; want failed, %q", i, status, msg, de.Error())
		case failed && strings.Join(row[3:len(row)-2], "") != "":
			t.Errorf("run %d failed but has metric values %v", i, row[3:len(row)-2])
		case !failed && (status != "ok" || msg != "" || row[3] == ""):
			t.Errorf("run %d: status %q, error %q, first metric %q; want ok", i, status, msg, row[3])
		}
	}
	// agg.csv has no rows for the failed point; steps.csv no rows of its runs.
	for _, row := range readCSV(t, filepath.Join(d, "agg.csv"))[1:] {
		if row[0] == "1e+200" {
			t.Errorf("agg.csv aggregates failed runs: %v", row)
			break
		}
		if row[2] != "2" {
			t.Errorf("agg.csv row %v: n is not 2", row)
			break
		}
	}
	if steps := string(readFile(t, filepath.Join(d, "steps.csv"))); strings.Contains(steps, "\nr2,") || strings.Contains(steps, "\nr3,") {
		t.Error("steps.csv holds rows of failed runs")
	}
	// Resuming does not retry them.
	r = rewardmix(t, "sweep", "--no-plots", file, "-o", d, "--resume", "--quiet")
	if r.code != exitFailure || !strings.Contains(r.stdout, "(0 this time, 2 failed)") {
		t.Errorf("resume of a sweep with failed runs: exit %d, stdout %q", r.code, r.stdout)
	}

	// --fail-fast stops at run 2, the first failure, and --resume goes on.
	ff := filepath.Join(tmp, "ff")
	r = rewardmix(t, "sweep", "--no-plots", file, "-o", ff, "--workers", "2", "--fail-fast", "--quiet")
	if r.code != exitFailure || !strings.Contains(r.stderr, "--fail-fast") {
		t.Errorf("--fail-fast: exit %d, stderr %q; want exit 1 naming --fail-fast", r.code, r.stderr)
	}
	if got := logIndices(t, filepath.Join(ff, runLogName)); fmt.Sprint(got) != "[0 1 2]" {
		t.Errorf("--fail-fast left runs %v in the log, want [0 1 2]", got)
	}
	if exists(filepath.Join(ff, "runs.csv")) {
		t.Error("--fail-fast wrote runs.csv")
	}
	r = rewardmix(t, "sweep", "--no-plots", file, "-o", ff, "--resume", "--quiet")
	if r.code != exitFailure || !strings.Contains(r.stdout, "(3 this time, 2 failed)") {
		t.Errorf("resume after --fail-fast: exit %d, stdout %q", r.code, r.stdout)
	}
	sameFiles(t, d, ff, resultCSVs...)
}

func TestResolveShard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		flag string
		env  map[string]string
		want shardInfo // Count 0: an input error
	}{
		{name: "nothing", want: shardInfo{0, 1, 0}},
		{name: "flag", flag: "3/16", want: shardInfo{3, 16, 0}},
		{name: "flag with spaces", flag: " 1 / 2 ", want: shardInfo{1, 2, 0}},
		{name: "flag beats env", flag: "1/2", env: map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "8"}, want: shardInfo{1, 2, 0}},
		{name: "flag i = n", flag: "16/16"},
		{name: "flag negative", flag: "-1/4"},
		{name: "flag n = 0", flag: "0/0"},
		{name: "flag without n", flag: "3"},
		{name: "flag not a number", flag: "a/4"},
		{name: "slurm", env: map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "8"}, want: shardInfo{5, 8, 0}},
		{name: "slurm from 0", env: map[string]string{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "0"}, want: shardInfo{0, 8, 0}},
		{name: "slurm from 1, first", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}, want: shardInfo{0, 4, 0}},
		{name: "slurm from 1, last", env: map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}, want: shardInfo{3, 4, 0}},
		{name: "slurm past the end", env: map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}},
		{name: "slurm from 1 without min", env: map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"}},
		{name: "slurm without count", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1"}},
		{name: "slurm bad id", env: map[string]string{"SLURM_ARRAY_TASK_ID": "one", "SLURM_ARRAY_TASK_COUNT": "4"}},
		{name: "slurm bad min", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "x"}, want: shardInfo{1, 4, 0}},
		{name: "slurm count 0", env: map[string]string{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "0"}},
		{name: "slurm before k8s", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "3"}, want: shardInfo{1, 2, 0}},
		{name: "k8s", env: map[string]string{"JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "3"}, want: shardInfo{2, 3, 0}},
		{name: "k8s first", env: map[string]string{"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "1"}, want: shardInfo{0, 1, 0}},
		{name: "k8s without completions", env: map[string]string{"JOB_COMPLETION_INDEX": "2"}},
		{name: "k8s index = completions", env: map[string]string{"JOB_COMPLETION_INDEX": "3", "JOB_COMPLETIONS": "3"}},
		{name: "k8s bad completions", env: map[string]string{"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "many"}},
	}
	for _, tc := range tests {
		got, err := resolveShard(tc.flag, func(k string) string { return tc.env[k] })
		if tc.want.Count == 0 {
			if err == nil || exitCode(err) != exitInput {
				t.Errorf("%s: got %+v, %v; want an input error", tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

// TestSweepShardEnv: the shard comes from the array job's environment, and
// a bad environment is an input error that writes nothing. (No t.Parallel:
// it sets environment variables.)
func TestSweepShardEnv(t *testing.T) {
	tmp := t.TempDir()
	file := writeFile(t, tmp, "grid.toml", gridSweep)
	d := filepath.Join(tmp, "grid")
	t.Setenv("SLURM_ARRAY_TASK_ID", "3")
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "3")
	t.Setenv("SLURM_ARRAY_TASK_MIN", "1")
	r := rewardmix(t, "sweep", file, "-o", d, "--dry-run")
	if r.code != exitOK || !strings.Contains(r.stdout, "shard 2/3 holds 6") {
		t.Errorf("Slurm task 3 of 1-3: exit %d, stdout %q", r.code, r.stdout)
	}
	t.Setenv("SLURM_ARRAY_TASK_ID", "")
	t.Setenv("JOB_COMPLETION_INDEX", "1")
	t.Setenv("JOB_COMPLETIONS", "4")
	r = rewardmix(t, "sweep", file, "-o", d, "--dry-run")
	if r.code != exitOK || !strings.Contains(r.stdout, "shard 1/4 holds 5") {
		t.Errorf("Indexed Job index 1 of 4: exit %d, stdout %q", r.code, r.stdout)
	}
	t.Setenv("JOB_COMPLETIONS", "")
	r = rewardmix(t, "sweep", "--no-plots", file, "-o", d, "--quiet")
	if r.code != exitInput || !strings.Contains(r.stderr, "JOB_COMPLETIONS") {
		t.Errorf("JOB_COMPLETION_INDEX without JOB_COMPLETIONS: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Setenv("JOB_COMPLETIONS", "1")
	r = rewardmix(t, "sweep", "--no-plots", file, "-o", d, "--quiet")
	if r.code != exitInput || !strings.Contains(r.stderr, "JOB_COMPLETION_INDEX") {
		t.Errorf("JOB_COMPLETION_INDEX 1 of 1: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := listDir(t, tmp); strings.Join(got, " ") != "grid.toml" {
		t.Errorf("refused sweeps wrote %v", got)
	}
}

// TestMergeRefusals: merge needs every shard of one sweep, once, complete.
func TestMergeRefusals(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	const small = sweepHead + `
[sweep]
seeds = [1, 2]
[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 1.0, 2.0]
`
	a := writeFile(t, tmp, "a.toml", small)
	b := writeFile(t, tmp, "b.toml", strings.Replace(small, "seeds = [1, 2]", "seeds = [1, 3]", 1))
	shardsOf := func(file, base string, n int) []string {
		var dirs []string
		for i := 0; i < n; i++ {
			mustRun(t, "sweep", "--no-plots", file, "-o", filepath.Join(tmp, base), "--shard", fmt.Sprintf("%d/%d", i, n), "--quiet")
			dirs = append(dirs, fmt.Sprintf("%s-shard-%d", filepath.Join(tmp, base), i))
		}
		return dirs
	}
	sa, sb, s2 := shardsOf(a, "a", 3), shardsOf(b, "b", 3), shardsOf(a, "a2", 2)
	// An incomplete shard: a copy of shard 1 whose log lost its last run.
	inc := filepath.Join(tmp, "incomplete")
	if err := os.Mkdir(inc, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{manifestName, sweepName} {
		copyFile(t, filepath.Join(sa[1], f), filepath.Join(inc, f))
	}
	ends, _ := logEnds(t, filepath.Join(sa[1], runLogName))
	if err := os.WriteFile(filepath.Join(inc, runLogName), readFile(t, filepath.Join(sa[1], runLogName))[:ends[0]], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "merged")
	for _, tc := range []struct {
		name   string
		shards []string
		msg    string
	}{
		{"missing shard", []string{sa[0], sa[2]}, "shard 1/3 is missing"},
		{"duplicate shard", []string{sa[0], sa[1], sa[1], sa[2]}, "are both shard 1/3"},
		{"different sweeps", []string{sa[0], sb[1], sa[2]}, "holds a different sweep"},
		{"different splits", []string{sa[0], s2[1], sa[2]}, "is shard 1/2"},
		{"incomplete shard", []string{sa[0], inc, sa[2]}, "is incomplete: 1 of its 2 runs"},
		{"not a sweep folder", []string{sa[0], tmp, sa[1], sa[2]}, "is not a sweep folder"},
		{"no shards", nil, "at least one shard folder"},
	} {
		r := rewardmix(t, append([]string{"merge", "-o", out}, tc.shards...)...)
		if r.code != exitInput || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", tc.name, r.code, r.stderr, tc.msg)
		}
		if exists(out) {
			t.Fatalf("%s: merge wrote %s", tc.name, out)
		}
	}
	// Merging into a shard, even with --force, would destroy it.
	before := snapshot(t, sa[0])
	for _, flags := range [][]string{nil, {"--force"}} {
		r := rewardmix(t, append(append([]string{"merge", "-o", sa[0] + "/"}, flags...), sa...)...)
		if r.code != exitInput || !strings.Contains(r.stderr, "is one of the shards") {
			t.Errorf("merge %v into shard 0: exit %d, stderr %q", flags, r.code, r.stderr)
		}
	}
	sameSnapshot(t, "shard 0 after a merge into it", snapshot(t, sa[0]), before)

	// A good merge, then not again over it without --force.
	mustRun(t, append([]string{"merge", "-o", out}, sa...)...)
	merged := snapshot(t, out)
	r := rewardmix(t, append([]string{"merge", "-o", out}, sa...)...)
	if r.code != exitInput || !strings.Contains(r.stderr, "--force") {
		t.Errorf("merge over a merged folder: exit %d, stderr %q", r.code, r.stderr)
	}
	sameSnapshot(t, "refused merge", snapshot(t, out), merged)
	mustRun(t, append([]string{"merge", "-o", out, "--force"}, s2...)...)
	sameFiles(t, filepath.Join(tmp, "merged"), s2[0], sweepName)
	whole := filepath.Join(tmp, "whole")
	mustRun(t, "sweep", "--no-plots", a, "-o", whole, "--quiet")
	sameFiles(t, whole, out, resultCSVs...)
}

// TestSweepBadInput: bad sweep files and flags exit 2 with the file, line
// and key, and write nothing.
func TestSweepBadInput(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	const axis = "\n[[sweep.axis]]\nkey = \"signals.thumbs.weight\"\nvalues = [0.5, 1.0]\n"
	tests := []struct {
		name, text string
		args       []string
		re         string // must match the whole of stderr; FILE stands for the sweep file
	}{
		{name: "axis key not in config", text: "[sweep]\n[[sweep.axis]]\nkey = \"signals.thumbs.wieght\"\nvalues = [1.0]\n",
			re: `^rewardmix sweep: FILE:2[0-9]:1: sweep\.axis\[0\]\.key: signals\.thumbs\.wieght is not a key of the config[^\n]*\n$`},
		{name: "empty axis", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.beta\"\nvalues = []\n",
			re: `^rewardmix sweep: FILE:2[0-9]:1: sweep\.axis\[0\]\.values: empty axis[^\n]*\n$`},
		{name: "wrong type", text: "[sweep]\n[[sweep.axis]]\nkey = \"memory.enabled\"\nvalues = [\"yes\"]\n",
			re: `^rewardmix sweep: FILE:2[0-9]:1: sweep\.axis\[0\]\.values\[0\]: [^\n]*true or false[^\n]*\n$`},
		{name: "unknown mode", text: "[sweep]\nmode = \"lattice\"" + axis,
			re: `^rewardmix sweep: FILE:2[0-9]:1: sweep\.mode: unknown value "lattice"[^\n]*\n$`},
		{name: "too many runs", text: "[sweep]\nreplicates = 3" + axis, args: []string{"--max-runs", "5"},
			re: `^rewardmix sweep: FILE:2[0-9]:1: sweep: 2 parameter points x 3 seeds is more than the limit of 5 runs \(see --max-runs\)\n$`},
		{name: "invalid point", text: "[sweep]\n[[sweep.axis]]\nkey = \"train.update_step\"\nvalues = [10, 41]\n",
			re: `^rewardmix sweep: FILE:2[0-9]:1: sweep\.axis\[0\]: run r1 \(train\.update_step=41\) is not a valid config: train\.update_step: [^\n]*\n$`},
		{name: "no sweep table", text: "",
			re: `^rewardmix sweep: FILE: sweep: no \[sweep\] table[^\n]*\n$`},
		{name: "syntax", text: "[sweep\n",
			re: `^rewardmix sweep: FILE:2[0-9]:\d+: [^\n]*\n$`},
		{name: "no file", args: []string{}, re: `^rewardmix sweep: want one sweep file, got 0 arguments[^\n]*\n$`},
		{name: "missing file", args: []string{filepath.Join(tmp, "nosuch.toml")}, re: `^rewardmix sweep: [^\n]*nosuch\.toml: no such file\n$`},
		{name: "workers 0", text: "[sweep]" + axis, args: []string{"--workers", "0"}, re: `^rewardmix sweep: --workers 0: want 1 to 1024\n$`},
		{name: "max-runs 0", text: "[sweep]" + axis, args: []string{"--max-runs", "0"}, re: `^rewardmix sweep: --max-runs 0: want at least 1\n$`},
		{name: "shard 2/2", text: "[sweep]" + axis, args: []string{"--shard", "2/2"}, re: `^rewardmix sweep: --shard: want shard i/n with 0 <= i < n, got 2/2\n$`},
		{name: "shard 1", text: "[sweep]" + axis, args: []string{"--shard", "1"}, re: `^rewardmix sweep: --shard 1: want i/n[^\n]*\n$`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"sweep", "-o", out, "--quiet"}
			file := ""
			if tc.args == nil || tc.text != "" {
				file = writeFile(t, tmp, fmt.Sprintf("bad%d.toml", i), sweepHead+"\n"+tc.text)
				args = append(args, file)
			}
			args = append(args, tc.args...)
			r := rewardmix(t, args...)
			if r.code != exitInput {
				t.Errorf("exit %d, want 2\nstderr: %s", r.code, r.stderr)
			}
			re := strings.ReplaceAll(tc.re, "FILE", regexp.QuoteMeta(file))
			if !regexp.MustCompile(re).MatchString(r.stderr) {
				t.Errorf("stderr %q does not match %s", r.stderr, re)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
			if exists(out) {
				t.Fatalf("a refused sweep created %s", out)
			}
		})
	}
}

// killSweep is 120 runs of the full incident preset: a few seconds.
const killSweep = `extends = "incident"

[sweep]
replicates = 10

[[sweep.axis]]
key = "signals.thumbs.weight"
linspace = [0.25, 3.0, 12]
`

// countRecords counts the whole records of a run log from their headers
// alone, cheaply enough to poll a growing log.
func countRecords(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	var off int64
	buf := make([]byte, 64)
	for n := 0; ; n++ {
		k, _ := f.ReadAt(buf, off)
		nl := bytes.IndexByte(buf[:k], '\n')
		var idx, length int
		var crc uint32
		if nl < 0 {
			return n
		}
		if _, err := fmt.Sscanf(string(buf[:nl+1]), "R %d %d %08x\n", &idx, &length, &crc); err != nil {
			return n
		}
		off += int64(nl + 1 + length)
		if off > fi.Size() {
			return n
		}
	}
}

// TestSweepKill9 kills the command with SIGKILL twice while it writes runs,
// once in the first run and once while resuming, then resumes it to the
// end: its results are byte for byte those of an uninterrupted sweep.
func TestSweepKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs sweeps for seconds")
	}
	t.Parallel()
	tmp := t.TempDir()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to build rewardmix with: %v", err)
	}
	bin := filepath.Join(tmp, "rewardmix")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	file := writeFile(t, tmp, "kill.toml", killSweep)
	const total = 120

	ref := filepath.Join(tmp, "ref")
	if out, err := exec.Command(bin, "sweep", file, "-o", ref, "--workers", "2", "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted sweep: %v\n%s", err, out)
	}

	d := filepath.Join(tmp, "killed")
	logPath := filepath.Join(d, runLogName)
	for kill, args := range [][]string{{}, {"--resume"}} {
		before := len(logIndicesQuiet(logPath))
		cmd := exec.Command(bin, append([]string{"sweep", file, "-o", d, "--workers", "2", "--quiet"}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.After(60 * time.Second)
	poll:
		for {
			select {
			case err := <-exited:
				t.Fatalf("kill %d: the sweep ended (%v) before it could be killed", kill, err)
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("kill %d: no new runs in the log after 60 s", kill)
			default:
			}
			if countRecords(logPath) >= before+3 {
				break poll
			}
			time.Sleep(time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		if err := <-exited; err == nil || cmd.ProcessState.Exited() {
			t.Fatalf("kill %d: the sweep was not killed but exited: %v", kill, err)
		}
		got := logIndicesQuiet(logPath)
		if len(got) < before+3 || len(got) >= total {
			t.Fatalf("kill %d: the log holds %d runs, want %d to %d", kill, len(got), before+3, total-1)
		}
		for k, i := range got {
			if i != k {
				t.Fatalf("kill %d: the log holds runs %v", kill, got)
			}
		}
		if exists(filepath.Join(d, "runs.csv")) {
			t.Fatalf("kill %d: runs.csv exists before the sweep ended", kill)
		}
	}
	done := len(logIndicesQuiet(logPath))
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "sweep", file, "-o", d, "--workers", "2", "--resume")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("resume after kill -9: %v\n%s", err, stderr.String())
	}
	if want := fmt.Sprintf("resuming: %d of %d runs already done\n", done, total); !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr does not start with %q:\n%s", want, stderr.String())
	}
	if want := fmt.Sprintf("(%d this time, 0 failed)", total-done); !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q lacks %q", stdout.String(), want)
	}
	sameFiles(t, ref, d, append(resultCSVs, runLogName)...)
}

func TestProgress(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := newProgress(&b, 10, 3, false)
	for i := 0; i < 7; i++ {
		p.step()
	}
	p.note("run r5 failed")
	p.finish()
	re := regexp.MustCompile(`^resuming: 3 of 10 runs already done\nrun r5 failed\n\[={30}\] 10/10 runs  [0-9.]+ runs/s  ETA 0s\n$`)
	if !re.MatchString(b.String()) {
		t.Errorf("progress on a file printed %q, want a match for %s", b.String(), re)
	}
	if p.line(p.began)[:32] != "[==============================]" {
		t.Errorf("bar of a finished sweep: %q", p.line(p.began))
	}

	// On a terminal the bar is redrawn in place, and a note clears it.
	b.Reset()
	p = newProgress(&b, 4, 0, false)
	p.tty = true
	p.last = p.began.Add(time.Hour) // no redraw before the end, however slow the machine
	p.step()
	p.note("msg")
	for i := 0; i < 3; i++ {
		p.step()
	}
	p.finish()
	want := regexp.MustCompile(`^\r\033\[Kmsg\n\r\033\[K\[={30}\] 4/4 runs  [0-9.]+ runs/s  ETA 0s\n$`)
	if !want.MatchString(b.String()) {
		t.Errorf("progress on a terminal printed %q, want a match for %s", b.String(), want)
	}
	half := (&progress{total: 4, done: 2}).line(time.Now())
	if !strings.HasPrefix(half, "[===============               ] 2/4 runs") {
		t.Errorf("half-done bar %q", half)
	}

	b.Reset()
	p = newProgress(&b, 4, 2, true)
	p.step()
	p.note("x")
	p.finish()
	if b.Len() != 0 {
		t.Errorf("quiet progress printed %q", b.String())
	}
}
