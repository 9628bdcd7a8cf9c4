package results

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

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
// metrics x 301 steps, values that move slowly as a run's do) as one part.
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
			for i := 0; i < b.N; i++ {
				buf.Reset()
				w := NewStepsWriter(&buf, format, true, false)
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
// included; the row group's statistics are the least and greatest step
// and value (NaN left out, a zero minimum as -0); a writer Reset onto a
// new file writes the bytes a new writer does.
func TestParquetPages(t *testing.T) {
	long := func(run int) *Series {
		s := &Series{Metrics: []string{"a", "b/c", "d"}}
		for i := 0; i < 15000; i++ {
			s.Steps = append(s.Steps, 3*i+run)
		}
		for k := range s.Metrics {
			for i := range s.Steps {
				v := float64(run*10+k) + float64(i)/1e4
				switch {
				case i%997 == 0:
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
	write := func(w *StepsWriter, buf *bytes.Buffer) {
		t.Helper()
		for run := 0; run < 2; run++ {
			if err := w.Write("r"+string(rune('0'+run)), long(run)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var first, again bytes.Buffer
	w := NewStepsWriter(&first, sim.FormatParquet, true, false)
	write(w, &first)
	w.Reset(&again)
	write(w, &again)
	if !bytes.Equal(first.Bytes(), again.Bytes()) {
		t.Fatalf("a writer Reset wrote %d bytes, a new one %d, not the same", again.Len(), first.Len())
	}

	path := filepath.Join(t.TempDir(), StepsParquetFile)
	if err := os.WriteFile(path, first.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenSeries(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for run := 0; run < 2; run++ {
		id, got, err := r.Next()
		want := long(run)
		same := err == nil && slices.Equal(got.Steps, want.Steps) && slices.Equal(got.Metrics, want.Metrics) && len(got.Values) == len(want.Values)
		for i := 0; same && i < len(want.Values); i++ {
			same = math.Float64bits(got.Values[i]) == math.Float64bits(want.Values[i])
		}
		if !same || id != "r"+string(rune('0'+run)) {
			t.Fatalf("run %d read back as %s (%v), not as written", run, id, err)
		}
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := openParquet(f, int64(first.Len()))
	if err != nil {
		t.Fatal(err)
	}
	cols := pf.Metadata().RowGroups[0].Columns
	step, value := cols[1].MetaData.Statistics, cols[3].MetaData.Statistics
	le32 := func(b []byte) int32 {
		return int32(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	}
	le64 := func(b []byte) float64 {
		var u uint64
		for i := 7; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		return math.Float64frombits(u)
	}
	if lo, hi := le32(step.MinValue), le32(step.MaxValue); lo != 0 || hi != 3*14999+1 {
		t.Errorf("step statistics [%d, %d], want [0, %d]", lo, hi, 3*14999+1)
	}
	if lo, hi := le64(value.MinValue), le64(value.MaxValue); !(lo == 0 && math.Signbit(lo)) || hi != 12+14999/1e4 {
		t.Errorf("value statistics [%v (sign %v), %v], want [-0, %v]", lo, math.Signbit(lo), hi, 12+14999/1e4)
	}
	if n := pf.Metadata().RowGroups[0].NumRows; n != 2*3*15000 {
		t.Errorf("%d rows, want %d", n, 2*3*15000)
	}
}
