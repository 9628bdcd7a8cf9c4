package sweep

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/internal/atomicfile"
	"github.com/rewardmix/rewardmix/sim/results"
)

// While a sweep runs, its steps table grows as a sequence of parts in the
// folder PartsDir: part k holds the step series of a run of consecutive
// runs of the shard, and closes after the run that brings it to PartRows
// rows or more (or at the shard's last run). A part is written to a
// temporary file, synced and renamed into place, and only then are its
// runs appended to the run log, with the part's number, run count and
// size: so the log names only runs whose series are on disk, each series
// is stored once, and a resumed sweep restarts at a part's first run,
// where the sweep run in one go also began one. When every run is in the
// log, the parts are joined into the steps table (Parquet row groups are
// copied, not re-encoded: a part is a row group) and removed.
const PartsDir = "steps.parts"

// A part closes after PartRows rows (about 12 MB of Parquet: 76 runs of
// the incident preset's 300 steps, under a second of two cores' work) or
// MaxPartRuns runs, whichever comes first, so that a crash loses little
// work however few rows [output] records a run.
const (
	PartRows    = 1 << 20
	MaxPartRuns = 256
)

// partRows is PartRows, which tests lower to see parts of one run.
var partRows = PartRows

// partName is the file name of part k in format f.
func partName(k int, f sim.Format) string {
	return fmt.Sprintf("%06d.%s", k, f)
}

// partWriter writes a shard's parts, in order, and records their runs in
// the run log once each part is on disk.
type partWriter struct {
	dir    string // the sweep folder
	format sim.Format
	log    *runLog
	k      int // the part being written
	file   *atomicfile.File
	w      *results.StepsWriter
	rows   int
	runs   []*RunRow // the runs of part k so far
	// partRows is the rows after which a part closes.
	partRows int
	// join joins the parts into the steps table as they are committed
	// (from the first commit on; see joiner).
	join *joiner
}

func newPartWriter(dir string, format sim.Format, log *runLog, next int) *partWriter {
	return &partWriter{dir: dir, format: format, log: log, k: next, partRows: partRows}
}

// add appends a finished run (and its series; nil for a failed run) to
// the current part, and commits the part if it is full or last.
func (p *partWriter) add(row *RunRow, s *results.Series, last bool) error {
	if p.file == nil {
		if err := os.MkdirAll(filepath.Join(p.dir, PartsDir), 0o755); err != nil {
			return err
		}
		f, err := atomicfile.Create(filepath.Join(p.dir, PartsDir, partName(p.k, p.format)))
		if err != nil {
			return err
		}
		if p.w == nil {
			p.w = results.NewStepsWriter(f, p.format, true, false)
		} else {
			p.w.Reset(f) // the last part's buffers serve this one
		}
		p.file, p.rows = f, 0
	}
	if s != nil {
		if err := p.w.Write(row.ID, s); err != nil {
			return err
		}
		p.rows += s.Rows()
	}
	p.runs = append(p.runs, row)
	if p.rows >= p.partRows || len(p.runs) >= MaxPartRuns || last {
		return p.commit()
	}
	return nil
}

// commit closes the current part, syncs it into place, and appends its
// runs to the log in one write.
func (p *partWriter) commit() error {
	if err := p.w.Close(); err != nil {
		return err
	}
	if err := p.file.Sync(); err != nil {
		return err
	}
	size, err := p.file.Size()
	if err != nil {
		return err
	}
	if err := p.file.Commit(); err != nil {
		return err
	}
	// The rename too must be on disk before the log names the part.
	if err := atomicfile.SyncDir(filepath.Join(p.dir, PartsDir)); err != nil {
		return err
	}
	var recs []byte
	for _, r := range p.runs {
		r.Part, r.PartRuns, r.PartSize = p.k, len(p.runs), size
	}
	for _, r := range compactNames(p.runs) {
		rec, err := encodeRecord(r)
		if err != nil {
			return err
		}
		recs = append(recs, rec...)
	}
	if err := p.log.append(recs); err != nil {
		return err
	}
	if p.join == nil {
		if p.join, err = startJoiner(p.dir, p.format, p.k); err != nil {
			return err
		}
	}
	p.join.add()
	p.file, p.runs = nil, p.runs[:0]
	p.k++
	return nil
}

// joiner hands the table being joined to finalize, which finishes it (and
// abort then leaves it alone); nil if no part was committed.
func (p *partWriter) joiner() *joiner { j := p.join; p.join = nil; return j }

// abort drops the part being written (its runs are redone on resume) and
// the table being joined, if finalize has not taken it.
func (p *partWriter) abort() {
	if p.file != nil {
		p.file.Abort()
		p.file = nil
	}
	if p.join != nil {
		p.join.abort()
		p.join = nil
	}
}

