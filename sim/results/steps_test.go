package results

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/rewardmix/rewardmix/sim"
)

// testSeries is a run's series of 3 metrics over steps 0, 2, 4, ..., with
// distinct values.
func testSeries(run, steps int) *Series {
	s := &Series{Metrics: []string{"kl", "sycophancy_rate", "sycophancy_rate/vulnerable"}}
	for t := 0; t < steps; t++ {
		s.Steps = append(s.Steps, 2*t)
	}
	for k := range s.Metrics {
		for t := range s.Steps {
			s.Values = append(s.Values, float64(run)+float64(k)/10+math.Ldexp(float64(t), -20))
		}
	}
	return s
}

// TestStepsRoundTrip: what a StepsWriter writes, in either format, reads
// back through scanSteps and through a SeriesReader as the same runs and
// series, bit for bit; parts joined with Append are byte for byte the
// table written at once with a Flush at each part's end.
func TestStepsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ids := []string{"r0", "r1", "r2", "r3", "r4"}
	for _, format := range []sim.Format{sim.FormatParquet, sim.FormatCSV} {
		var whole bytes.Buffer
		w := NewStepsWriter(&whole, format, true, true)
		var parts [][]byte
		var part bytes.Buffer
		pw := NewStepsWriter(&part, format, true, false)
		for i, id := range ids {
			s := testSeries(i, 7+i)
			if err := w.Write(id, s); err != nil {
				t.Fatal(err)
			}
			if err := pw.Write(id, s); err != nil {
				t.Fatal(err)
			}
			if i%2 == 1 || i == len(ids)-1 { // parts of two runs, the last of one
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				if err := pw.Close(); err != nil {
					t.Fatal(err)
				}
				parts = append(parts, bytes.Clone(part.Bytes()))
				part.Reset()
				pw = NewStepsWriter(&part, format, true, false)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var joined bytes.Buffer
		jw := NewStepsWriter(&joined, format, true, true)
		for _, p := range parts {
			if err := jw.Append(bytes.NewReader(p), int64(len(p))); err != nil {
				t.Fatal(err)
			}
		}
		if err := jw.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(joined.Bytes(), whole.Bytes()) {
			t.Errorf("%s: parts joined (%d bytes) differ from the table written at once (%d bytes)", format, joined.Len(), whole.Len())
		}

		path := filepath.Join(dir, StepsFileName(format))
		if err := os.WriteFile(path, whole.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenSeries(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			gotID, got, err := r.Next()
			want := testSeries(i, 7+i)
			if err != nil || gotID != id || !slices.Equal(got.Metrics, want.Metrics) || !slices.Equal(got.Steps, want.Steps) || !slices.Equal(got.Values, want.Values) {
				t.Fatalf("%s: run %d read back as %s %+v (%v), want %s %+v", format, i, gotID, got, err, id, want)
			}
		}
		if _, _, err := r.Next(); err != io.EOF {
			t.Errorf("%s: after the last run: %v, want io.EOF", format, err)
		}
		r.Close()

		rows := map[string]float64{}
		if err := scanSteps(path, true, func(b *stepBlock) error {
			for i, v := range b.value {
				rows[string(b.ids[b.id[i]])+"/"+string(b.metrics[b.metric[i]])+"@"+string(rune('0'+b.step[i]))] = v
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		n := 0
		for i, id := range ids {
			s := testSeries(i, 7+i)
			for k, m := range s.Metrics {
				for j, st := range s.Steps {
					if v, ok := rows[id+"/"+m+"@"+string(rune('0'+st))]; !ok || v != s.Values[k*len(s.Steps)+j] {
						t.Fatalf("%s: %s %s at step %d: %v (%v), want %v", format, id, m, st, v, ok, s.Values[k*len(s.Steps)+j])
					}
					n++
				}
			}
		}
		if n != len(rows) {
			t.Errorf("%s: scanSteps read %d rows, want %d", format, len(rows), n)
		}
	}
}

// TestRecord: [output] every and metrics select the steps (every Nth, the
// update, the mix's changes, the last) and the metrics a table records.
func TestRecord(t *testing.T) {
	cfg := &sim.Config{Train: sim.Train{Steps: 12, UpdateStep: 5}, Output: sim.Output{Every: 4, Metrics: []string{"sycophancy_rate*", "kl"}}}
	metrics := []string{"sycophancy_rate", "gold_utility", "sycophancy_rate/vulnerable", "kl"}
	values := make([][]float64, 13)
	for t := range values {
		for k := range metrics {
			values[t] = append(values[t], float64(100*t+k))
		}
	}
	s := Record(cfg, metrics, values)
	if !slices.Equal(s.Steps, []int{0, 4, 5, 8, 12}) || !slices.Equal(s.Metrics, []string{"sycophancy_rate", "sycophancy_rate/vulnerable", "kl"}) {
		t.Fatalf("recorded steps %v, metrics %v", s.Steps, s.Metrics)
	}
	want := []float64{0, 400, 500, 800, 1200, 2, 402, 502, 802, 1202, 3, 403, 503, 803, 1203}
	if !slices.Equal(s.Values, want) {
		t.Errorf("values %v, want %v", s.Values, want)
	}
}

// BenchmarkStepsWriter writes 76 runs of the incident preset's shape (46
// metrics x 301 steps, values that move slowly as a run's do) as one part,
// with one writer Reset for each (as a sweep writes its parts).
func BenchmarkStepsWriter(b *testing.B) {
	s := &Series{}
	for k := 0; k < 46; k++ {
		s.Metrics = append(s.Metrics, "metric/"+string(rune('a'+k%26))+string(rune('a'+k/26)))
	}
	for t := 0; t <= 300; t++ {
		s.Steps = append(s.Steps, t)
	}
	for k := range s.Metrics {
		v := 0.5 / float64(k+1)
		for t := range s.Steps {
			if k%4 != 0 { // a quarter of the metrics are constant (weights, inactive signals)
				v += 1e-3 * math.Sin(float64(t*(k+1)))
			}
			s.Values = append(s.Values, v)
		}
	}
	for _, format := range []sim.Format{sim.FormatParquet, sim.FormatCSV} {
		b.Run(string(format), func(b *testing.B) {
			var buf bytes.Buffer
			w := NewStepsWriter(&buf, format, true, false)
			for i := 0; i < b.N; i++ {
				buf.Reset()
				w.Reset(&buf)
				for r := 0; r < 76; r++ {
					w.Write("r"+string(rune('0'+r/10))+string(rune('0'+r%10)), s)
				}
				w.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(76*len(s.Values)), "ns/row")
			b.ReportMetric(float64(buf.Len())/float64(76*len(s.Values)), "bytes/row")
		})
	}
}

// TestZstdBomb: a 126 KB steps.parquet whose page is one zstd frame of
// thousands of RLE blocks, stating no content size, decodes to gigabytes
// (3.4 GB resident before the check): it is refused before the library
// reads it, with next to nothing allocated.
func TestZstdBomb(t *testing.T) {
	path := filepath.Join("testdata", "zstd-bomb.parquet")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := scanSteps(path, true, func(*stepBlock) error { return nil })
	r, err2 := OpenSeries(path)
	if err2 == nil {
		_, _, err2 = r.Next()
		r.Close()
	}
	runtime.ReadMemStats(&after)
	var re *Error
	for _, e := range []error{err, err2} {
		if !errors.As(e, &re) || !strings.Contains(e.Error(), "zstd frame") {
			t.Errorf("the zstd bomb: %v, want an *Error about its zstd frame", e)
		}
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("reading the bomb allocated %d MB", got>>20)
	}
}

// TestParquetPages: runs long enough that pages end inside a metric's
// series and span runs read back bit for bit, NaN and signed zeros
// included; each row group's statistics are its least and greatest step
// and value (a zero minimum as -0, none for value where a NaN is); a
// writer Reset onto a new file writes the bytes a new writer does; a
// write error and a write after Close are returned, every time.
func TestParquetPages(t *testing.T) {
	// Run r: three metrics over steps r, r+3, ...; NaN in run 1 only.
	long := func(run int) *Series {
		s := &Series{Metrics: []string{"a", "b/c", "d"}}
		for i := 0; i < 15000; i++ {
			s.Steps = append(s.Steps, 3*i+run)
		}
		for k := range s.Metrics {
			for i := range s.Steps {
				v := float64(run*10+k) + float64(i)/1e4
				switch {
				case run == 1 && i%997 == 0:
					v = math.NaN()
				case i == 5:
					v = 0 // before -0: the least value seen first is +0
				case i == 6:
					v = math.Copysign(0, -1)
				}
				s.Values = append(s.Values, v)
			}
		}
		return s
	}
	write := func(w *StepsWriter) {
		t.Helper()
		for run := 0; run < 3; run++ { // row groups: runs 0 and 1, then run 2
			if err := w.Write("r"+string(rune('0'+run)), long(run)); err != nil {
				t.Fatal(err)
			}
			if run == 1 {
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Write("r9", long(0)); err == nil {
			t.Error("a Write after Close: no error")
		}
	}
	var first, again bytes.Buffer
	w := NewStepsWriter(&first, sim.FormatParquet, true, false)
	write(w)
	w.Reset(&again)
	write(w)
	if !bytes.Equal(first.Bytes(), again.Bytes()) {
		t.Fatalf("a writer Reset wrote %d bytes, a new one %d, not the same", again.Len(), first.Len())
	}

	path := readBackSeries(t, first.Bytes(), []*Series{long(0), long(1), long(2)})

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := openParquet(f, int64(first.Len()))
	if err != nil {
		t.Fatal(err)
	}
	le32 := func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) }
	le64 := func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }
	groups := pf.Metadata().RowGroups
	if len(groups) != 2 || groups[0].NumRows != 2*3*15000 || groups[1].NumRows != 3*15000 {
		t.Fatalf("row groups %d, want 2 of 90000 and 45000 rows", len(groups))
	}
	for g, want := range []struct{ stepMax int32 }{{3*14999 + 1}, {3*14999 + 2}} {
		cols := groups[g].Columns
		step, value := cols[1].MetaData.Statistics, cols[3].MetaData.Statistics
		if lo, hi := le32(step.MinValue), le32(step.MaxValue); lo != int32(g*2) || hi != want.stepMax {
			t.Errorf("row group %d: step statistics [%d, %d], want [%d, %d]", g, lo, hi, g*2, want.stepMax)
		}
		if g == 0 {
			if value.MinValue != nil || value.MaxValue != nil {
				t.Errorf("row group 0 holds NaN: value statistics %v, %v, want none", value.MinValue, value.MaxValue)
			}
			continue
		}
		if lo, hi := le64(value.MinValue), le64(value.MaxValue); !(lo == 0 && math.Signbit(lo)) || hi != 22+14999/1e4 {
			t.Errorf("row group 1: value statistics [%v (sign %v), %v], want [-0, %v]", lo, math.Signbit(lo), hi, 22+14999/1e4)
		}
	}

	// A write error stops the writer: the Flush that met it and every
	// later call return it (before, a Write after it spun forever on the
	// page it could not end).
	broken := NewStepsWriter(&failAfter{n: 100}, sim.FormatParquet, true, false)
	if err := broken.Write("r0", long(0)); err != nil {
		t.Fatal(err) // pages are held until the row group ends
	}
	if err := broken.Flush(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Flush onto a full disk: %v, want %v", err, errDiskFull)
	}
	for range 2 {
		if err := broken.Write("r1", long(1)); !errors.Is(err, errDiskFull) {
			t.Fatalf("Write after a write error: %v, want %v", err, errDiskFull)
		}
	}
	if err := broken.Close(); !errors.Is(err, errDiskFull) {
		t.Errorf("Close after a write error: %v", err)
	}
}

var errDiskFull = errors.New("disk full")

// failAfter accepts n bytes, then fails.
type failAfter struct{ n int }

func (f *failAfter) Write(b []byte) (int, error) {
	if len(b) > f.n {
		k := f.n
		f.n = 0
		return k, errDiskFull
	}
	f.n -= len(b)
	return len(b), nil
}

// TestAppendOldPart: a part written by the previous version's writer
// (parquet-go's row writer, with page indexes after its row group), as a
// sweep started before an upgrade leaves, joins a table written now: its
// runs read back as written, and no reference to its page indexes stays.
func TestAppendOldPart(t *testing.T) {
	type oldRow struct {
		RunID  string  `parquet:"run_id,dict"`
		Step   int32   `parquet:"step,delta"`
		Metric string  `parquet:"metric,dict"`
		Value  float64 `parquet:"value,split"`
	}
	var old bytes.Buffer
	ow := parquet.NewGenericWriter[oldRow](&old, parquet.Compression(&parquet.Zstd))
	var rows []oldRow
	for i := 0; i < 2; i++ {
		s := testSeries(i, 9)
		for k, m := range s.Metrics {
			for j, st := range s.Steps {
				rows = append(rows, oldRow{"r" + string(rune('0'+i)), int32(st), m, s.Values[k*len(s.Steps)+j]})
			}
		}
	}
	if _, err := ow.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := ow.Close(); err != nil {
		t.Fatal(err)
	}
	if md, _, err := readFooter(bytes.NewReader(old.Bytes()), int64(old.Len())); err != nil || md.RowGroups[0].Columns[0].OffsetIndexOffset == 0 {
		t.Fatalf("the old writer's part has no page index (%v): not the case to test", err)
	}
	var joined bytes.Buffer
	w := NewStepsWriter(&joined, sim.FormatParquet, true, true)
	if err := w.Append(bytes.NewReader(old.Bytes()), int64(old.Len())); err != nil {
		t.Fatal(err)
	}
	if err := w.Write("r2", testSeries(2, 9)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := readBackSeries(t, joined.Bytes(), []*Series{testSeries(0, 9), testSeries(1, 9), testSeries(2, 9)})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	md, _, err := readFooter(f, int64(joined.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for g, rg := range md.RowGroups {
		for _, c := range rg.Columns {
			if c.OffsetIndexOffset != 0 || c.ColumnIndexOffset != 0 || c.FileOffset != 0 {
				t.Errorf("row group %d, column %v: page index at %d and %d, file_offset %d; want none", g, c.MetaData.PathInSchema, c.OffsetIndexOffset, c.ColumnIndexOffset, c.FileOffset)
			}
		}
	}
}

// readBackSeries writes a sweep's steps table in Parquet to a file and
// checks that a SeriesReader reads from it runs r0, r1, ... with the
// series want, bit for bit (NaN included), and no more; it returns the
// file's path.
func readBackSeries(t *testing.T, table []byte, want []*Series) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), StepsParquetFile)
	if err := os.WriteFile(path, table, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenSeries(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for run, w := range want {
		id, got, err := r.Next()
		same := err == nil && slices.Equal(got.Steps, w.Steps) && slices.Equal(got.Metrics, w.Metrics) && len(got.Values) == len(w.Values)
		for i := 0; same && i < len(w.Values); i++ {
			same = math.Float64bits(got.Values[i]) == math.Float64bits(w.Values[i])
		}
		if !same || id != "r"+string(rune('0'+run)) {
			t.Fatalf("run %d read back as %s (%v), not as written", run, id, err)
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last run: %v, want io.EOF", err)
	}
	return path
}
