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
