package sweep

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rewardmix/rewardmix/sim/results"
)

// TestEncodeRunMatchesEncodeRecord: the in-place encoding of a run gives
// the bytes of encodeRecord, whatever storage it is handed, and scanRows
// reads back the rows that scanLog does.
func TestEncodeRunMatchesEncodeRecord(t *testing.T) {
	metrics := []string{"a", "b/c"}
	values := [][]float64{{1, 0.5}, {2.25, -1e-300}, {3, 7}}
	rows := []*RunRow{
		{Index: 0, ID: "r0", Seed: 1, Params: []string{"0.5"}, Status: "ok", Metrics: metrics, Final: values[2]},
		{Index: 12345678, ID: "r1", Seed: 1 << 62, Status: "failed", Error: "diverged"},
	}
	var storage []byte
	var log bytes.Buffer
	for _, row := range rows {
		m, v := metrics, values
		if row.Status != "ok" {
			m, v = nil, nil
		}
		steps := results.AppendSteps(nil, row.ID+",", m, v)
		want, err := encodeRecord(&logRecord{row: *row, steps: steps})
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		var at int
		got, at, storage, err = encodeRun(storage, row, m, v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("run %d: encodeRun\n%q\nencodeRecord\n%q", row.Index, got, want)
		}
		if !bytes.Equal(got[at:], steps) {
			t.Errorf("run %d: the step series at %d is %q, want %q", row.Index, at, got[at:], steps)
		}
		log.Write(got)
	}
	path := filepath.Join(t.TempDir(), results.RunLogFile)
	if err := os.WriteFile(path, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var viaLog, viaRows []string
	if _, err := scanLog(path, func(rec *logRecord) error { viaLog = append(viaLog, rec.row.ID+rec.row.Status); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := scanRows(path, func(row *RunRow) error { viaRows = append(viaRows, row.ID+row.Status); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(viaLog) != len(rows) || !slices.Equal(viaLog, viaRows) {
		t.Errorf("scanLog read %v, scanRows %v", viaLog, viaRows)
	}
}
