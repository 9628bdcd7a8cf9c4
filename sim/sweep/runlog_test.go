package sweep

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rewardmix/rewardmix/sim/results"
)

// TestRecordsReadBack: records read back as the rows written, by scanLog
// and by scanRows alike, and a record of an earlier version (with its step
// series after the row) is read for its row.
func TestRecordsReadBack(t *testing.T) {
	rows := []*RunRow{
		{Index: 0, ID: "r0", Seed: 1, Params: []string{"0.5"}, Status: "ok", Metrics: []string{"a", "b/c"}, Final: []float64{3, -1e-300}, Part: 0, PartRuns: 2, PartSize: 1234},
		{Index: 12345678, ID: "r1", Seed: 1 << 62, Status: "failed", Error: "diverged", Part: 0, PartRuns: 2, PartSize: 1234},
	}
	var log bytes.Buffer
	for _, row := range rows {
		rec, err := encodeRecord(row)
		if err != nil {
			t.Fatal(err)
		}
		log.Write(rec)
	}
	// An earlier version's record: the row, then CSV step lines.
	old := append([]byte(`{"index":12345679,"run_id":"r2","seed":3,"params":null,"status":"ok"}`+"\n"), "r2,0,a,1\nr2,1,a,2\n"...)
	buf := append(make([]byte, headRoom), old...)
	log.Write(frameRecord(buf, 12345679))
	path := filepath.Join(t.TempDir(), results.RunLogFile)
	if err := os.WriteFile(path, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var viaLog, viaRows []string
	if _, err := scanLog(path, func(rec *logRecord) error {
		viaLog = append(viaLog, rec.row.ID+rec.row.Status)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := scanRows(path, func(row *RunRow) error { viaRows = append(viaRows, row.ID+row.Status); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{"r0ok", "r1failed", "r2ok"}
	if !slices.Equal(viaLog, want) || !slices.Equal(viaRows, want) {
		t.Errorf("scanLog read %v, scanRows %v, want %v", viaLog, viaRows, want)
	}
}

// TestResumeEarlierLog: a run log of an earlier version (its records hold
// the step series, not a part) is not resumed: the error says to start
// over, and the folder is left as it was.
func TestResumeEarlierLog(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	s := load(t, gridSweep)
	ref := filepath.Join(tmp, "ref")
	mustRun(t, s, ref, Options{Workers: 2})
	d := filepath.Join(tmp, "old")
	startedFolder(t, ref, d)
	payload := []byte(`{"index":0,"run_id":"r00","seed":3,"params":["0.5","0.02"],"status":"ok"}` + "\n" + "r00,0,kl,0\n")
	old := frameRecord(append(make([]byte, headRoom), payload...), 0)
	writeFile(t, filepath.Join(d, results.RunLogFile), old)
	_, err := Run(t.Context(), s, d, Options{Resume: true})
	var re *results.Error
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "earlier version of rewardmix") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("resuming an earlier version's log: %v", err)
	}
	if got := readFile(t, filepath.Join(d, results.RunLogFile)); !bytes.Equal(got, old) {
		t.Error("the log was changed")
	}
}

// TestCompactNames: a part's records leave out the metric names that equal
// the ok record's before them, and read back whole through scanLog and
// scanRows; a failed run in between changes nothing.
func TestCompactNames(t *testing.T) {
	a, b := []string{"kl", "sycophancy_rate"}, []string{"kl", "sycophancy_rate", "review/launched"}
	rows := []*RunRow{
		{Index: 0, ID: "r0", Status: "ok", Metrics: a, Final: []float64{1, 2}},
		{Index: 1, ID: "r1", Status: "ok", Metrics: a, Final: []float64{3, 4}},
		{Index: 2, ID: "r2", Status: "failed", Error: "diverged"},
		{Index: 3, ID: "r3", Status: "ok", Metrics: a, Final: []float64{5, 6}},
		{Index: 4, ID: "r4", Status: "ok", Metrics: b, Final: []float64{7, 8, 1}},
		{Index: 5, ID: "r5", Status: "ok", Metrics: b, Final: []float64{9, 10, 0}},
	}
	var log bytes.Buffer
	omitted := 0
	for _, r := range compactNames(rows) {
		if r.Status == "ok" && r.Metrics == nil {
			omitted++
		}
		rec, err := encodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		log.Write(rec)
	}
	if omitted != 3 || rows[1].Metrics == nil {
		t.Fatalf("%d records left their names out (want 3: r1, r3, r5), or the rows given were changed", omitted)
	}
	path := filepath.Join(t.TempDir(), results.RunLogFile)
	if err := os.WriteFile(path, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(how string, got []RunRow) {
		t.Helper()
		if len(got) != len(rows) {
			t.Fatalf("%s read %d rows", how, len(got))
		}
		for i, r := range rows {
			if !slices.Equal(got[i].Metrics, r.Metrics) || !slices.Equal(got[i].Final, r.Final) {
				t.Errorf("%s: run %d has %v = %v, want %v = %v", how, i, got[i].Metrics, got[i].Final, r.Metrics, r.Final)
			}
		}
	}
	var viaLog, viaRows []RunRow
	scanLog(path, func(rec *logRecord) error { viaLog = append(viaLog, rec.row); return nil })
	scanRows(path, func(row *RunRow) error { viaRows = append(viaRows, *row); return nil })
	check("scanLog", viaLog)
	check("scanRows", viaRows)
}
