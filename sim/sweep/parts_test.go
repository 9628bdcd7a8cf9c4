package sweep

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/sim/internal/atomicfile"
	"github.com/rewardmix/rewardmix/sim/results"
)

// TestParts: with parts of several runs, each part closes after the run
// that brings it to partRows rows, the log records the part of each run,
// and a crash that leaves a part's records cut short is resumed from that
// part's first run, to the same bytes as the sweep run in one go.
func TestParts(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	s := load(t, gridSweep)
	const rows = 5000 // a run of gridSweep has 41 steps x 46 metrics = 1886 rows: parts of 3 runs
	ref := filepath.Join(tmp, "ref")
	mustRun(t, s, ref, Options{Workers: 2, partRows: rows})
	ends, recs := logEnds(t, filepath.Join(ref, results.RunLogFile))
	for i, r := range recs {
		if r.row.Part != i/3 || r.row.PartRuns != 3 || r.row.PartSize <= 0 {
			t.Fatalf("run %d is in part %d of %d runs (%d bytes), want part %d of 3", i, r.row.Part, r.row.PartRuns, r.row.PartSize, i/3)
		}
	}
	// A crash after 7 records: part 2 (runs 6 to 8) has one of its three.
	d := filepath.Join(tmp, "crashed")
	startedFolder(t, ref, d)
	writeFile(t, filepath.Join(d, results.RunLogFile), readFile(t, filepath.Join(ref, results.RunLogFile))[:ends[6]])
	lines := strings.SplitAfter(string(readFile(t, filepath.Join(ref, results.StepsFile))), "\n")[1:]
	var part bytes.Buffer
	k, runs, last := 0, 0, ""
	for _, l := range lines {
		id, _, _ := strings.Cut(l, ",")
		if id != last && l != "" {
			if runs == 3 {
				writeFile(t, filepath.Join(d, PartsDir, partName(k, "csv")), part.Bytes())
				part.Reset()
				k, runs = k+1, 0
			}
			runs++
			last = id
		}
		part.WriteString(l)
		if k == 3 {
			break
		}
	}
	var first *Progress
	sum := mustRun(t, s, d, Options{Resume: true, Workers: 2, partRows: rows, Progress: func(p Progress) {
		if first == nil {
			first = &p
		}
	}})
	if first.Done != 6 || sum.Ran != gridRuns-6 {
		t.Errorf("resumed with %d runs done, ran %d; want 6 and %d", first.Done, sum.Ran, gridRuns-6)
	}
	sameFiles(t, ref, d, append(resultCSVs, results.RunLogFile)...)
	if exists(filepath.Join(d, PartsDir)) {
		t.Error("the parts are left after the sweep")
	}
}

// TestPartsLost: a part the log names that is not on disk (a power loss
// before its rename was durable) is run again with its runs and those
// after it, reported; a missing part with later ones present stops the
// resume; --force clears a folder with parts.
func TestPartsLost(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	s := load(t, gridSweep)
	ref := filepath.Join(tmp, "ref")
	mustRun(t, s, ref, Options{Workers: 2})
	ends, _ := logEnds(t, filepath.Join(ref, results.RunLogFile))
	setup := func(name string, missing ...int) string {
		d := filepath.Join(tmp, name)
		startedFolder(t, ref, d)
		writeFile(t, filepath.Join(d, results.RunLogFile), readFile(t, filepath.Join(ref, results.RunLogFile))[:ends[9]])
		writeParts(t, ref, d) // one run a part here (partRows is 1)
		for _, k := range missing {
			if err := os.Remove(filepath.Join(d, PartsDir, partName(k, "csv"))); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	// Parts 8 and 9 (the last two the log names) never reached the disk.
	d := setup("lost", 8, 9)
	var first *Progress
	sum := mustRun(t, s, d, Options{Resume: true, Progress: func(p Progress) {
		if first == nil {
			first = &p
		}
	}})
	if first.Done != 8 || sum.Ran != gridRuns-8 || sum.Repair == nil || !strings.Contains(sum.Repair.String(), "names part 8 of the steps table, which is not on disk") {
		t.Errorf("resumed with %d done, ran %d, repair %v; want 8, %d and part 8 named", first.Done, sum.Ran, sum.Repair, gridRuns-8)
	}
	sameFiles(t, ref, d, append(resultCSVs, results.RunLogFile)...)

	// Part 3 missing, later ones there: damage, not a crash.
	d = setup("hole", 3)
	if _, err := Run(t.Context(), s, d, Options{Resume: true}); err == nil || !strings.Contains(err.Error(), "part 3 of the steps table is missing") {
		t.Errorf("a missing part before others: %v", err)
	}
	// --force starts such a folder over, parts and all.
	mustRun(t, s, d, Options{Force: true, Workers: 2})
	sameFiles(t, ref, d, append(resultCSVs, results.RunLogFile)...)
	if exists(filepath.Join(d, PartsDir)) {
		t.Error("the parts are left after --force")
	}
}

// TestJoiner: a joiner that takes the parts as they are committed, after
// some were committed before it started, writes the table joinParts
// writes, byte for byte; one that meets a missing part fails and leaves
// no temporary file, finishJoin then joins the table again; and one
// aborted with parts still queued leaves no temporary file either.
func TestJoiner(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	ref := filepath.Join(tmp, "ref")
	mustRun(t, load(t, gridSweep), ref, Options{Workers: 2})
	dir := filepath.Join(tmp, "parts")
	writeParts(t, ref, dir)
	ents, err := os.ReadDir(filepath.Join(dir, PartsDir))
	if err != nil {
		t.Fatal(err)
	}
	n := len(ents)
	want := readFile(t, filepath.Join(ref, results.StepsFile))
	table := filepath.Join(dir, results.StepsFile)
	noTemps := func(what string) {
		t.Helper()
		if m, _ := filepath.Glob(atomicfile.TempPattern(table)); len(m) > 0 {
			t.Errorf("%s: temporary files left: %v", what, m)
		}
	}
	joinAll := func(k int) *joiner {
		t.Helper()
		j, err := startJoiner(dir, "csv", k)
		if err != nil {
			t.Fatal(err)
		}
		for ; k < n; k++ {
			j.add()
		}
		return j
	}
	committed := func(what string, f *atomicfile.File, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, table); !bytes.Equal(got, want) {
			t.Errorf("%s: the joined table (%d bytes) is not the sweep's steps.csv (%d bytes)", what, len(got), len(want))
		}
		os.Remove(table)
	}

	f, err := joinAll(n / 2).finish()
	committed("parts before and after the joiner started", f, err)

	part := filepath.Join(dir, PartsDir, partName(n/3, "csv"))
	if err := os.Rename(part, part+".aside"); err != nil {
		t.Fatal(err)
	}
	if _, err := joinAll(0).finish(); err == nil {
		t.Error("a joiner that met a missing part: no error")
	}
	noTemps("a failed join")
	f, err = finishJoin(joinAll(0), func() (*atomicfile.File, error) {
		if err := os.Rename(part+".aside", part); err != nil {
			return nil, err
		}
		f, err := atomicfile.Create(table)
		if err == nil {
			err = joinParts(f, dir, "csv", n)
		}
		return f, err
	})
	committed("a failed join joined again", f, err)

	joinAll(0).abort()
	noTemps("an aborted join")
}
