package results

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/rewardmix/rewardmix/sim"
)

// Series is the part of a run's step series that its steps table records
// (the config's [output] table chooses it): Values[k*len(Steps)+i] is
// metric Metrics[k] at step Steps[i], so that each metric's series is
// contiguous.
type Series struct {
	Metrics []string
	Steps   []int
	Values  []float64
}

// Record selects from a finished run's step series (values[step][metric],
// every metric at every step 0..cfg.Train.Steps) the steps and metrics that
// cfg.Output records.
func Record(cfg *sim.Config, metrics []string, values [][]float64) *Series {
	steps := cfg.RecordedSteps()
	steps = steps[:countBelow(steps, len(values))]
	ks := cfg.Output.RecordedMetrics(metrics)
	s := &Series{Steps: steps, Metrics: make([]string, len(ks)), Values: make([]float64, len(ks)*len(steps))}
	for j, k := range ks {
		s.Metrics[j] = metrics[k]
		col := s.Values[j*len(steps) : (j+1)*len(steps)]
		for i, t := range steps {
			col[i] = values[t][k]
		}
	}
	return s
}

// countBelow returns how many of the sorted steps are below n.
func countBelow(steps []int, n int) int {
	k := len(steps)
	for k > 0 && steps[k-1] >= n {
		k--
	}
	return k
}

// Rows is the number of rows the series makes in a steps table.
func (s *Series) Rows() int { return len(s.Values) }

// StepsFileName is the name of the steps table in format f ("csv" or
// "parquet"; see sim.Format.Resolve).
func StepsFileName(f sim.Format) string {
	if f == sim.FormatParquet {
		return StepsParquetFile
	}
	return StepsFile
}

// StepsParquetFile is the steps table in Parquet.
const StepsParquetFile = "steps.parquet"

// A StepsWriter writes a steps table, a run at a time: a run folder's
// (step, metric, value) or a sweep's (run_id, step, metric, value), as
// tidy CSV or as Parquet.
//
// CSV rows go step by step, every recorded metric at each step, as earlier
// versions wrote them. Parquet rows go metric by metric (each metric's
// series in step order), which compresses best: run_id and metric are
// dictionary-encoded strings, step a delta-encoded int32, value a double
// split into byte streams, all zstd-compressed, with a row group at each
// Flush. The bytes depend only on the rows and the flushes.
type StepsWriter struct {
	csv     *bufio.Writer
	line    []byte
	last    []formatted // each metric's last value and its text (CSV)
	sweep   *parquet.GenericWriter[sweepStepRow]
	run     *parquet.GenericWriter[runStepRow]
	sweepRs []sweepStepRow
	runRs   []runStepRow
}

// formatted is a value as writeCSV last wrote it.
type formatted struct {
	bits uint64
	text []byte
}

// sweepStepRow and runStepRow are the rows of a sweep's and of a run
// folder's steps.parquet.
// zstdCodec compresses every steps.parquet's pages. It is shared, so that
// its pooled encoders serve every part of a sweep (a codec per file
// allocated their buffers anew for each part: most of a sweep's
// allocations).
var zstdCodec = &zstdPages{}

// zstdPages is Parquet's zstd codec at zstd's fastest level (the 200-run
// incident sweep's table is 0.7% larger than at the default level, the
// sweep 4% faster) with a 1 MiB window: a page is smaller than that, so
// the window loses nothing, and each encoder holds about 2 MiB rather than
// the default window's 16.
type zstdPages struct{ encoders, decoders sync.Pool }

func (*zstdPages) String() string                            { return "ZSTD" }
func (*zstdPages) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (c *zstdPages) Encode(dst, src []byte) ([]byte, error) {
	e, _ := c.encoders.Get().(*zstd.Encoder)
	if e == nil {
		var err error
		e, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return nil, err
		}
	}
	defer c.encoders.Put(e)
	return e.EncodeAll(src, dst[:0]), nil
}

func (c *zstdPages) Decode(dst, src []byte) ([]byte, error) {
	d, _ := c.decoders.Get().(*zstd.Decoder)
	if d == nil {
		var err error
		if d, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1)); err != nil {
			return nil, err
		}
	}
	defer c.decoders.Put(d)
	return d.DecodeAll(src, dst[:0])
}

type sweepStepRow struct {
	RunID  string  `parquet:"run_id,dict"`
	Step   int32   `parquet:"step,delta"`
	Metric string  `parquet:"metric,dict"`
	Value  float64 `parquet:"value,split"`
}

type runStepRow struct {
	Step   int32   `parquet:"step,delta"`
	Metric string  `parquet:"metric,dict"`
	Value  float64 `parquet:"value,split"`
}

// parquetOptions are the writer settings of every steps.parquet. The
// string columns' bounds and page statistics cost a quarter of the writing
// time and serve no filter a reader of a few hundred metrics and runs
// needs; step and value keep theirs.
func parquetOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(zstdCodec),
		parquet.MaxRowsPerRowGroup(math.MaxInt32), // row groups end at Flush only
		parquet.SkipPageBounds("run_id"), parquet.SkipPageBounds("metric"),
		parquet.SkipPageStatistics("run_id"), parquet.SkipPageStatistics("metric"),
		parquet.CreatedBy("rewardmix", sim.Version, ""),
	}
}

