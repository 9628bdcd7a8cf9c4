package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim/results"
)

// killSweep is 120 runs of the full incident preset: a few seconds.
const killSweep = `extends = "incident"

[sweep]
replicates = 10

[[sweep.axis]]
key = "signals.thumbs.weight"
linspace = [0.25, 3.0, 12]
`

// childEnv, when set in the environment, makes the test binary run
// killSweep into the folder it names (resuming it when the folder holds
// one) instead of the tests: the process TestKill9 kills.
const childEnv = "REWARDMIX_SWEEP_TEST_CHILD"

// lockChildEnv, when set, makes the test binary hold the folder it names
// (as Run does) instead of running the tests: it prints "locked" and holds
// it until its stdin is closed.
const lockChildEnv = "REWARDMIX_SWEEP_TEST_LOCK"

func TestMain(m *testing.M) {
	// Parts of one run each, so that the crash tests see every run
	// recorded as it finishes (TestParts tests parts of several runs).
	partRows = 1
	if dir := os.Getenv(lockChildEnv); dir != "" {
		l, err := lockDir(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		l.unlock()
		os.Exit(0)
	}
	if dir := os.Getenv(childEnv); dir != "" {
		s, err := configs.LoadSweep("kill.toml", []byte(killSweep), nil, configs.DefaultMaxRuns)
		if err == nil {
			_, err = Run(context.Background(), s, dir, Options{Workers: 2, Resume: exists(dir)})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKill9 kills a sweep's process with SIGKILL twice while it writes
// runs, once in the first run and once while resuming, then resumes it to
// the end: its results are byte for byte those of an uninterrupted sweep.
// While the process runs, a sweep into its folder is refused, even with
// Force, and leaves it running; the parts of the steps table and their
// temporary files are gone once the resumed sweep ends.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sweeps for seconds in child processes")
	}
	t.Parallel()
	tmp := t.TempDir()
	s := load(t, killSweep)
	const total = 120
	ref := filepath.Join(tmp, "ref")
	mustRun(t, s, ref, Options{Workers: 2})

	d := filepath.Join(tmp, "killed")
	logPath := filepath.Join(d, results.RunLogFile)
	for kill := 0; kill < 2; kill++ {
		before := len(logIndices(logPath))
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+d)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.After(60 * time.Second)
	poll:
		for {
			select {
			case err := <-exited:
				t.Fatalf("kill %d: the sweep ended (%v) before it could be killed", kill, err)
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("kill %d: no new runs in the log after 60 s", kill)
			default:
			}
			if countRecords(logPath) >= before+3 {
				break poll
			}
			time.Sleep(time.Millisecond)
		}
		// The folder is the running sweep's: not even Force touches it.
		for _, opt := range []Options{{Force: true, Workers: 1}, {Resume: true, Workers: 1}} {
			_, err := Run(t.Context(), s, d, opt)
			var be *BusyError
			if !errors.As(err, &be) || be.PID != cmd.Process.Pid || !errors.Is(err, ErrBusy) {
				t.Errorf("kill %d: a sweep with %+v into the running sweep's folder: %v; want it in use by pid %d", kill, opt, err, cmd.Process.Pid)
			}
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		if err := <-exited; err == nil || cmd.ProcessState.Exited() {
			t.Fatalf("kill %d: the sweep was not killed but exited: %v", kill, err)
		}
		if !exists(filepath.Join(d, LockFile)) {
			t.Errorf("kill %d: no %s left by the killed sweep", kill, LockFile)
		}
		got := logIndices(logPath)
		if len(got) < before+3 || len(got) >= total {
			t.Fatalf("kill %d: the log holds %d runs, want %d to %d", kill, len(got), before+3, total-1)
		}
		for k, i := range got {
			if i != k {
				t.Fatalf("kill %d: the log holds runs %v", kill, got)
			}
		}
		if exists(filepath.Join(d, results.RunsFile)) {
			t.Fatalf("kill %d: runs.csv exists before the sweep ended", kill)
		}
	}
	done := len(logIndices(logPath))
	if sum := mustRun(t, s, d, Options{Workers: 2, Resume: true}); sum.Ran != total-done {
		t.Errorf("resumed after %d runs, ran %d, want %d", done, sum.Ran, total-done)
	}
	// killSweep writes Parquet (the default for sweeps).
	sameFiles(t, ref, d, results.RunsFile, results.StepsParquetFile, results.AggFile, results.RunLogFile)
	if tmps, _ := filepath.Glob(filepath.Join(d, PartsDir, ".*.tmp-*")); len(tmps) > 0 || exists(filepath.Join(d, PartsDir)) {
		t.Errorf("after the resume: the parts folder or temporary parts %v are left", tmps)
	}
	sameNames(t, d, "agg.csv manifest.json runs.csv runs.log steps.parquet sweep.toml")
}
