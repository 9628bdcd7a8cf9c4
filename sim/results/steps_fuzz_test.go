package results

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rewardmix/rewardmix/sim"
)

// FuzzStepsTable: any bytes given as a steps table, Parquet or CSV, read
// through either reader, give rows or an error, never a panic.
func FuzzStepsTable(f *testing.F) {
	s := &Series{Metrics: []string{"kl", "sycophancy_rate/expert"}, Steps: []int{0, 5, 10}, Values: []float64{0, 0.5, 1, 0.25, 0.125, -3}}
	for _, format := range []sim.Format{sim.FormatParquet, sim.FormatCSV} {
		var b bytes.Buffer
		w := NewStepsWriter(&b, format, true, true)
		w.Write("r0", s)
		w.Flush()
		w.Write("r1", s)
		w.Close()
		f.Add(b.Bytes(), format == sim.FormatParquet)
	}
	f.Fuzz(func(t *testing.T, data []byte, parquet bool) {
		name := StepsFile
		if parquet {
			name = StepsParquetFile
		}
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, sweep := range []bool{true, false} {
			scanSteps(path, sweep, func(b *stepBlock) error {
				for i := range b.value {
					if int(b.metric[i]) >= len(b.metrics) || sweep && int(b.id[i]) >= len(b.ids) {
						t.Fatalf("row %d: index out of its dictionary", i)
					}
				}
				return nil
			})
		}
		r, err := OpenSeries(path)
		if err != nil {
			return
		}
		defer r.Close()
		for k := 0; k < 1000; k++ {
			if _, _, err := r.Next(); err == io.EOF || err != nil {
				return
			}
		}
	})
}
