package sweep

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/sim/results"
)

// boundarySweep is a boundary search over sweepHead (it is never run
// here: only refused).
const boundarySweep = sweepHead + `
[sweep]
mode = "boundary"
metric = "sycophancy_rate"
level = 0.1
tolerance = 0.25
seeds = [1, 2]

[[sweep.axis]]
key = "signals.spec.weight"
values = [0.5, 1.0]

[[sweep.axis]]
key = "signals.thumbs.weight"
bracket = [0.0, 4.0]
`

// wantBusy fails the test unless err says that dir is in use by pid.
func wantBusy(t *testing.T, what string, err error, dir string, pid int) {
	t.Helper()
	var be *BusyError
	switch {
	case !errors.As(err, &be) || !errors.Is(err, ErrBusy):
		t.Errorf("%s: %v; want a *BusyError", what, err)
	case be.Dir != dir || be.PID != pid:
		t.Errorf("%s: %+v; want dir %s, pid %d", what, be, dir, pid)
	case !strings.HasPrefix(err.Error(), fmt.Sprintf("%s is in use by pid %d", dir, pid)):
		t.Errorf("%s: %q does not begin %q", what, err, fmt.Sprintf("%s is in use by pid %d", dir, pid))
	}
}

// TestOneWriter: while a sweep runs into a folder, a second Run (fresh,
// resumed or forced), Merge, Boundary or MergeBoundary into it is refused
// with ErrBusy and changes nothing, and the sweep goes on to the results
// of an undisturbed one; its lock file is gone once it is done.
func TestOneWriter(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	s := load(t, gridSweep)
	ref := filepath.Join(tmp, "ref")
	mustRun(t, s, ref, Options{})

	d := filepath.Join(tmp, "out")
	started, release := make(chan struct{}), make(chan struct{})
	type outcome struct {
		sum *Summary
		err error
	}
	ran := make(chan outcome, 1)
	go func() {
		sum, err := Run(t.Context(), s, d, Options{Workers: 2, Progress: func(p Progress) {
			if p.Run == nil {
				close(started)
				<-release // hold the sweep at its start
			}
		}})
		ran <- outcome{sum, err}
	}()
	<-started
	if got := string(readFile(t, filepath.Join(d, LockFile))); got != fmt.Sprintf("%d\n", os.Getpid()) {
		t.Errorf("%s holds %q, want this process's pid", LockFile, got)
	}
	before := snapshot(t, d)
	pid := os.Getpid()
	for _, opt := range []Options{{}, {Resume: true}, {Force: true}, {Resume: true, Force: true}} {
		_, err := Run(t.Context(), s, d, opt)
		wantBusy(t, fmt.Sprintf("Run %+v", opt), err, d, pid)
	}
	_, err := Merge(d, []string{ref}, true)
	wantBusy(t, "Merge", err, d, pid)
	_, err = Boundary(t.Context(), load(t, boundarySweep), d, Options{Force: true})
	wantBusy(t, "Boundary", err, d, pid)
	shard := filepath.Join(tmp, "boundary-shard")
	writeFile(t, filepath.Join(shard, BoundarySpecFile), []byte("x = 1\n# shard 0/1\n"))
	writeFile(t, filepath.Join(shard, BoundaryFile), []byte("a,b\n1,2\n"))
	wantBusy(t, "MergeBoundary", MergeBoundary(d, []string{shard}, true), d, pid)
	// The same folder by another path is the same folder.
	_, err = Run(t.Context(), s, d+"/.", Options{Force: true})
	wantBusy(t, "Run by another path", err, d+"/.", pid)
	sameSnapshot(t, "the running sweep's folder", snapshot(t, d), before)

	close(release)
	out := <-ran
	if out.err != nil || out.sum.Ran != gridRuns {
		t.Fatalf("the held sweep: %+v, %v", out.sum, out.err)
	}
	sameFiles(t, ref, d, append(resultCSVs, results.RunLogFile)...)
	sameNames(t, d, "agg.csv manifest.json runs.csv runs.log steps.csv sweep.toml")
	if _, err := results.Open(d); err != nil {
		t.Error(err)
	}
	// Once it is done, the folder is free.
	if sum := mustRun(t, s, d, Options{Resume: true}); sum.Ran != 0 {
		t.Errorf("resuming the finished sweep ran %d runs", sum.Ran)
	}
	if sum := mustRun(t, s, d, Options{Force: true}); sum.Ran != gridRuns {
		t.Errorf("forcing the finished sweep ran %d runs", sum.Ran)
	}
}

