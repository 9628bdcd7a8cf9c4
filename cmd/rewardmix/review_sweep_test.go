package main

import (
	"path/filepath"
	"testing"
)

// TestSweepVibeChecksLowerLaunches: issue 5's monotonicity through the
// sweep machinery. With vibe checks blocking, more testers means fewer
// launches: agg.csv's mean of review/launched (the launch share over 20
// seeds) falls as review.vibe.testers grows.
func TestSweepVibeChecksLowerLaunches(t *testing.T) {
	if testing.Short() {
		t.Skip("60 incident runs")
	}
	tmp := t.TempDir()
	file := writeFile(t, tmp, "vibe.toml", `extends = "incident"
[review.vibe]
blocking = true
[sweep]
replicates = 20
[[sweep.axis]]
key = "review.vibe.testers"
values = [0, 3, 10]
`)
	d := filepath.Join(tmp, "out")
	mustRun(t, "sweep", "--no-plots", file, "-o", d, "--quiet")
	agg := readCSV(t, filepath.Join(d, "agg.csv"))
	var shares []float64
	for _, row := range agg[1:] {
		if row[1] == "review/launched" {
			shares = append(shares, parseFloat(t, row[3]))
		}
	}
	if len(shares) != 3 {
		t.Fatalf("agg.csv has %d review/launched rows, want 3", len(shares))
	}
	// Without vibe checks the other gates let almost every seed launch (in
	// some the offline eval falls just under its threshold).
	if shares[0] < 0.9 || !(shares[1] < shares[0]) || !(shares[2] < shares[1]) {
		t.Errorf("launch shares for 0, 3, 10 blocking vibe testers: %v; want at least 0.9 and then falling", shares)
	}
	t.Logf("launch shares for 0, 3, 10 blocking vibe testers (20 seeds): %v", shares)
}
