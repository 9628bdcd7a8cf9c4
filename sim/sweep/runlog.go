package sweep

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"time"
)

// A run log is the crash-safe record of a sweep's finished runs: an
// append-only file of records, each
//
//	R <index> <length> <crc32>\n<payload of length bytes>
//
// whose payload is the run's JSON row on one line. Its step series is in
// the steps table's part that the row names (see PartsDir), which was on
// disk before the record was written. A torn or corrupt tail (after kill
// -9 or a full disk) fails its length or checksum and is cut off on
// resume, so no run is ever half-recorded. (Logs of earlier versions
// carried the step series in the record, after the row; they are read for
// their rows, and not resumed.)

// RunRow is what runs.csv and agg.csv need of one run: the row of its
// record in the run log, and where its step series is.
type RunRow struct {
	Index  int      `json:"index"`
	ID     string   `json:"run_id"`
	Seed   uint64   `json:"seed"`
	Params []string `json:"params"`
	Status string   `json:"status"` // ok | failed
	Error  string   `json:"error,omitempty"`
	// Metrics names the Final values. In the log, a record whose metrics
	// are those of the ok record before it leaves them out (the first ok
	// run of each part writes them): 60 names a run were two thirds of a
	// log's bytes.
	Metrics []string  `json:"metrics,omitempty"`
	Final   []float64 `json:"final,omitempty"`
	// Part is the part of the steps table that holds the run's series,
	// PartRuns the number of runs in it and PartSize its size in bytes.
	// PartRuns is 0 in the logs of earlier versions.
	Part     int   `json:"part"`
	PartRuns int   `json:"part_runs,omitempty"`
	PartSize int64 `json:"part_size,omitempty"`
}

type logRecord struct {
	row RunRow
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// encodeRecord returns a run's log record.
func encodeRecord(row *RunRow) ([]byte, error) {
	js, err := json.Marshal(row)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, headRoom, headRoom+len(js)+1)
	buf = append(append(buf, js...), '\n')
	return frameRecord(buf, row.Index), nil
}

// headRoom is room enough for the longest record header ("R", two 20-digit
// numbers, 8 hex digits, spaces and newline: 53 bytes).
const headRoom = 64

// frameRecord writes the header of the record whose payload (the JSON row
// and a newline) is buf[headRoom:] just in front of it, and returns the
// record: "R index length crc32c\n" then the payload.
func frameRecord(buf []byte, index int) []byte {
	payload := buf[headRoom:]
	head := fmt.Appendf(make([]byte, 0, headRoom), "R %d %d %08x\n", index, len(payload), crc32.Checksum(payload, crcTable))
	start := headRoom - len(head)
	copy(buf[start:], head)
	return buf[start:]
}

// parseHead reads a record header; ok is false for anything that is not
// one (a torn or corrupt tail), including a length beyond 16 GiB.
func parseHead(head []byte) (idx, n int, crc uint32, ok bool) {
	_, err := fmt.Sscanf(string(head), "R %d %d %08x\n", &idx, &n, &crc)
	return idx, n, crc, err == nil && n >= 0 && int64(n) <= 1<<34
}

// logReader reads the records of a run log in order.
type logReader struct {
	br    *bufio.Reader
	buf   []byte   // payload buffer, reused
	valid int64    // bytes of whole, valid records read so far
	names logNames // the metrics of the last ok record
}

// logNames carries a log's metric names from record to record (see
// RunRow.Metrics). A reader that starts in the middle of a log (to count
// the records after damage) does not know them: lenient lets its rows go
// without.
type logNames struct {
	last    []string
	lenient bool
}

// fill gives an ok row that left its metrics out those of the ok row
// before it, and remembers a row's own; false if the row's values do not
// match its names.
func (n *logNames) fill(row *RunRow) bool {
	if row.Status != statusOK {
		return true
	}
	if row.Metrics == nil && len(row.Final) > 0 {
		row.Metrics = n.last
	} else {
		n.last = row.Metrics
	}
	return len(row.Metrics) == len(row.Final) || n.lenient && n.last == nil
}

// compactNames leaves out of each ok row of a part the metrics that equal
// those of the ok row before it in the part; it returns the rows to
// encode (copies where a row changes).
func compactNames(rows []*RunRow) []*RunRow {
	out := make([]*RunRow, len(rows))
	var last []string
	for i, r := range rows {
		out[i] = r
		if r.Status != statusOK {
			continue
		}
		if last != nil && slices.Equal(r.Metrics, last) {
			c := *r
			c.Metrics = nil
			out[i] = &c
		}
		last = r.Metrics
	}
	return out
}

