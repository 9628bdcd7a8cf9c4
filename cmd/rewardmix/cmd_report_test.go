package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// selfContained fails the test if the HTML would fetch anything: no src,
// href or url() but data: URIs and fragments.
func selfContained(t *testing.T, html string) {
	t.Helper()
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?|file|ftp|//)|url\(\s*["']?(https?|file|//)`).FindString(html); m != "" {
		t.Errorf("the report fetches from outside itself: %q", m)
	}
}

// TestReportPreset: a preset's report holds the headline numbers, the four
// figures as inline SVG, the review, the deployment, the handout with
// every story step, and the resolved config; it is the same bytes when
// written twice.
func TestReportPreset(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.html"), filepath.Join(dir, "b.html")
	mustRun(t, "report", "incident", "-o", a)
	mustRun(t, "report", "incident", "-o", b)
	html := string(readFile(t, a))
	if html != string(readFile(t, b)) {
		t.Error("two reports of the same preset differ")
	}
	if n := strings.Count(html, "<svg"); n != 4 {
		t.Errorf("%d inline SVG figures, want 4", n)
	}
	for _, want := range []string{"The numbers that matter", "Release review (rule incident): launch", "Monitoring and rollback",
		"Handout: the incident in", "Resolved config", "data:font/ttf;base64,", `name = &#34;incident&#34;`} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	selfContained(t, html)
}

// TestReportFolders: run and sweep folders give reports from their files.
func TestReportFolders(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "small.toml", smallTOML)
	run := filepath.Join(dir, "run")
	mustRun(t, "run", cfg, "-o", run, "--no-plots")
	r := mustRun(t, "report", run)
	html := string(readFile(t, run+"-report.html"))
	if !strings.Contains(r.stdout, "run-report.html") || strings.Count(html, "<svg") != 4 || !strings.Contains(html, "Release review") {
		t.Errorf("run folder report: stdout %q, %d figures", r.stdout, strings.Count(html, "<svg"))
	}
	if strings.Contains(html, "Handout") {
		t.Error("a run folder's report has the preset handout")
	}
	selfContained(t, html)

	sw := writeFile(t, dir, "grid.toml", gridSweep)
	out := filepath.Join(dir, "grid")
	mustRun(t, "sweep", sw, "-o", out, "--quiet", "--no-plots")
	mustRun(t, "report", out, "-o", filepath.Join(dir, "grid.html"))
	html = string(readFile(t, filepath.Join(dir, "grid.html")))
	if n := strings.Count(html, "<svg"); n != 5 {
		t.Errorf("sweep report: %d figures, want 5 (with the heatmap)", n)
	}
	if !strings.Contains(html, "18 runs") || !strings.Contains(html, "<th>signals.thumbs.weight</th>") || strings.Count(html, "<tr><td>") != 6 {
		t.Errorf("sweep report: the table of its 6 points is missing")
	}
	selfContained(t, html)
}

// TestReportRefuses: bad input exits 2 and writes nothing.
func TestReportRefuses(t *testing.T) {
	dir := t.TempDir()
	notRun := filepath.Join(dir, "empty")
	os.Mkdir(notRun, 0o755)
	for _, args := range [][]string{
		{"report"},
		{"report", "incident", "baseline"},
		{"report", "incident", "-o", filepath.Join(dir, "x.pdf")},
		{"report", filepath.Join(dir, "nope.toml"), "-o", filepath.Join(dir, "x.html")},
		{"report", notRun, "-o", filepath.Join(dir, "x.html")},
	} {
		if r := rewardmix(t, args...); r.code != exitInput {
			t.Errorf("%v: exit %d, want %d (%s)", args, r.code, exitInput, r.stderr)
		}
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("refused reports left files: %v", names)
	}
}
