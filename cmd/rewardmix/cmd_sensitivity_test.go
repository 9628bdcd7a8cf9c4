package main

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sobolSweep is a small Saltelli design over two weights: 8 x 4 runs.
const sobolSweep = sweepHead + `
[sweep]
mode = "sobol"
samples = 8

[[sweep.axis]]
key = "signals.thumbs.weight"
uniform = [0.0, 4.0]

[[sweep.axis]]
key = "signals.spec.weight"
uniform = [0.5, 2.0]
`

// TestSensitivityCommand: `rewardmix sensitivity` on a Sobol sweep writes
// sensitivity.csv (a row per parameter and metric, finite indices inside
// their intervals) and the figure in the format its name asks for; the
// thumbs weight, which moves sycophancy most, has the larger total-order
// index. A folder that is not a Sobol design, an unknown metric and a
// figure of unknown format are the user's input: exit 2.
func TestSensitivityCommand(t *testing.T) {
	dir := t.TempDir()
	spec := writeFile(t, dir, "sobol.toml", sobolSweep)
	out := filepath.Join(dir, "sobol")
	mustRun(t, "sweep", "--quiet", "--no-plots", "-o", out, spec)
	r := mustRun(t, "sensitivity", "--metric", "sycophancy_rate", "--metric", "gold_utility", "--resamples", "200", "-o", filepath.Join(dir, "s.svg"), out)
	if !strings.Contains(r.stdout, "signals.thumbs.weight") || !strings.Contains(r.stdout, "wrote ") {
		t.Errorf("stdout: %s", r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(string(readFile(t, filepath.Join(out, "sensitivity.csv")))), "\n")
	if lines[0] != "parameter,metric,S1,S1_low,S1_high,ST,ST_low,ST_high" || len(lines) != 5 {
		t.Fatalf("sensitivity.csv:\n%s", strings.Join(lines, "\n"))
	}
	st := map[string]float64{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		v := make([]float64, 6)
		for i := range v {
			x, err := strconv.ParseFloat(f[2+i], 64)
			if err != nil || math.IsNaN(x) {
				t.Fatalf("line %q: %v", l, err)
			}
			v[i] = x
		}
		if !(v[1] <= v[0] && v[0] <= v[2]) || !(v[4] <= v[3] && v[3] <= v[5]) {
			t.Errorf("line %q: an estimate outside its interval", l)
		}
		if f[1] == "sycophancy_rate" {
			st[f[0]] = v[3]
		}
	}
	if !(st["signals.thumbs.weight"] > st["signals.spec.weight"]) {
		t.Errorf("ST of the thumbs weight %v not above the spec weight's %v", st["signals.thumbs.weight"], st["signals.spec.weight"])
	}
	unc := strings.Split(strings.TrimSpace(string(readFile(t, filepath.Join(out, "uncertainty.csv")))), "\n")
	if unc[0] != "metric,n,mean,median,q05,q95" || len(unc) != 3 || !strings.HasPrefix(unc[1], "sycophancy_rate,16,") {
		t.Errorf("uncertainty.csv:\n%s", strings.Join(unc, "\n"))
	}
	if svg := readFile(t, filepath.Join(dir, "s.svg")); !strings.Contains(string(svg), "<svg") {
		t.Error("the figure is not an SVG")
	}

	grid := filepath.Join(dir, "grid")
	mustRun(t, "sweep", "--quiet", "--no-plots", "-o", grid, writeFile(t, dir, "grid.toml", oneAxisSweep))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sensitivity", grid}, `is not a sweep of mode "sobol"`},
		{[]string{"sensitivity", "--metric", "sycophancy", out}, `no metric "sycophancy"`},
		{[]string{"sensitivity", "-o", filepath.Join(dir, "s.gif"), out}, "unknown figure format"},
		{[]string{"sensitivity"}, "want one sweep folder"},
	} {
		r := rewardmix(t, c.args...)
		if r.code != exitInput || !strings.Contains(r.stderr, c.want) {
			t.Errorf("rewardmix %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), r.code, r.stderr, exitInput, c.want)
		}
	}
}
