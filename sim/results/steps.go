package results

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"

	"github.com/klauspost/compress/zstd"

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
	csv    *bufio.Writer
	line   []byte
	last   []formatted // each metric's last value and its text (CSV)
	header string      // the CSV header, or none
	pq     *parquetSteps
}

// formatted is a value as writeCSV last wrote it.
type formatted struct {
	bits uint64
	text []byte
}

// zstdCodec compresses every steps.parquet's pages. It is shared, so that
// its pooled encoders serve every part of a sweep (an encoder per file
// allocated its buffers anew for each part: most of a sweep's
// allocations).
var zstdCodec = &zstdPages{}

// zstdPages compresses Parquet pages at zstd's fastest level (the 200-run
// incident sweep's table is 0.7% larger than at the default level, the
// sweep 4% faster), without entropy coding of literals (a quarter less
// time compressing, 0.7% larger again: the byte streams of the values
// compress by their matches), with a 1 MiB window: a page is smaller than
// that, so the window loses nothing, and each encoder holds about 2 MiB
// rather than the default window's 16. Frames carry their checksum.
type zstdPages struct{ encoders sync.Pool }

// Encode appends src, compressed as one zstd frame, to dst[:0].
func (c *zstdPages) Encode(dst, src []byte) ([]byte, error) {
	e, _ := c.encoders.Get().(*zstd.Encoder)
	if e == nil {
		var err error
		e, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithNoEntropyCompression(true), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true), zstd.WithZeroFrames(true))
		if err != nil {
			return nil, err
		}
	}
	defer c.encoders.Put(e)
	return e.EncodeAll(src, dst[:0]), nil
}

// NewStepsWriter returns a writer of a steps table in format f (csv or
// parquet) to w: a sweep's (with run_id) if sweep, else a run folder's.
// A CSV table starts with its header; a Parquet file is whole only after
// Close. header false leaves the CSV header out (for a part of a table).
func NewStepsWriter(w io.Writer, f sim.Format, sweep, header bool) *StepsWriter {
	sw := &StepsWriter{}
	switch f {
	case sim.FormatParquet:
		sw.pq = newParquetSteps(sweep)
	case sim.FormatCSV:
		sw.csv = bufio.NewWriterSize(nil, 1<<16)
		switch {
		case header && sweep:
			sw.header = SweepStepsHeader
		case header:
			sw.header = RunStepsHeader
		}
	default:
		panic(fmt.Sprintf("results: NewStepsWriter(%q): want csv or parquet", f))
	}
	sw.Reset(w)
	return sw
}

// Reset starts a new table on w, as NewStepsWriter with the same settings
// would, keeping the buffers this one has grown (a sweep writes its
// parts one after another with one writer). What was buffered and not
// flushed is dropped.
func (w *StepsWriter) Reset(dst io.Writer) {
	if w.csv != nil {
		w.csv.Reset(dst)
		w.csv.WriteString(w.header)
		return
	}
	w.pq.reset(dst)
}

// Write appends a run's series; id is its run_id (ignored in a run
// folder's table).
func (w *StepsWriter) Write(id string, s *Series) error {
	if w.csv != nil {
		return w.writeCSV(id, s)
	}
	return w.pq.add(id, s)
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
	default:
		return w.pq.flush()
	}
}

// Close flushes what is buffered and, in Parquet, writes the file's
// footer. It does not close the underlying writer.
func (w *StepsWriter) Close() error {
	switch {
	case w.csv != nil:
		return w.csv.Flush()
	default:
		return w.pq.close()
	}
}

// Append copies a part of a sweep's steps table, written by a StepsWriter
// of the same format without a header, to the end of w: CSV bytes as they
// are, or a Parquet file's row groups, copied without being decoded. The
// result is the table that writing the part's runs into w, with a Flush
// before and after, would give, byte for byte. If part is an *os.File,
// its offset moves (the bytes are copied through it, by the kernel).
func (w *StepsWriter) Append(part io.ReaderAt, size int64) error {
	switch {
	case w.csv != nil:
		_, err := io.Copy(w.csv, io.NewSectionReader(part, 0, size))
		return err
	case w.pq.id != nil:
		return w.pq.appendFile(part, size)
	default:
		panic("results: Append to a run folder's steps table")
	}
}