// NewStepsWriter returns a writer of a steps table in format f (csv or
// parquet) to w: a sweep's (with run_id) if sweep, else a run folder's.
// A CSV table starts with its header; a Parquet file is whole only after
// Close. header false leaves the CSV header out (for a part of a table).
func NewStepsWriter(w io.Writer, f sim.Format, sweep, header bool) *StepsWriter {
	sw := &StepsWriter{}
	switch {
	case f == sim.FormatParquet && sweep:
		sw.sweep = parquet.NewGenericWriter[sweepStepRow](w, parquetOptions()...)
	case f == sim.FormatParquet:
		sw.run = parquet.NewGenericWriter[runStepRow](w, parquetOptions()...)
	case f == sim.FormatCSV:
		sw.csv = bufio.NewWriterSize(w, 1<<16)
		if header && sweep {
			sw.csv.WriteString(SweepStepsHeader)
		} else if header {
			sw.csv.WriteString(RunStepsHeader)
		}
	default:
		panic(fmt.Sprintf("results: NewStepsWriter(%q): want csv or parquet", f))
	}
	return sw
}

// Write appends a run's series; id is its run_id (ignored in a run
// folder's table).
func (w *StepsWriter) Write(id string, s *Series) error {
	n := len(s.Steps)
	switch {
	case w.csv != nil:
		return w.writeCSV(id, s)
	case w.sweep != nil:
		rs := w.sweepRs[:0]
		for k, m := range s.Metrics {
			for i, t := range s.Steps {
				rs = append(rs, sweepStepRow{RunID: id, Step: int32(t), Metric: m, Value: s.Values[k*n+i]})
			}
		}
		w.sweepRs = rs
		_, err := w.sweep.Write(rs)
		return err
	default:
		rs := w.runRs[:0]
		for k, m := range s.Metrics {
			for i, t := range s.Steps {
				rs = append(rs, runStepRow{Step: int32(t), Metric: m, Value: s.Values[k*n+i]})
			}
		}
		w.runRs = rs
		_, err := w.run.Write(rs)
		return err
	}
}

// writeCSV writes a run's rows step by step: [id,]step,metric,value. A
// value equal in every bit to the metric's at the step before is copied
// from that line rather than formatted again (about a quarter of them in
// the incident preset: weights, inactive signals' shares).
func (w *StepsWriter) writeCSV(id string, s *Series) error {
	n := len(s.Steps)
	if cap(w.last) < len(s.Metrics) {
		w.last = make([]formatted, len(s.Metrics))
	}
	last := w.last[:len(s.Metrics)] // each metric's entry is set at its first step
	for i, t := range s.Steps {
		head := w.line[:0]
		if id != "" {
			head = append(append(head, id...), ',')
		}
		head = append(strconv.AppendInt(head, int64(t), 10), ',')
		w.line = head
		for k, m := range s.Metrics {
			v := s.Values[k*n+i]
			line := append(append(head, m...), ',')
			if b, l := math.Float64bits(v), &last[k]; i > 0 && b == l.bits {
				line = append(line, l.text...)
			} else {
				at := len(line)
				line = strconv.AppendFloat(line, v, 'g', -1, 64)
				l.bits, l.text = b, append(l.text[:0], line[at:]...)
			}
			line = append(line, '\n')
			if _, err := w.csv.Write(line); err != nil {
				return err
			}
			head = line[:len(head)]
		}
		w.line = head
	}
	return nil
}

// Flush writes what is buffered: in Parquet, it ends a row group.
func (w *StepsWriter) Flush() error {
	switch {
	case w.csv != nil:
		return w.csv.Flush()
	case w.sweep != nil:
		return w.sweep.Flush()
	default:
		return w.run.Flush()
	}
}

// Close flushes what is buffered and, in Parquet, writes the file's
// footer. It does not close the underlying writer.
func (w *StepsWriter) Close() error {
	switch {
	case w.csv != nil:
		return w.csv.Flush()
	case w.sweep != nil:
		return w.sweep.Close()
	default:
		return w.run.Close()
	}
}

// Append copies a part of a sweep's steps table, written by a StepsWriter
// of the same format without a header, to the end of w: CSV bytes as they
// are, or a Parquet file's row groups, copied without being decoded. The
// result is the table that writing the part's runs into w, with a Flush
// before and after, would give, byte for byte.
func (w *StepsWriter) Append(part io.ReaderAt, size int64) error {
	switch {
	case w.csv != nil:
		_, err := io.Copy(w.csv, io.NewSectionReader(part, 0, size))
		return err
	case w.sweep != nil:
		if err := w.sweep.Flush(); err != nil {
			return err
		}
		f, err := parquet.OpenFile(part, size)
		if err != nil {
			return err
		}
		for _, rg := range f.RowGroups() {
			if _, err := w.sweep.WriteRowGroup(rg); err != nil {
				return err
			}
		}
		return nil
	default:
		panic("results: Append to a run folder's steps table")
	}
}
