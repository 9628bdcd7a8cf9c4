package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewardmix/rewardmix/configs"
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

[output]
format = "csv"
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

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
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
		{"unpadded id", []string{"show", shard, "r7"}, `has no run "r7" (its run ids are r00 to r17; see runs.csv)`},
		{"a run into a sweep folder", []string{"run", "--no-plots", "incident", "-o", shard}, "is a sweep folder, which a run does not replace"},
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

// divergeSweep's second point diverges: absolute weights of 1e200.
var divergeSweep = strings.Replace(sweepHead, "update_step = 20\n", "update_step = 20\nweights = \"absolute\"\n", 1) + `
[sweep]
seeds = [1, 2]

[[sweep.axis]]
key = "signals.spec.weight"
values = [1.0, 1e200, 2.0]
`

// TestSweepFailedRuns: a sweep with runs that diverge notes each on
// stderr and exits 1 saying where to look; --fail-fast says how to go on.
func TestSweepFailedRuns(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := writeFile(t, tmp, "diverge.toml", divergeSweep)
	d := filepath.Join(tmp, "out")
	r := rewardmix(t, "sweep", "--no-plots", file, "-o", d, "--workers", "2")
	if r.code != exitFailure {
		t.Fatalf("exit %d, want %d\nstderr: %s", r.code, exitFailure, r.stderr)
	}
	if want := fmt.Sprintf("rewardmix sweep: 2 of 6 runs failed; see the status and error columns of %s\n", filepath.Join(d, "runs.csv")); !strings.HasSuffix(r.stderr, want) {
		t.Errorf("stderr does not end with %q:\n%s", want, r.stderr)
	}
	for _, id := range []string{"r2", "r3"} {
		if !strings.Contains(r.stderr, "run "+id+" (signals.spec.weight=1e+200) failed: training diverged at step") {
			t.Errorf("stderr does not note the failure of %s:\n%s", id, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "6 runs (6 this time, 2 failed)") {
		t.Errorf("stdout %q", r.stdout)
	}
	ff := filepath.Join(tmp, "ff")
	r = rewardmix(t, "sweep", "--no-plots", file, "-o", ff, "--workers", "2", "--fail-fast", "--quiet")
	if want := fmt.Sprintf("rewardmix sweep: stopped at the first failed run (--fail-fast); %s holds the runs finished before the last part of the steps table closed; continue with --resume\n", ff); r.code != exitFailure || r.stderr != want {
		t.Errorf("--fail-fast: exit %d, stderr %q; want exit 1 and %q", r.code, r.stderr, want)
	}
}

// TestSweepCommand: what the command prints and where it writes: one
// line of outcome, progress on stderr unless --quiet, the standard set of
// figures, DIR-shard-i for a shard, the way to resume an interrupted
// shard, refusals with exit 2.
func TestSweepCommand(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := writeFile(t, tmp, "grid.toml", gridSweep)
	ref := filepath.Join(tmp, "ref")
	r := mustRun(t, "sweep", file, "-o", ref, "--workers", "1")
	want := fmt.Sprintf("%s: %d runs (%d this time, 0 failed) -> %s/{runs.csv,steps.csv,agg.csv,manifest.json}\n", file, gridRuns, gridRuns, ref)
	if r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	if r.stderr != "" { // progress is for a terminal; this stderr is not one
		t.Errorf("stderr not on a terminal:\n%s", r.stderr)
	}
	if got := listDir(t, ref); strings.Join(got, " ") != "agg.csv drift.png frontier.png heatmap.png influence.png manifest.json runs.csv runs.log segments.png steps.csv sweep.toml" {
		t.Errorf("the sweep folder holds %v", got)
	}
	r = rewardmix(t, "sweep", file, "-o", ref, "--quiet")
	if r.code != exitInput || !strings.Contains(r.stderr, "continue it with --resume") {
		t.Errorf("a second sweep into the folder: exit %d, stderr %q", r.code, r.stderr)
	}

	base := filepath.Join(tmp, "grid")
	var shards []string
	for i := 0; i < 2; i++ {
		r := mustRun(t, "sweep", "--no-plots", file, "-o", base, "--shard", fmt.Sprintf("%d/2", i), "--quiet")
		d := fmt.Sprintf("%s-shard-%d", base, i)
		if r.stderr != "" || !strings.Contains(r.stdout, fmt.Sprintf(": 9 runs (9 this time, 0 failed) -> %s/", d)) {
			t.Errorf("shard %d: stdout %q, stderr %q", i, r.stdout, r.stderr)
		}
		shards = append(shards, d)
	}
	if exists(base) {
		t.Errorf("a shard wrote into %s", base)
	}
	merged := filepath.Join(tmp, "merged")
	r = mustRun(t, "merge", "-o", merged, shards[1], shards[0])
	if want := fmt.Sprintf("merged 2 shards, %d runs -> %s\n", gridRuns, merged); r.stdout != want {
		t.Errorf("merge stdout %q, want %q", r.stdout, want)
	}
	sameFiles(t, ref, merged, "runs.csv", "steps.csv", "agg.csv")
	if got := listDir(t, merged); !slices.Contains(got, "heatmap.png") {
		t.Errorf("the merged folder holds %v, without its figures", got)
	}

	// An interrupted shard: the way to resume names it.
	d := filepath.Join(tmp, "cut")
	args := []string{"sweep", file, "-o", d, "--shard", "0/2", "--workers", "1", "--quiet"}
	var out, errb bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if code := dispatch(ctx, args, &out, &errb); code != exitFailure {
		t.Fatalf("exit %d, want %d\nstderr: %s", code, exitFailure, errb.String())
	}
	want = fmt.Sprintf("rewardmix sweep: interrupted: %s-shard-0 holds the runs finished before the last part of the steps table closed; continue with: rewardmix sweep %s -o %s --shard 0/2 --resume\n", d, file, d)
	if errb.String() != want {
		t.Errorf("stderr %q, want %q", errb.String(), want)
	}
	r = mustRun(t, append(args[:len(args)-1], "--resume", "--no-plots")...)
	if !strings.Contains(r.stdout, "9 runs (9 this time, 0 failed)") {
		t.Errorf("the resumed shard: %q", r.stdout)
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

func TestProgress(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := newProgress(&b, 10, 3, false)
	for i := 0; i < 7; i++ {
		p.step()
	}
	p.note("run r5 failed")
	p.finish()
	// Not on a terminal: no bar, only what a log wants.
	if want := "resuming: 3 of 10 runs already done\nrun r5 failed\n"; b.String() != want {
		t.Errorf("progress on a file printed %q, want %q", b.String(), want)
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