// TestLockReleased: a sweep that panics or is cancelled releases its
// folder.
func TestLockReleased(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	s := load(t, gridSweep)
	d := filepath.Join(tmp, "panicked")
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic of Progress", r)
			}
		}()
		Run(t.Context(), s, d, Options{Workers: 1, Progress: func(p Progress) {
			if p.Done == 3 {
				panic("boom")
			}
		}})
	}()
	if exists(filepath.Join(d, LockFile)) {
		t.Errorf("the panicked sweep left %s", LockFile)
	}
	if sum := mustRun(t, s, d, Options{Resume: true}); sum.Ran != gridRuns-3 {
		t.Errorf("resumed after 3 runs, ran %d", sum.Ran)
	}

	d = filepath.Join(tmp, "cancelled")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Run(ctx, s, d, Options{}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("cancelled sweep: %v", err)
	}
	if exists(filepath.Join(d, LockFile)) {
		t.Errorf("the cancelled sweep left %s", LockFile)
	}
	mustRun(t, s, d, Options{Resume: true})
}

// TestLockOtherProcess: a folder another process holds is refused with its
// pid, whatever the options, and changes nothing; once that process is
// killed (kill -9: its lock file stays, with its pid), the folder is free.
func TestLockOtherProcess(t *testing.T) {
	if !fileLocks {
		t.Skip("no flock on " + runtime.GOOS)
	}
	t.Parallel()
	tmp := t.TempDir()
	s := load(t, gridSweep)
	d := filepath.Join(tmp, "out")
	mustRun(t, s, d, Options{})

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+d)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		cmd.Process.Kill()
		t.Fatalf("the child said %q, %v", line, err)
	}
	pid := cmd.Process.Pid
	before := snapshot(t, d)
	if got := before[LockFile]; got != fmt.Sprintf("%d\n", pid) {
		t.Errorf("%s holds %q, want the child's pid %d", LockFile, got, pid)
	}
	for _, opt := range []Options{{}, {Resume: true}, {Force: true}} {
		_, err := Run(t.Context(), s, d, opt)
		wantBusy(t, fmt.Sprintf("Run %+v", opt), err, d, pid)
	}
	// Reading the results is not writing them.
	if _, err := results.Open(d); err != nil {
		t.Errorf("results.Open of a held folder: %v", err)
	}
	sameSnapshot(t, "the held folder", snapshot(t, d), before)

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if !exists(filepath.Join(d, LockFile)) {
		t.Fatalf("the killed holder left no %s", LockFile)
	}
	if sum := mustRun(t, s, d, Options{Force: true}); sum.Ran != gridRuns {
		t.Errorf("the sweep after the holder died ran %d runs", sum.Ran)
	}
	sameNames(t, d, "agg.csv manifest.json runs.csv runs.log steps.csv sweep.toml")
}

