package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// badTOML fails validation (after parsing), so only a run that checks
// before writing leaves no trace.
const badTOML = "extends = \"incident\"\n[train]\nupdate_step = 400\n"

// noTempLeft checks that no temporary folder of a run folder being written
// is left in parent.
func noTempLeft(t *testing.T, parent string) {
	t.Helper()
	for _, n := range listDir(t, parent) {
		if strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") {
			t.Errorf("temporary %s left in %s", n, parent)
		}
	}
}

func TestRunBadConfigCreatesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.toml", badTOML)
	out := filepath.Join(dir, "results", "bad")
	r := rewardmix(t, "run", "--no-plots", bad, "-o", out)
	if r.code != exitInput {
		t.Fatalf("exit %d, want 2 (stderr %q)", r.code, r.stderr)
	}
	if got := listDir(t, dir); strings.Join(got, " ") != "bad.toml" {
		t.Errorf("a bad config left %v in %s, want only bad.toml", got, dir)
	}
}

func TestRunReplacesOldRunFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := writeFile(t, dir, "small.toml", smallTOML)
	out := filepath.Join(dir, "out")
	mustRun(t, "run", small, "-o", out) // with figures, which the new run must not keep
	old := snapshot(t, out)

	// A figure the user drew into the folder stops the replacement: the
	// folder is only ever replaced whole when rewardmix wrote all of it.
	writeFile(t, out, "drift.svg", "<svg/>")
	if r := rewardmix(t, "run", "--no-plots", small, "-o", out); r.code != exitInput || !strings.Contains(r.stderr, "drift.svg, which rewardmix did not write") {
		t.Errorf("a folder with the user's drift.svg: exit %d, %s", r.code, r.stderr)
	}
	if err := os.Remove(filepath.Join(out, "drift.svg")); err != nil {
		t.Fatal(err)
	}

	mustRun(t, "run", "--no-plots", small, "--seed", "9", "-o", out)
	if got := listDir(t, out); strings.Join(got, " ") != strings.Join(dataOutputs, " ") {
		t.Errorf("%s holds %v after the new run, want exactly %v", out, got, dataOutputs)
	}
	if old["steps.csv"] == string(readFile(t, filepath.Join(out, "steps.csv"))) {
		t.Error("steps.csv was not replaced")
	}
	if !strings.Contains(string(readFile(t, filepath.Join(out, "config.toml"))), "\nseed = 9\n") {
		t.Error("config.toml is not the new run's")
	}
	noTempLeft(t, dir)
	if got := listDir(t, dir); strings.Join(got, " ") != "out small.toml" {
		t.Errorf("%s holds %v, want out and small.toml", dir, got)
	}

	// An empty folder is taken too; a trailing slash names the same folder.
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "run", "--no-plots", small, "-o", empty+string(filepath.Separator))
	if got := listDir(t, empty); strings.Join(got, " ") != strings.Join(dataOutputs, " ") {
		t.Errorf("%s holds %v, want exactly %v", empty, got, dataOutputs)
	}
	noTempLeft(t, dir)
}

func TestRunRefusesForeignFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := writeFile(t, dir, "small.toml", smallTOML)
	out := filepath.Join(dir, "out")
	writeFile(t, out, "notes.txt", "my notes\n")
	writeFile(t, out, "steps.csv", "step,metric,value\n")
	before := snapshot(t, out)

	r := rewardmix(t, "run", "--no-plots", small, "-o", out)
	if r.code != exitInput {
		t.Errorf("exit %d, want 2 (stderr %q)", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "rewardmix run: output folder "+out+" ") ||
		!strings.Contains(r.stderr, "notes.txt") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line naming %s and notes.txt", r.stderr, out)
	}
	sameSnapshot(t, out, snapshot(t, out), before)
	noTempLeft(t, dir)

	// The folder is refused before the run, not after: a run that would
	// diverge (exit 1) is refused (exit 2) without being tried.
	diverge := writeFile(t, dir, "diverge.toml", divergentTOML)
	if r := rewardmix(t, "run", "--no-plots", diverge, "-o", out); r.code != exitInput || !strings.Contains(r.stderr, "notes.txt") {
		t.Errorf("diverging run into a foreign folder: exit %d, stderr %q; want 2 and the folder refused", r.code, r.stderr)
	}
	sameSnapshot(t, out, snapshot(t, out), before)

	// A subfolder is foreign too, whatever its contents.
	sub := filepath.Join(dir, "sub")
	writeFile(t, sub, "data/keep.bin", "\x00\x01")
	before = snapshot(t, sub)
	if r := rewardmix(t, "run", "--no-plots", small, "-o", sub); r.code != exitInput {
		t.Errorf("folder with a subfolder: exit %d, want 2 (stderr %q)", r.code, r.stderr)
	}
	sameSnapshot(t, sub, snapshot(t, sub), before)

	// So is a file where the folder should be.
	file := writeFile(t, dir, "file", "not a folder\n")
	if r := rewardmix(t, "run", "--no-plots", small, "-o", file); r.code != exitInput {
		t.Errorf("-o naming a file: exit %d, want 2 (stderr %q)", r.code, r.stderr)
	}
	if got := string(readFile(t, file)); got != "not a folder\n" {
		t.Errorf("-o naming a file changed it to %q", got)
	}
	noTempLeft(t, dir)
}

func TestRunBadConfigKeepsOldRunFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := writeFile(t, dir, "small.toml", smallTOML)
	bad := writeFile(t, dir, "bad.toml", badTOML)
	diverge := writeFile(t, dir, "diverge.toml", divergentTOML)
	out := filepath.Join(dir, "out")
	mustRun(t, "run", "--no-plots", small, "-o", out)
	before := snapshot(t, out)

	for _, c := range []struct {
		cfg  string
		code int
	}{{bad, exitInput}, {diverge, exitFailure}} {
		r := rewardmix(t, "run", "--no-plots", c.cfg, "-o", out)
		if r.code != c.code {
			t.Errorf("run %s: exit %d, want %d (stderr %q)", c.cfg, r.code, c.code, r.stderr)
		}
		sameSnapshot(t, out, snapshot(t, out), before)
	}
	noTempLeft(t, dir)
}

// TestRunKeepsTheUsersConfig: a run whose config lies inside its output
// folder is refused (the folder is replaced whole), and a run with --seed N
// writes out/<name>-seedN by default, leaving the first seed's folder.
func TestRunKeepsTheUsersConfig(t *testing.T) {
	dir := t.TempDir()
	proj := filepath.Join(dir, "myproj")
	cfg := writeFile(t, proj, "config.toml", "# my notes\n"+smallTOML)
	r := rewardmix(t, "run", "--no-plots", cfg, "-o", proj)
	if r.code != exitInput || !strings.Contains(r.stderr, "is inside the output folder") {
		t.Errorf("config inside -o: exit %d, %s", r.code, r.stderr)
	}
	if got := string(readFile(t, cfg)); !strings.HasPrefix(got, "# my notes\n") {
		t.Error("the user's config was touched")
	}

	t.Chdir(dir)
	mustRun(t, "run", "--no-plots", cfg)
	first := string(readFile(t, filepath.Join("out", "config", "steps.csv")))
	mustRun(t, "run", "--no-plots", "--seed", "2", cfg)
	if got := string(readFile(t, filepath.Join("out", "config", "steps.csv"))); got != first {
		t.Error("--seed 2 replaced the default folder of the config's own seed")
	}
	if _, err := os.Stat(filepath.Join("out", "config-seed2", "steps.csv")); err != nil {
		t.Errorf("--seed 2 wrote no out/config-seed2: %v", err)
	}
}
