package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunReviewSummary: run ends its summary with the review table and the
// decision, and summary.json holds the review and the deployment.
func TestRunReviewSummary(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "inc")
	r := mustRun(t, "run", "--no-plots", "incident", "-o", dir)
	table, _, ok := strings.Cut(r.stdout, "\nwrote ")
	if !ok || !strings.Contains(table, "\nrelease review (rule incident)\n") {
		t.Fatalf("stdout has no review table:\n%s", r.stdout)
	}
	for _, want := range []string{"offline_correctness", "ab_preference", "vibe_checks", "\ndecision: launch\n", "deployment: detected at ", "sycophantic responses served: "} {
		if !strings.Contains(table, want) {
			t.Errorf("summary lacks %q:\n%s", want, table)
		}
	}
	var s struct {
		Review *struct {
			Decision string
			Gates    []map[string]any
		}
		Deployment map[string]any
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "summary.json")), &s); err != nil {
		t.Fatal(err)
	}
	if s.Review == nil || s.Review.Decision != "launch" || len(s.Review.Gates) < 5 {
		t.Fatalf("summary.json review = %+v, want a launch decision and at least five gates", s.Review)
	}
	for _, g := range s.Review.Gates {
		for _, k := range []string{"name", "value", "threshold", "passed", "blocking"} {
			if _, ok := g[k]; !ok {
				t.Errorf("summary.json: gate %v has no %q", g["name"], k)
			}
		}
	}
	for _, k := range []string{"hours_to_detection", "hours_to_rollback_done", "sycophantic_served", "harm_weighted", "harm_weighted_total"} {
		if _, ok := s.Deployment[k]; !ok {
			t.Errorf("summary.json: deployment has no %q", k)
		}
	}
	if h, _ := s.Deployment["hours_to_detection"].(float64); h <= 0 {
		t.Errorf("summary.json: hours_to_detection = %v", s.Deployment["hours_to_detection"])
	}
	for _, seg := range []string{"typical", "expert", "vulnerable"} {
		if v, _ := s.Deployment["sycophantic_served"].(map[string]any)[seg].(float64); v <= 0 {
			t.Errorf("summary.json: sycophantic_served[%s] = %v", seg, v)
		}
	}
}

// TestReview: review re-judges a run folder, under its own settings the same
// as run printed, under --gates as they say; bad input exits 2 naming the
// place.
func TestReview(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "small")
	run := mustRun(t, "run", "--no-plots", writeFile(t, tmp, "small.toml", smallTOML), "-o", dir)
	table := run.stdout[strings.Index(run.stdout, "release review"):strings.Index(run.stdout, "\nwrote ")]

	r := mustRun(t, "review", dir)
	if !strings.HasSuffix(r.stdout, table) {
		t.Errorf("review prints\n%s\nwant it to end with the run's table\n%s", r.stdout, table)
	}
	gates := writeFile(t, tmp, "gates.toml", "[review]\nrule = \"post_incident\"\n[review.sycophancy]\nenabled = true\n")
	r = mustRun(t, "review", dir, "--gates", gates)
	if !strings.Contains(r.stdout, "release review (rule post_incident)") || !strings.Contains(r.stdout, "sycophancy_memory") ||
		!strings.HasSuffix(r.stdout, "\ndecision: block\n") {
		t.Errorf("review --gates post_incident:\n%s", r.stdout)
	}

	bad := writeFile(t, tmp, "bad.toml", "[review.ab]\ncomparisons = 100\nalpha = 2.0\n")
	other := writeFile(t, tmp, "other.toml", "[train]\nsteps = 3\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"review", dir, "--gates", bad}, fmt.Sprintf("rewardmix review: %s:3:1: review.ab.alpha: 2 must be in (0, 1)\n", bad)},
		{[]string{"review", dir, "--gates", other}, fmt.Sprintf("rewardmix review: %s:1:1: train: a gates file sets only [review] and [deployment]\n", other)},
		{[]string{"review", tmp}, "no config.toml"},
		{[]string{"review"}, "want one run folder"},
		{[]string{"review", dir, "--gates", filepath.Join(tmp, "nosuch.toml")}, "no such file"},
	} {
		r := rewardmix(t, tc.args...)
		if r.code != exitInput || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