// TestStaleTemps: the temporary files a killed sweep leaves (steps.csv as
// it is written, the files finalize and figure drawing write, the manifest
// of a sweep killed as it starts), and its lock file, are removed by a
// resume, by Force, and by a fresh start in a folder that holds nothing
// else; other files are not.
func TestStaleTemps(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	s := load(t, gridSweep)
	ref := filepath.Join(tmp, "ref")
	mustRun(t, s, ref, Options{})
	ends, _ := logEnds(t, filepath.Join(ref, results.RunLogFile))
	refLog := readFile(t, filepath.Join(ref, results.RunLogFile))
	leftovers := []string{".steps.csv.tmp-2921557", ".runs.csv.tmp-1", ".agg.csv.tmp-77", ".drift.png.tmp-3", ".manifest.json.tmp-9", ".sweep.toml.tmp-12", LockFile}
	litter := func(d string) {
		for _, f := range leftovers {
			writeFile(t, filepath.Join(d, f), []byte("left by kill -9\n"))
		}
		writeFile(t, filepath.Join(d, LockFile), []byte("999999999\n")) // a dead process's
	}
	const files = "agg.csv manifest.json runs.csv runs.log steps.csv sweep.toml"
	const withNotes = ".notes.txt.tmp-1 agg.csv manifest.json notes.txt runs.csv runs.log steps.csv sweep.toml"

	// Resumed after 7 runs, with a note and a temporary file of the user's.
	d := filepath.Join(tmp, "resumed")
	startedFolder(t, ref, d)
	writeFile(t, filepath.Join(d, results.RunLogFile), refLog[:ends[6]])
	writeParts(t, ref, d)
	writeFile(t, filepath.Join(d, PartsDir, ".000007.csv.tmp-5"), []byte("left by kill -9\n"))
	litter(d)
	writeFile(t, filepath.Join(d, "notes.txt"), []byte("mine\n"))
	writeFile(t, filepath.Join(d, ".notes.txt.tmp-1"), []byte("mine\n"))
	if sum := mustRun(t, s, d, Options{Resume: true}); sum.Ran != gridRuns-7 {
		t.Errorf("resumed after 7 runs, ran %d", sum.Ran)
	}
	sameFiles(t, ref, d, resultCSVs...)
	sameNames(t, d, withNotes)

	// A finished sweep resumed (nothing to run) and forced.
	for _, opt := range []Options{{Resume: true}, {Force: true}} {
		litter(d)
		mustRun(t, s, d, opt)
		sameFiles(t, ref, d, resultCSVs...)
		sameNames(t, d, withNotes)
	}

	// Killed as it started: only temporary files. Not a foreign folder.
	d = filepath.Join(tmp, "started")
	litter(d)
	mustRun(t, s, d, Options{})
	sameFiles(t, ref, d, resultCSVs...)
	sameNames(t, d, files)

	// A merge into such a folder.
	d = filepath.Join(tmp, "merged")
	litter(d)
	if _, err := Merge(d, []string{ref}, false); err != nil {
		t.Fatal(err)
	}
	sameNames(t, d, files)

	// The same for a boundary search's folder.
	d = filepath.Join(tmp, "boundary")
	spec := []byte("x = 1\n# shard 0/1\n")
	for _, f := range []string{".boundary.csv.tmp-1", ".boundary.toml.tmp-2", ".boundary.png.tmp-3", LockFile} {
		writeFile(t, filepath.Join(d, f), nil)
	}
	prepare := func(resume, force bool) error { // as Boundary does
		l, err := lockDir(d)
		if err != nil {
			return err
		}
		defer l.unlock()
		return prepareBoundaryDir(d, spec, resume, force)
	}
	if err := prepare(false, false); err != nil {
		t.Fatalf("a boundary folder of temporary files: %v", err)
	}
	sameNames(t, d, BoundarySpecFile)
	for _, opt := range []Options{{Resume: true}, {Force: true}} {
		writeFile(t, filepath.Join(d, ".boundary.csv.tmp-1"), nil)
		writeFile(t, filepath.Join(d, LockFile), nil)
		if err := prepare(opt.Resume, opt.Force); err != nil {
			t.Fatalf("%+v: %v", opt, err)
		}
		sameNames(t, d, BoundarySpecFile)
	}
}