func newLogReader(r io.Reader) *logReader {
	return &logReader{br: bufio.NewReaderSize(r, 1<<20)}
}

// next returns the next valid record, or nil at the end of the log or at
// the first record that is incomplete or corrupt (a torn tail).
func (lr *logReader) next() *logRecord {
	head, err := lr.br.ReadBytes('\n')
	if err != nil {
		return nil
	}
	idx, n, crc, ok := parseHead(head)
	if !ok {
		return nil
	}
	// Grow the reused buffer as bytes arrive rather than to n up front: a
	// corrupt header may promise far more than the file holds.
	payload := lr.buf[:0]
	for len(payload) < n {
		chunk := min(n-len(payload), 1<<20)
		if cap(payload)-len(payload) < chunk {
			grown := make([]byte, len(payload), min(n, max(2*cap(payload), len(payload)+chunk)))
			copy(grown, payload)
			payload = grown
		}
		k, err := io.ReadFull(lr.br, payload[len(payload):len(payload)+chunk])
		payload = payload[:len(payload)+k]
		if err != nil {
			lr.buf = payload
			return nil
		}
	}
	lr.buf = payload
	if crc32.Checksum(payload, crcTable) != crc {
		return nil
	}
	nl := bytes.IndexByte(payload, '\n')
	if nl < 0 {
		return nil
	}
	rec := &logRecord{}
	if err := json.Unmarshal(payload[:nl], &rec.row); err != nil || rec.row.Index != idx || !lr.names.fill(&rec.row) {
		return nil
	}
	lr.valid += int64(len(head) + n)
	return rec
}

// runLog appends records to a log file.
type runLog struct {
	f      *os.File
	synced time.Time
}

// openRunLog opens (creating if needed) the log at path for appending after
// cutting it to valid bytes.
func openRunLog(path string, valid int64) (*runLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(valid); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(valid, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &runLog{f: f, synced: time.Now()}, nil
}

// append appends an encoded record. A killed process loses nothing that
// append returned (the kernel holds the write); against power loss the log
// is synced at most syncEvery apart and at Close, and a torn tail is cut
// off on resume by its length and checksum. Syncing every record cost more
// than half of a small sweep's time.
func (l *runLog) append(b []byte) error {
	if _, err := l.f.Write(b); err != nil {
		return err
	}
	if time.Since(l.synced) >= syncEvery {
		l.synced = time.Now()
		return l.f.Sync()
	}
	return nil
}

const syncEvery = time.Second

// Close syncs and closes the log.
func (l *runLog) Close() error {
	if err := l.f.Sync(); err != nil {
		l.f.Close()
		return err
	}
	return l.f.Close()
}

// scanLog calls fn for each valid record of the log at path in order and
// returns the byte length of the valid prefix (where a torn tail begins);
// a missing file is an empty log.
func scanLog(path string, fn func(rec *logRecord) error) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lr := newLogReader(f)
	for rec := lr.next(); rec != nil; rec = lr.next() {
		if err := fn(rec); err != nil {
			return lr.valid, err
		}
	}
	return lr.valid, nil
}

// scanLogAt is scanLog, with the byte offset at which each record begins,
// and the number of valid records.
func scanLogAt(path string, fn func(rec *logRecord, at int64) error) (n int, valid int64, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	lr := newLogReader(f)
	for {
		at := lr.valid
		rec := lr.next()
		if rec == nil {
			return n, lr.valid, nil
		}
		if err := fn(rec, at); err != nil {
			return n, lr.valid, err
		}
		n++
	}
}

// scanRows calls fn with the run row of each record of the log at path,
// in order, without reading the step series (it seeks over them) or
// checking checksums: for a log whose records scanLog has checked, or that
// this process has just written. Headers are read as scanLog reads them.
// A missing file is an empty log.
func scanRows(path string, fn func(row *RunRow) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	var names logNames
	for {
		head, err := br.ReadBytes('\n')
		if err != nil {
			return nil
		}
		idx, n, _, ok := parseHead(head)
		if !ok {
			return nil
		}
		js, err := br.ReadBytes('\n')
		if err != nil || len(js) > n {
			return nil
		}
		var row RunRow
		if err := json.Unmarshal(js, &row); err != nil || row.Index != idx || !names.fill(&row) {
			return nil
		}
		if err := fn(&row); err != nil {
			return err
		}
		off += int64(len(head) + n)
		if rest := n - len(js); rest <= br.Buffered() {
			br.Discard(rest)
		} else {
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				return err
			}
			br.Reset(f)
		}
	}
}
