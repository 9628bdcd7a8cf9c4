//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rewardmix/rewardmix/sim/sweep"
)

// TestSweepFolderInUse: while another process holds a folder's lock, a
// sweep into it (even with --resume or --force), a merge into it and a
// boundary search into it exit 2 naming that process's pid, and touch
// nothing; once it lets go, the sweep runs.
func TestSweepFolderInUse(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := writeFile(t, tmp, "grid.toml", gridSweep)
	bfile := writeFile(t, tmp, "b.toml", boundarySweep)
	var shards []string
	for i := 0; i < 2; i++ {
		mustRun(t, "sweep", "--no-plots", "--quiet", file, "-o", filepath.Join(tmp, "grid"), "--shard", fmt.Sprintf("%d/2", i))
		shards = append(shards, filepath.Join(tmp, fmt.Sprintf("grid-shard-%d", i)))
	}

	// Hold the folder as a sweep of pid 4242 would.
	d := filepath.Join(tmp, "out")
	lockPath := filepath.Join(d, sweep.LockFile)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("4242\n"); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, d)
	for _, tc := range []struct {
		cmd  string
		args []string
	}{
		{"sweep", []string{"sweep", "--no-plots", file, "-o", d}},
		{"sweep", []string{"sweep", "--no-plots", file, "-o", d, "--resume"}},
		{"sweep", []string{"sweep", "--no-plots", file, "-o", d, "--force"}},
		{"sweep", []string{"sweep", "--no-plots", bfile, "-o", d, "--force"}},
		{"merge", []string{"merge", "--no-plots", "-o", d, "--force", shards[0], shards[1]}},
	} {
		r := rewardmix(t, tc.args...)
		want := fmt.Sprintf("rewardmix %s: %s is in use by pid 4242 (", tc.cmd, d)
		if r.code != exitInput || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q...", strings.Join(tc.args, " "), r.code, r.stdout, r.stderr, want)
		}
	}
	sameSnapshot(t, "the folder in use", snapshot(t, d), before)

	// The holder ends.
	os.Remove(lockPath)
	f.Close()
	mustRun(t, "sweep", "--no-plots", "--quiet", file, "-o", d)
	if got := listDir(t, d); strings.Join(got, " ") != "agg.csv manifest.json runs.csv runs.log steps.csv sweep.toml" {
		t.Errorf("the sweep folder holds %v", got)
	}
}