// A joiner appends a sweep folder's parts, in order, to its steps table,
// each as soon as it is committed, in a goroutine, syncing after each: so
// that when the last run is done only the last part is left to join (and
// to sync). The table is a temporary file (as joinParts writes it) until
// finalize commits it; a crash leaves the parts, which a resumed sweep
// joins again.
type joiner struct {
	parts chan struct{} // a part more is committed
	done  chan error    // the join's outcome, once parts is closed
	f     *atomicfile.File
	stop  atomic.Bool // set by abort: the parts still queued are skipped
}

// startJoiner starts joining the steps table of format f in dir, parts
// 0..have-1 (committed before, by a run of the sweep that was
// interrupted) first.
func startJoiner(dir string, format sim.Format, have int) (*joiner, error) {
	f, err := atomicfile.Create(filepath.Join(dir, results.StepsFileName(format)))
	if err != nil {
		return nil, err
	}
	j := &joiner{parts: make(chan struct{}, 64), done: make(chan error, 1), f: f}
	go func() {
		sw := results.NewStepsWriter(f, format, true, true)
		next := 0 // the part to append
		var err error
		add := func() {
			if err == nil && j.stop.Load() {
				err = errors.New("sweep: join aborted")
			}
			if err == nil {
				err = appendPart(sw, dir, format, next)
			}
			if err == nil {
				err = f.Sync() // so that the table's last sync has only the last part to write
			}
			next++
		}
		for range have {
			add()
		}
		for range j.parts {
			add()
		}
		if err == nil {
			err = sw.Close()
		}
		if err == nil {
			err = f.Sync()
		}
		j.done <- err
	}()
	return j, nil
}

// add tells the joiner that the next part is committed.
func (j *joiner) add() { j.parts <- struct{}{} }

// finish waits for the join of every part handed over and returns the
// table, closed and synced, for the caller to commit; on error it is
// discarded.
func (j *joiner) finish() (*atomicfile.File, error) {
	close(j.parts)
	if err := <-j.done; err != nil {
		j.f.Abort()
		return nil, err
	}
	return j.f, nil
}

// abort stops the join and discards the table.
func (j *joiner) abort() {
	j.stop.Store(true)
	close(j.parts)
	<-j.done
	j.f.Abort()
}

// firstBadPart returns the first of the parts the log names (sizes[k] is
// part k's size as recorded) that is not on disk with that size, or
// len(sizes) if none; and whether any part after it is there.
func firstBadPart(dir string, format sim.Format, sizes []int64) (bad int, later bool) {
	ok := func(k int) bool {
		fi, err := os.Stat(filepath.Join(dir, PartsDir, partName(k, format)))
		return err == nil && fi.Size() == sizes[k]
	}
	for bad = 0; bad < len(sizes) && ok(bad); bad++ {
	}
	for k := bad + 1; k < len(sizes); k++ {
		if ok(k) {
			return bad, true
		}
	}
	return bad, false
}

// removeStaleParts removes the parts from number next on (written before a
// crash, their runs never recorded) and their temporary files.
func removeStaleParts(dir string, format sim.Format, next int) error {
	ents, err := os.ReadDir(filepath.Join(dir, PartsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		var k int
		stale := strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".tmp-")
		if _, err := fmt.Sscanf(e.Name(), "%06d.", &k); err == nil && k >= next && strings.HasSuffix(e.Name(), "."+string(format)) {
			stale = true
		}
		if stale {
			if err := os.Remove(filepath.Join(dir, PartsDir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// joinParts writes the steps table of format f to w from parts
// 0..parts-1 (see StepsWriter.Append).
func joinParts(w io.Writer, dir string, format sim.Format, parts int) error {
	sw := results.NewStepsWriter(w, format, true, true)
	for k := 0; k < parts; k++ {
		if err := appendPart(sw, dir, format, k); err != nil {
			return err
		}
	}
	return sw.Close()
}

// appendPart appends part k of dir's steps table to sw.
func appendPart(sw *results.StepsWriter, dir string, format sim.Format, k int) error {
	path := filepath.Join(dir, PartsDir, partName(k, format))
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err == nil {
		err = sw.Append(f, fi.Size())
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// joined reports whether the steps table of a complete sweep folder was
// joined from its parts (and the parts removed, or about to be): the table
// exists and some part does not. (finalize syncs the folder after the
// table's rename and before it removes a part.)
func joined(dir string, format sim.Format, parts int) bool {
	if _, err := os.Stat(filepath.Join(dir, results.StepsFileName(format))); err != nil {
		return false
	}
	for k := 0; k < parts; k++ {
		if _, err := os.Stat(filepath.Join(dir, PartsDir, partName(k, format))); err != nil {
			return true
		}
	}
	return parts == 0
}
