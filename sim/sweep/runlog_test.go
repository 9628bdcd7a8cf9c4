package sweep

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
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
