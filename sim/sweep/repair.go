package sweep

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// LogRepair is what resuming a sweep cut off its run log: from the first
// record that is not whole and valid to the end, every record after it
// included (the log must be a prefix of the shard's runs). Run reports it
// in the first Progress and in its Summary.
type LogRepair struct {
	Path   string // the run log
	Record int    // the first record dropped, counting from 1
	Offset int64  // the byte it began at, where the log now ends
	Bytes  int64  // bytes dropped
	// After is the number of whole, valid records found after the bad
	// one: dropped with it, as the log keeps only the runs before it.
	After int
	// Torn is true when the log ends in a record cut short (or in zero
	// bytes), as a crash while a run was being recorded leaves it: the
	// normal case after a kill or power loss, nothing else is lost.
	// Otherwise the log was damaged after it was written.
	Torn bool
	// Reason says what is wrong with the record: "fails its checksum",
	// "has an unreadable header", ...
	Reason string
	// Complete is true when the records kept hold every run of the
	// shard: the bytes dropped were not runs, and none is run again.
	Complete bool
}

// String is a one-line account of the repair, for example "out/runs.log:
// record 17 (at byte 51234) fails its checksum: dropped it and the 29
// records after it (88.0 KiB in all); they will be run again".
func (r *LogRepair) String() string {
	var what string
	switch {
	case r.Torn && r.After > 0:
		what = fmt.Sprintf("%s: the last %d records, from record %d, %s: dropped them (%s)", r.Path, r.After+1, r.Record, r.Reason, sizeOf(r.Bytes))
	case r.Torn:
		what = fmt.Sprintf("%s: the last record, record %d, %s, as a crash leaves it: dropped it (%s)", r.Path, r.Record, r.Reason, sizeOf(r.Bytes))
	case r.After == 1:
		what = fmt.Sprintf("%s: record %d (at byte %d) %s: dropped it and the record after it (%s in all)", r.Path, r.Record, r.Offset, r.Reason, sizeOf(r.Bytes))
	case r.After > 1:
		what = fmt.Sprintf("%s: record %d (at byte %d) %s: dropped it and the %d records after it (%s in all)", r.Path, r.Record, r.Offset, r.Reason, r.After, sizeOf(r.Bytes))
	default:
		what = fmt.Sprintf("%s: record %d (at byte %d) %s: dropped the log from there on (%s)", r.Path, r.Record, r.Offset, r.Reason, sizeOf(r.Bytes))
	}
	switch {
	case r.Complete:
		return what + "; every run is still in the log, none is lost"
	case r.After > 0:
		return what + "; they will be run again"
	default:
		return what + "; it will be run again"
	}
}

func sizeOf(n int64) string {
	switch {
	case n == 1:
		return "1 byte"
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// diagnoseLog says why the run log at path has bytes after its valid
// prefix of valid bytes (good records), and what they hold; nil if it has
// none. It reads the log again, so it is only for a log that needs it.
func diagnoseLog(path string, valid int64, good int) (*LogRepair, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size <= valid {
		return nil, nil
	}
	r := &LogRepair{Path: path, Record: good + 1, Offset: valid, Bytes: size - valid}
	zero, err := allZero(io.NewSectionReader(f, valid, size-valid))
	if err != nil {
		return nil, err
	}
	if zero {
		r.Torn, r.Reason = true, fmt.Sprintf("is %s of zeros", sizeOf(size-valid))
		return r, nil
	}
	head := make([]byte, min(size-valid, headRoom))
	if _, err := f.ReadAt(head, valid); err != nil {
		return nil, err
	}
	nl := bytes.IndexByte(head, '\n')
	switch {
	case nl < 0 && size-valid < headRoom:
		r.Torn, r.Reason = true, "is cut short in its header"
		return r, nil
	case nl < 0:
		r.Reason = "has an unreadable header"
	default:
		_, n, crc, ok := parseHead(head[:nl+1])
		end := valid + int64(nl+1) + int64(n)
		switch {
		case !ok:
			r.Reason = "has an unreadable header"
		case end > size:
			r.Torn, r.Reason = true, fmt.Sprintf("is cut short (%d of its %d bytes)", size-valid-int64(nl+1), n)
			return r, nil
		default:
			payload := make([]byte, n)
			if _, err := f.ReadAt(payload, valid+int64(nl+1)); err != nil {
				return nil, err
			}
			if crc32.Checksum(payload, crcTable) != crc {
				r.Reason = "fails its checksum"
			} else {
				r.Reason = "holds an unreadable run"
			}
		}
	}
	r.After = countValid(f, valid, size)
	return r, nil
}

// allZero reports whether r holds nothing but zero bytes.
func allZero(r io.Reader) (bool, error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return false, nil
			}
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// countValid counts the whole, valid records in f between from and size
// that begin at the start of a line, resynchronizing past damage: how
// many records follow a damaged one.
func countValid(f *os.File, from, size int64) int {
	section := func(at int64) io.Reader { return io.NewSectionReader(f, at, size-at) }
	br := bufio.NewReaderSize(section(from), 64<<10)
	lr := &logReader{br: bufio.NewReaderSize(nil, 4<<10), names: logNames{lenient: true}} // small: most candidates are not records
	pos, lineStart, count := from, true, 0
	for {
		line, err := br.ReadSlice('\n')
		if lineStart && err == nil && bytes.HasPrefix(line, []byte("R ")) {
			if _, n, _, ok := parseHead(line); ok && pos+int64(len(line))+int64(n) <= size {
				lr.br.Reset(section(pos))
				lr.valid = 0
				k := 0
				for lr.next() != nil {
					k++
				}
				if k > 0 {
					count += k
					pos += lr.valid
					br.Reset(section(pos))
					continue
				}
			}
		}
		pos += int64(len(line))
		lineStart = err == nil
		if err != nil && err != bufio.ErrBufferFull {
			return count
		}
	}
}
