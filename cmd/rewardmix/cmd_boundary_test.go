package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/sim/sweep"
)

// boundarySweep searches the thumbs weight at which the short incident's
// sycophancy reaches 0.1 for three spec weights, the last of which never
// gets there in the bracket.
const boundarySweep = sweepHead + `
[sweep]
mode = "boundary"
metric = "sycophancy_rate"
level = 0.1
tolerance = 0.25
seeds = [1, 2]

[[sweep.axis]]
key = "signals.spec.weight"
values = [0.5, 1.0, 20.0]

[[sweep.axis]]
key = "signals.thumbs.weight"
bracket = [0.0, 4.0]
`

// TestBoundarySearch: a boundary search finds each crossing to the
// tolerance in 2 + ceil(log2(width / tolerance)) probes a point, reports a
// point without a crossing in its row, and gives the same boundary.csv
// sharded and merged, and after an interruption resumed; an existing
// folder without --resume, and bad definitions, are refused with exit 2.
func TestBoundarySearch(t *testing.T) {
	dir := t.TempDir()
	spec := writeFile(t, dir, "b.toml", boundarySweep)
	out := filepath.Join(dir, "b")
	r := mustRun(t, "sweep", "--quiet", "-o", out, spec)
	table := string(readFile(t, filepath.Join(out, "boundary.csv")))
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 4 || lines[0] != "signals.spec.weight,signals.thumbs.weight,signals.thumbs.weight_low,signals.thumbs.weight_high,sycophancy_rate_at_low,sycophancy_rate_at_high,runs,status" {
		t.Fatalf("boundary.csv:\n%s", table)
	}
	for _, l := range lines[1:3] {
		f := strings.Split(l, ",")
		if f[7] != "ok" || f[6] != "12" { // (2 + 4 probes) x 2 seeds
			t.Errorf("row %q: want ok after 12 runs", l)
		}
	}
	if f := strings.SplitN(lines[3], ",", 8); f[1] != "" || !strings.HasPrefix(f[7], "no crossing in the bracket") {
		t.Errorf("row %q: want no crossing", lines[3])
	}
	if !strings.Contains(r.stdout, "2 of 3 points crossed") {
		t.Errorf("stdout: %s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "boundary.png")); err != nil {
		t.Error("no boundary.png")
	}

	// Sharded and merged: the same table.
	for _, sh := range []string{"0/2", "1/2"} {
		mustRun(t, "sweep", "--quiet", "--no-plots", "--shard", sh, "-o", filepath.Join(dir, "s"), spec)
	}
	mustRun(t, "merge", "-o", filepath.Join(dir, "m"), filepath.Join(dir, "s-shard-0"), filepath.Join(dir, "s-shard-1"))
	if got := string(readFile(t, filepath.Join(dir, "m", "boundary.csv"))); got != table {
		t.Errorf("merged shards:\n%s\nwant\n%s", got, table)
	}

	// Interrupted after round 1's runs began: resumed, the same table.
	if err := os.Remove(filepath.Join(out, "boundary.csv")); err != nil {
		t.Fatal(err)
	}
	// The steps table goes back to the part it was joined from (one
	// part: fewer than sweep.PartRows rows), as before a crash.
	steps := readFile(t, filepath.Join(out, "round-1", "steps.csv"))
	if err := os.MkdirAll(filepath.Join(out, "round-1", sweep.PartsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "round-1", sweep.PartsDir, "000000.csv"), steps[bytes.IndexByte(steps, '\n')+1:], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"runs.csv", "agg.csv", "steps.csv"} {
		os.Remove(filepath.Join(out, "round-1", f))
	}
	os.RemoveAll(filepath.Join(out, "round-2"))
	if r := rewardmix(t, "sweep", "--quiet", "-o", out, spec); r.code != exitInput || !strings.Contains(r.stderr, "--resume") {
		t.Errorf("an existing search without --resume: exit %d, %s", r.code, r.stderr)
	}
	mustRun(t, "sweep", "--quiet", "--resume", "--no-plots", "-o", out, spec)
	if got := string(readFile(t, filepath.Join(out, "boundary.csv"))); got != table {
		t.Errorf("resumed:\n%s\nwant\n%s", got, table)
	}

	for _, c := range []struct{ text, want string }{
		{strings.Replace(boundarySweep, `metric = "sycophancy_rate"`, `metric = "sycophancy"`, 1), `record no metric "sycophancy"`},
		{strings.Replace(boundarySweep, "level = 0.1", "level = 1.5", 1), "outside (0, 1)"},
		{strings.Replace(boundarySweep, "tolerance = 0.25", "tolerance = 5.0", 1), "not less than the bracket's width"},
		{strings.Replace(boundarySweep, `values = [0.5, 1.0, 20.0]`, `bracket = [0.5, 2.0]`, 1), "runs along one axis"},
		{strings.Replace(boundarySweep, `mode = "boundary"`, `mode = "grid"`, 1), "applies to mode = \"boundary\" only"},
	} {
		p := writeFile(t, dir, "bad.toml", c.text)
		r := rewardmix(t, "sweep", "--quiet", "-o", filepath.Join(dir, "bad"), p)
		if r.code != exitInput || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "bad.toml:") {
			t.Errorf("want exit %d and %q; got %d, %s", exitInput, c.want, r.code, r.stderr)
		}
	}
}
