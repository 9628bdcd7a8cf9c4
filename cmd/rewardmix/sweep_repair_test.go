package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/sim/sweep"
)

// recordStarts returns the byte offsets at which the records of a run log
// begin (each "R index length crc" header starts a line; the step lines of
// the payloads begin with a run id).
func recordStarts(log []byte) []int {
	starts := []int{0}
	for i := 0; ; {
		k := bytes.Index(log[i:], []byte("\nR "))
		if k < 0 {
			return starts
		}
		i += k + 1
		starts = append(starts, i)
	}
}

// TestSweepLogRepairReported: --resume of a sweep whose runs.log was
// damaged (14 bytes overwritten) says on stderr which record was dropped,
// why, and how many after it, even with --quiet, and runs them again to
// the same results; a torn last record, as a crash leaves it, gets a note
// (not with --quiet).
func TestSweepLogRepairReported(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := writeFile(t, tmp, "grid.toml", gridSweep)
	d := filepath.Join(tmp, "out")
	mustRun(t, "sweep", "--no-plots", "--quiet", file, "-o", d)
	ref := map[string][]byte{}
	for _, f := range resultCSVs {
		ref[f] = readFile(t, filepath.Join(d, f))
	}
	logPath := filepath.Join(d, "runs.log")
	log := readFile(t, logPath)
	starts := recordStarts(log)
	if len(starts) != gridRuns {
		t.Fatalf("runs.log has %d records, want %d", len(starts), gridRuns)
	}
	sameResults := func(what string) {
		t.Helper()
		for _, f := range resultCSVs {
			if !bytes.Equal(readFile(t, filepath.Join(d, f)), ref[f]) {
				t.Errorf("%s: %s changed", what, f)
			}
		}
	}

	// A crash leaves the steps table's parts: here one, all 18 runs
	// (steps.csv without its header).
	steps := ref["steps.csv"]
	part := steps[bytes.IndexByte(steps, '\n')+1:]
	writePart := func() {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(d, sweep.PartsDir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, sweep.PartsDir, "000000.csv"), part, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// 14 bytes overwritten in the middle of record 12 of 18: the part's
	// records are cut short, so all of its runs are run again.
	writePart()
	damaged := bytes.Clone(log)
	copy(damaged[(starts[11]+starts[12])/2:], "overwritten!!!")
	if err := os.WriteFile(logPath, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, "sweep", "--no-plots", "--quiet", file, "-o", d, "--resume")
	re := regexp.MustCompile("^warning: " + regexp.QuoteMeta(fmt.Sprintf("%s: record 12 (at byte %d) fails its checksum; the 11 records of part 0 before it go too: dropped it and the 6 records after it (", logPath, starts[11])) +
		`[0-9.]+ KiB in all\); they will be run again\n$`)
	if !re.MatchString(r.stderr) {
		t.Errorf("stderr %q does not match %s", r.stderr, re)
	}
	if !strings.Contains(r.stdout, "18 runs (18 this time, 0 failed)") {
		t.Errorf("stdout %q", r.stdout)
	}
	sameResults("resumed after damage")

	// A torn last record: a note, before the progress.
	torn := log[:(starts[16]+starts[17])/2]
	if err := os.WriteFile(logPath, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	writePart()
	r = mustRun(t, "sweep", "--no-plots", file, "-o", d, "--resume")
	first, _, _ := strings.Cut(r.stderr, "\n")
	re = regexp.MustCompile("^note: " + regexp.QuoteMeta(fmt.Sprintf("%s: the last 17 records, from record 1, are part 0's, cut short by a crash before its 18 runs were all recorded: dropped them (", logPath)) +
		`[0-9.]+ (KiB|bytes)\); they will be run again$`)
	if !re.MatchString(first) {
		t.Errorf("stderr %q: its first line does not match %s", r.stderr, re)
	}
	sameResults("resumed after a torn record")
	if err := os.WriteFile(logPath, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	writePart()
	if r = mustRun(t, "sweep", "--no-plots", "--quiet", file, "-o", d, "--resume"); r.stderr != "" {
		t.Errorf("--quiet: stderr %q", r.stderr)
	}
	sameResults("resumed after a torn record, quietly")

	// An intact log: nothing to say.
	if r = mustRun(t, "sweep", "--no-plots", "--quiet", file, "-o", d, "--resume"); r.stderr != "" {
		t.Errorf("an intact log: stderr %q", r.stderr)
	}
}
