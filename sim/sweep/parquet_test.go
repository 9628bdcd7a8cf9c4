package sweep

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/rewardmix/rewardmix/sim/results"
)

// TestParquet: a sweep's steps.parquet is byte-identical on 1 or 2
// workers and after 3 shards are merged; Apache Arrow's Parquet reader (an
// implementation independent of the writer's) reads from it exactly the
// rows of the same sweep's steps.csv, value for value.
func TestParquet(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	pq := load(t, strings.Replace(gridSweep, `format = "csv"`, `format = "parquet"`, 1))
	ref := filepath.Join(tmp, "ref")
	mustRun(t, pq, ref, Options{Workers: 1})
	two := filepath.Join(tmp, "two")
	mustRun(t, pq, two, Options{Workers: 2})
	var shards []string
	for i := 0; i < 3; i++ {
		d := filepath.Join(tmp, "shard"+strconv.Itoa(i))
		mustRun(t, pq, d, Options{Workers: 2, Shard: Shard{Index: i, Count: 3}})
		shards = append(shards, d)
	}
	merged := filepath.Join(tmp, "merged")
	if _, err := Merge(merged, shards, false); err != nil {
		t.Fatal(err)
	}
	files := []string{results.RunsFile, results.StepsParquetFile, results.AggFile}
	sameFiles(t, ref, two, files...)
	sameFiles(t, ref, merged, files...)

	csvDir := filepath.Join(tmp, "csv")
	mustRun(t, load(t, gridSweep), csvDir, Options{Workers: 2})
	want := map[string]float64{}
	rows, err := csv.NewReader(bytes.NewReader(readFile(t, filepath.Join(csvDir, results.StepsFile)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[3], 64)
		if err != nil {
			t.Fatal(err)
		}
		want[r[0]+","+r[1]+","+r[2]] = v
	}

	rdr, err := file.NewParquetReader(bytes.NewReader(readFile(t, filepath.Join(ref, results.StepsParquetFile))))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if got := tbl.Schema().String(); !strings.Contains(got, "run_id: type=utf8") || !strings.Contains(got, "step: type=int32") || !strings.Contains(got, "metric: type=utf8") || !strings.Contains(got, "value: type=float64") {
		t.Fatalf("schema %s", got)
	}
	if int(tbl.NumRows()) != len(want) {
		t.Fatalf("steps.parquet has %d rows, steps.csv %d", tbl.NumRows(), len(want))
	}
	tr := array.NewTableReader(tbl, 4096)
	defer tr.Release()
	n := 0
	for tr.Next() {
		rec := tr.Record()
		ids, steps := rec.Column(0).(*array.String), rec.Column(1).(*array.Int32)
		metrics, values := rec.Column(2).(*array.String), rec.Column(3).(*array.Float64)
		for i := 0; i < int(rec.NumRows()); i++ {
			key := ids.Value(i) + "," + strconv.Itoa(int(steps.Value(i))) + "," + metrics.Value(i)
			if w, ok := want[key]; !ok || w != values.Value(i) {
				t.Fatalf("steps.parquet row %s = %v; steps.csv has %v (%v)", key, values.Value(i), w, ok)
			}
			delete(want, key)
			n++
		}
	}
	if len(want) != 0 || n == 0 {
		t.Errorf("%d rows of steps.csv are not in steps.parquet (%d read)", len(want), n)
	}
}
