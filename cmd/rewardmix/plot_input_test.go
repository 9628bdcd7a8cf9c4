package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlotBadDataIsInputError: data a figure cannot be drawn from (a
// non-finite value in steps.csv) is the input's fault: exit 2, no file.
func TestPlotBadDataIsInputError(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	mustRun(t, "run", "baseline", "-o", run, "--no-plots")
	steps := filepath.Join(run, "steps.csv")
	data, err := os.ReadFile(steps)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", 3) // header, step 0's first metric (sycophancy_rate), rest
	if !strings.HasPrefix(lines[1], "0,sycophancy_rate,") {
		t.Fatalf("unexpected first row %q", lines[1])
	}
	lines[1] = "0,sycophancy_rate,NaN"
	if err := os.WriteFile(steps, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "fig.png")
	r := rewardmix(t, "plot", run, "--kind", "drift", "-o", out)
	if r.code != exitInput {
		t.Errorf("exit %d, want %d; stderr %q", r.code, exitInput, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed plot left %s", out)
	}
}

// TestPlotModeAxis: a sweep over a mode (a string axis) and one number has
// a standard set without a heatmap (it used to fail the whole set, and so
// the sweep's own figures), the heatmap defaults to the numeric axes, and
// asking for one over too few numeric axes is bad input.
func TestPlotModeAxis(t *testing.T) {
	dir := t.TempDir()
	// The weighting mode and the thumbs weight, and more axes.
	modes := func(more string) string {
		return sweepHead + `
[sweep]
seeds = [1]

[[sweep.axis]]
key = "train.weights"
values = ["absolute", "sum_to_one"]

[[sweep.axis]]
key = "signals.thumbs.weight"
values = [0.5, 2.0]
` + more
	}
	sw := writeFile(t, dir, "modes.toml", modes(`
[[sweep.axis]]
key = "signals.spec.weight"
values = [1.0, 2.0]
`))
	out := filepath.Join(dir, "out")
	mustRun(t, "sweep", sw, "-o", out, "--quiet")
	if _, err := os.Stat(filepath.Join(out, "heatmap.png")); err != nil {
		t.Errorf("a sweep with two numeric axes (and a mode) drew no heatmap: %v", err)
	}
	fig := filepath.Join(dir, "h.png")
	mustRun(t, "plot", out, "--kind", "heatmap", "-o", fig) // defaults: the two numeric axes
	r := rewardmix(t, "plot", out, "--kind", "heatmap", "--x", "train.weights", "-o", filepath.Join(dir, "bad.png"))
	if r.code != exitInput || !strings.Contains(r.stderr, "numeric") {
		t.Errorf("heatmap over a mode axis: exit %d, %q", r.code, r.stderr)
	}

	sw1 := writeFile(t, dir, "mode1.toml", modes(""))
	out1 := filepath.Join(dir, "out1")
	mustRun(t, "sweep", sw1, "-o", out1, "--quiet")
	if _, err := os.Stat(filepath.Join(out1, "drift.png")); err != nil {
		t.Errorf("a sweep over a mode and one number drew no standard set: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out1, "heatmap.png")); err == nil {
		t.Error("a sweep with one numeric axis drew a heatmap")
	}
	mustRun(t, "plot", out1, "-o", filepath.Join(dir, "set"))
	mustRun(t, "report", out1, "-o", filepath.Join(dir, "r.html"))
	if r := rewardmix(t, "plot", out1, "--kind", "heatmap", "-o", filepath.Join(dir, "h1.png")); r.code != exitInput || !strings.Contains(r.stderr, "two numeric swept axes") {
		t.Errorf("heatmap with one numeric axis: exit %d, %q", r.code, r.stderr)
	}
}

// TestCorruptParquet: a steps.parquet cut short, or overwritten in its
// middle, given to plot (a run and a sweep folder) or merge, is bad input:
// exit 2 and a message naming the file, never a panic.
func TestCorruptParquet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	mustRun(t, "run", "baseline", "-o", run, "--no-plots", "--format", "parquet")
	file := writeFile(t, dir, "grid.toml", strings.Replace(gridSweep, `format = "csv"`, `format = "parquet"`, 1))
	for _, sh := range []string{"0/2", "1/2"} {
		mustRun(t, "sweep", "--quiet", "--no-plots", "--shard", sh, "-o", filepath.Join(dir, "s"), file)
	}
	shards := []string{filepath.Join(dir, "s-shard-0"), filepath.Join(dir, "s-shard-1")}
	damages := map[string]func([]byte) []byte{
		"truncated":   func(b []byte) []byte { return b[:len(b)*2/3] },
		"overwritten": func(b []byte) []byte { copy(b[len(b)/3:], strings.Repeat("\xff", 200)); return b },
		"footer":      func(b []byte) []byte { copy(b[len(b)-40:], strings.Repeat("\x00", 32)); return b },
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			// Fresh copies, damaged.
			tmp := t.TempDir()
			r := filepath.Join(tmp, "run")
			copyDir(t, run, r)
			var sh []string
			for i, s := range shards {
				d := filepath.Join(tmp, filepath.Base(s))
				copyDir(t, s, d)
				if i == 1 {
					p := filepath.Join(d, "steps.parquet")
					writeFile(t, d, "steps.parquet", string(damage(readFile(t, p))))
				}
				sh = append(sh, d)
			}
			p := filepath.Join(r, "steps.parquet")
			writeFile(t, r, "steps.parquet", string(damage(readFile(t, p))))
			for _, c := range []struct {
				args []string
				file string
			}{
				{[]string{"plot", r, "--kind", "drift", "-o", filepath.Join(tmp, "fig.png")}, p},
				{[]string{"plot", sh[1], "--kind", "drift", "-o", filepath.Join(tmp, "fig2.png")}, filepath.Join(sh[1], "steps.parquet")},
				{append([]string{"merge", "-o", filepath.Join(tmp, "m")}, sh...), filepath.Join(sh[1], "steps.parquet")},
			} {
				res := rewardmix(t, c.args...)
				if res.code != exitInput || !strings.Contains(res.stderr, c.file) || strings.Contains(res.stderr, "panic") {
					t.Errorf("%s: exit %d, stderr %q; want %d naming %s", strings.Join(c.args[:1], " "), res.code, res.stderr, exitInput, c.file)
				}
			}
		})
	}
}

// copyDir copies the regular files of folder src into a new folder dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			writeFile(t, dst, e.Name(), string(readFile(t, filepath.Join(src, e.Name()))))
		}
	}
}
