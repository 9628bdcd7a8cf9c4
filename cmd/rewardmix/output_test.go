package main

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputTable: [output] every and metrics thin a sweep's steps table
// (every 10th step, the steps where the mix changes, the last; the metrics
// matched), runs.csv keeps every metric, a figure of a metric the table
// does not record is bad input; and an [output] table that cannot be
// followed is an error at its file:line:col, exit 2. The sweep's standard
// figures are those of the series it records.
func TestOutputTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	thin := writeFile(t, dir, "thin.toml", strings.Replace(gridSweep, `format = "csv"`,
		"format = \"csv\"\nevery = 10\nmetrics = [\"sycophancy_rate*\", \"kl\"]", 1))
	out := filepath.Join(dir, "thin")
	mustRun(t, "sweep", "--quiet", thin, "-o", out)
	// The standard figures of the series it records: drift and segments
	// (sycophancy_rate*), the heatmap (agg.csv); not influence or frontier.
	if got := strings.Join(listDir(t, out), " "); got != "agg.csv drift.png heatmap.png manifest.json runs.csv runs.log segments.png steps.csv sweep.toml" {
		t.Errorf("the thin sweep's folder holds %s", got)
	}
	rows, err := csv.NewReader(bytes.NewReader(readFile(t, filepath.Join(out, "steps.csv")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	steps, metrics := map[string]bool{}, map[string]bool{}
	for _, r := range rows[1:] {
		steps[r[1]], metrics[r[2]] = true, true
	}
	// sweepHead: 40 steps, the update (and thumbs, memory) at step 20.
	if len(steps) != 5 || !steps["0"] || !steps["10"] || !steps["20"] || !steps["30"] || !steps["40"] {
		t.Errorf("recorded steps %v, want 0, 10, 20, 30, 40", steps)
	}
	if !metrics["kl"] || !metrics["sycophancy_rate"] || !metrics["sycophancy_rate/vulnerable"] || metrics["gold_utility"] || len(metrics) != 5 {
		t.Errorf("recorded metrics %v", metrics)
	}
	if head := string(readFile(t, filepath.Join(out, "runs.csv"))); !strings.Contains(head, ",gold_utility,") {
		t.Errorf("runs.csv lost the metrics the steps table does not record: %.200s", head)
	}
	r := rewardmix(t, "plot", out, "--kind", "drift", "--metric", "gold_utility", "-o", filepath.Join(dir, "fig.png"))
	if r.code != exitInput || !strings.Contains(r.stderr, "records no series of gold_utility") {
		t.Errorf("a drift of an unrecorded metric: exit %d, %s", r.code, r.stderr)
	}

	for _, c := range []struct{ output, want string }{
		{"every = 0", `:4:1: output.every: 0: want at least 1`},
		{`format = "feather"`, `:4:1: output.format: unknown value "feather" (want one of auto, csv, parquet)`},
		{`metrics = ["sycophancy*", "nosuch*"]`, `:4:1: output.metrics: "nosuch*" matches no metric of this config`},
		{`metrics = []`, `:4:1: output.metrics: empty`},
		{`colour = "red"`, `output.colour`},
	} {
		f := writeFile(t, dir, "bad.toml", "extends = \"incident\"\n\n[output]\n"+c.output+"\n")
		r := rewardmix(t, "run", "--no-plots", f, "-o", filepath.Join(dir, "bad"))
		if r.code != exitInput || !strings.Contains(r.stderr, f+c.want) && !strings.Contains(r.stderr, c.want) {
			t.Errorf("[output] %s: exit %d, stderr %q; want %d and %q", c.output, r.code, r.stderr, exitInput, c.want)
		}
	}
	if r := rewardmix(t, "run", "--no-plots", "--format", "feather", "incident", "-o", filepath.Join(dir, "bad")); r.code != exitInput || !strings.Contains(r.stderr, `--format: unknown value "feather"`) {
		t.Errorf("--format feather: exit %d, %s", r.code, r.stderr)
	}
}
