package sweep

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim/results"
)

// sweepHead is the incident scaled down to 40 steps and 50 users: the base
// of the sweeps below.
const sweepHead = `extends = "incident"
name = "grid"

[train]
steps = 40
update_step = 20

[memory]
start_step = 20

[signals.thumbs]
start_step = 20

[signals.memory]
start_step = 20

[population]
users = 50

[output]
format = "csv"
`

// gridSweep has 2 x 3 points and 3 seeds: 18 runs.
const gridSweep = sweepHead + `
[sweep]
seeds = [1, 2, 3]

[[sweep.axis]]
key = "signals.thumbs.weight"
linspace = [0.5, 2, 2]

[[sweep.axis]]
key = "train.learning_rate"
values = [0.02, 0.04, 0.06]
`

const gridRuns = 18

// resultCSVs are the files that must not depend on workers, shards or
// interruptions.
var resultCSVs = []string{"runs.csv", "steps.csv", "agg.csv"}

func load(t testing.TB, text string) *configs.Sweep {
	t.Helper()
	s, err := configs.LoadSweep("sweep.toml", []byte(text), nil, configs.DefaultMaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustRun runs sweep s into dir and fails the test on an error.
func mustRun(t testing.TB, s *configs.Sweep, dir string, opt Options) *Summary {
	t.Helper()
	sum, err := Run(context.Background(), s, dir, opt)
	if err != nil {
		t.Fatalf("sweep into %s: %v", dir, err)
	}
	return sum
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// sameFiles fails the test if any of the named files differs between
// folders a and b.
func sameFiles(t testing.TB, a, b string, names ...string) {
	t.Helper()
	for _, n := range names {
		if !bytes.Equal(readFile(t, filepath.Join(a, n)), readFile(t, filepath.Join(b, n))) {
			t.Errorf("%s differs between %s and %s", n, a, b)
		}
	}
}

// snapshot returns every file under dir, by relative path.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	s := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		s[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameSnapshot(t testing.TB, what string, got, want map[string]string) {
	t.Helper()
	for n, w := range want {
		if g, ok := got[n]; !ok {
			t.Errorf("%s: %s is gone", what, n)
		} else if g != w {
			t.Errorf("%s: %s changed", what, n)
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("%s: %s appeared", what, n)
		}
	}
}

// sameNames fails the test unless dir holds exactly the files named by
// names (space-separated, in sorted order).
func sameNames(t testing.TB, dir, names string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != names {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(readFile(t, path))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func parseFloat(t testing.TB, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return f
}

// logEnds returns the byte offset where each valid record of a run log
// ends, and the records.
func logEnds(t testing.TB, path string) ([]int64, []*logRecord) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr := newLogReader(f)
	var ends []int64
	var recs []*logRecord
	for rec := lr.next(); rec != nil; rec = lr.next() {
		ends = append(ends, lr.valid)
		r := *rec
		recs = append(recs, &r)
	}
	return ends, recs
}

// logIndices returns the run indices of a log that may be missing or
// growing, in order.
func logIndices(path string) []int {
	var idx []int
	scanLog(path, func(rec *logRecord) error { idx = append(idx, rec.row.Index); return nil })
	return idx
}

// countRecords counts the whole records of a run log from their headers
// alone, cheaply enough to poll a growing log.
func countRecords(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	var off int64
	buf := make([]byte, 64)
	for n := 0; ; n++ {
		k, _ := f.ReadAt(buf, off)
		nl := bytes.IndexByte(buf[:k], '\n')
		if nl < 0 {
			return n
		}
		_, length, _, ok := parseHead(buf[:nl+1])
		if !ok {
			return n
		}
		off += int64(nl + 1 + length)
		if off > fi.Size() {
			return n
		}
	}
}

// writeParts writes into dir the parts of the steps table that a crash of
// the CSV sweep in ref would have left, one run each (partRows is 1 in
// these tests): each run's lines of ref's steps.csv, without the header.
func writeParts(t testing.TB, ref, dir string) {
	t.Helper()
	lines := strings.SplitAfter(string(readFile(t, filepath.Join(ref, results.StepsFile))), "\n")[1:]
	k, last := -1, ""
	var part strings.Builder
	flush := func() {
		if k >= 0 {
			writeFile(t, filepath.Join(dir, PartsDir, partName(k, "csv")), []byte(part.String()))
		}
		part.Reset()
	}
	for _, l := range lines {
		if l == "" {
			continue
		}
		id, _, _ := strings.Cut(l, ",")
		if id != last {
			flush()
			k, last = k+1, id
		}
		part.WriteString(l)
	}
	flush()
}

// startedFolder makes dir a folder in which the sweep of folder ref was
// started and nothing run: its manifest.json and sweep.toml.
func startedFolder(t testing.TB, ref, dir string) {
	t.Helper()
	for _, f := range []string{results.ManifestFile, results.SweepFile} {
		writeFile(t, filepath.Join(dir, f), readFile(t, filepath.Join(ref, f)))
	}
}
