package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/rewardmix/rewardmix/sim"
)

// stepBlock is a block of rows of a steps table, column by column, with
// the run ids and metric names held once, in dictionaries: row i is run
// ids[id[i]] (a sweep's table only), metrics[metric[i]] at step[i] with
// value[i]. Readers translate the dictionaries once per block, so that a
// row costs them integer lookups, not string hashing.
type stepBlock struct {
	ids, metrics [][]byte
	id, metric   []int32
	step         []int32
	value        []float64
	// first is where the block's first row is in the file, for messages:
	// "line N" or "row N".
	first string
}

func (b *stepBlock) reset() {
	b.ids, b.metrics = b.ids[:0], b.metrics[:0]
	b.id, b.metric, b.step, b.value = b.id[:0], b.metric[:0], b.step[:0], b.value[:0]
}

// scanSteps streams the steps table at path, CSV or Parquet by its name,
// in blocks of rows in file order; a sweep's table has a run_id column.
// The block is valid only during the call. A malformed file is an *Error
// naming it (and the line, for CSV), never a panic.
func scanSteps(path string, sweep bool, fn func(b *stepBlock) error) error {
	if strings.HasSuffix(path, ".parquet") {
		return scanParquet(path, sweep, fn)
	}
	return scanCSV(path, sweep, fn)
}

const blockRows = 1 << 16

// scanCSV reads a steps.csv in blocks of blockRows lines.
func scanCSV(path string, sweep bool, fn func(b *stepBlock) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	if _, err := br.ReadSlice('\n'); err != nil {
		return errorf("%s: empty", path)
	}
	var b stepBlock
	idOf, metricOf := map[string]int32{}, map[string]int32{}
	intern := func(m map[string]int32, dict *[][]byte, s []byte) int32 {
		k, ok := m[string(s)]
		if !ok {
			k = int32(len(*dict))
			*dict = append(*dict, bytes.Clone(s))
			m[string(s)] = k
		}
		return k
	}
	flush := func() error {
		if len(b.value) == 0 {
			return nil
		}
		err := fn(&b)
		b.reset()
		clear(idOf)
		clear(metricOf)
		return err
	}
	lineNo := 1
	bad := func() error { return errorf("%s:%d: not a rewardmix steps.csv line", path, lineNo) }
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			lineNo++
			return bad()
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(line) == 0 && err != nil {
			return flush()
		}
		lineNo++
		if len(b.value) == 0 {
			b.first = "line " + strconv.Itoa(lineNo)
		}
		id, metric, t, v, ok := parseStepLine(line, sweep)
		if !ok {
			return bad()
		}
		if sweep {
			b.id = append(b.id, intern(idOf, &b.ids, id))
		}
		b.metric = append(b.metric, intern(metricOf, &b.metrics, metric))
		b.step, b.value = append(b.step, t), append(b.value, v)
		if len(b.value) == blockRows {
			if err := flush(); err != nil {
				return err
			}
		}
		if err != nil {
			return flush()
		}
	}
}

// parseStepLine reads a steps.csv line ([run_id,]step,metric,value, with or
// without its newline); ok is false for anything else, a step out of
// range included. id and metric share line's bytes.
func parseStepLine(line []byte, sweep bool) (id, metric []byte, step int32, value float64, ok bool) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if sweep {
		k := bytes.IndexByte(line, ',')
		if k < 0 {
			return nil, nil, 0, 0, false
		}
		id, line = line[:k], line[k+1:]
	}
	k1 := bytes.IndexByte(line, ',')
	if k1 < 0 {
		return nil, nil, 0, 0, false
	}
	k2 := bytes.IndexByte(line[k1+1:], ',')
	if k2 < 0 {
		return nil, nil, 0, 0, false
	}
	k2 += k1 + 1
	t, err1 := strconv.Atoi(string(line[:k1]))
	v, err2 := strconv.ParseFloat(string(line[k2+1:]), 64)
	if err1 != nil || err2 != nil || t < 0 || t > sim.MaxSteps {
		return nil, nil, 0, 0, false
	}
	return id, line[k1+1 : k2], int32(t), v, true
}

// scanParquet reads a steps.parquet a row group at a time, column by
// column. Memory grows with the largest row group (a sweep's hold about a
// million rows), never with the file.
func scanParquet(path string, sweep bool, fn func(b *stepBlock) error) (err error) {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	// The library trusts what a file says of itself; a corrupt or
	// truncated file must come back as an error naming it, not a crash.
	defer func() {
		if p := recover(); p != nil {
			err = errorf("%s: not a readable Parquet file (%v)", path, p)
		}
	}()
	pf, err := openParquet(f, fi.Size())
	if err != nil {
		return errorf("%s: not a readable Parquet file: %v", path, err)
	}
	want := []struct {
		name string
		kind parquet.Kind
	}{{"run_id", parquet.ByteArray}, {"step", parquet.Int32}, {"metric", parquet.ByteArray}, {"value", parquet.Double}}
	if !sweep {
		want = want[1:]
	}
	col := make([]int, len(want))
	for i, w := range want {
		leaf, ok := pf.Schema().Lookup(w.name)
		if !ok || leaf.Node.Type().Kind() != w.kind || leaf.MaxRepetitionLevel != 0 || leaf.MaxDefinitionLevel != 0 {
			return errorf("%s: not a rewardmix steps.parquet (want a required %s column %s)", path, w.kind, w.name)
		}
		col[i] = leaf.ColumnIndex
	}
	var b stepBlock
	var row int64
	for g, rg := range pf.RowGroups() {
		b.reset()
		n := rg.NumRows()
		b.first = "row group " + strconv.Itoa(g) + ", row " + strconv.FormatInt(row+1, 10)
		chunks := rg.ColumnChunks()
		k := 0
		if sweep {
			if b.ids, b.id, err = readStrings(chunks[col[0]], b.ids, b.id); err != nil {
				return errorf("%s: %s: run_id: %v", path, b.first, err)
			}
			k = 1
		}
		if b.step, err = readInt32s(chunks[col[k]], b.step); err != nil {
			return errorf("%s: %s: step: %v", path, b.first, err)
		}
		if b.metrics, b.metric, err = readStrings(chunks[col[k+1]], b.metrics, b.metric); err != nil {
			return errorf("%s: %s: metric: %v", path, b.first, err)
		}
		if b.value, err = readDoubles(chunks[col[k+2]], b.value); err != nil {
			return errorf("%s: %s: value: %v", path, b.first, err)
		}
		if int64(len(b.step)) != n || len(b.metric) != len(b.step) || len(b.value) != len(b.step) || (sweep && len(b.id) != len(b.step)) {
			return errorf("%s: %s: the columns hold different numbers of rows", path, b.first)
		}
		for i, t := range b.step {
			if t < 0 || t > sim.MaxSteps {
				return errorf("%s: row %d: step %d is out of range", path, row+int64(i)+1, t)
			}
		}
		if n > 0 {
			if err := fn(&b); err != nil {
				return err
			}
		}
		row += n
	}
	return nil
}

// readPages calls fn with each page of a column chunk.
func readPages(c parquet.ColumnChunk, fn func(p parquet.Page) error) error {
	pages := c.Pages()
	defer pages.Close()
	for {
		p, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if p.NumNulls() != 0 {
			parquet.Release(p)
			return errors.New("null values")
		}
		err = fn(p)
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
}

func readInt32s(c parquet.ColumnChunk, dst []int32) ([]int32, error) {
	err := readPages(c, func(p parquet.Page) error {
		if p.Dictionary() != nil {
			d := p.Dictionary()
			for _, i := range pageData(p).Int32() {
				dst = append(dst, d.Index(i).Int32())
			}
			return nil
		}
		dst = append(dst, pageData(p).Int32()...)
		return nil
	})
	return dst, err
}

func readDoubles(c parquet.ColumnChunk, dst []float64) ([]float64, error) {
	err := readPages(c, func(p parquet.Page) error {
		if d := p.Dictionary(); d != nil {
			for _, i := range pageData(p).Int32() {
				dst = append(dst, d.Index(i).Double())
			}
			return nil
		}
		dst = append(dst, pageData(p).Double()...)
		return nil
	})
	return dst, err
}

// readStrings reads a string column into a dictionary of its distinct
// values (as the file's dictionary has them, or interned from plain pages)
// and an index per row.
func readStrings(c parquet.ColumnChunk, dict [][]byte, idx []int32) ([][]byte, []int32, error) {
	var plain map[string]int32
	var seen parquet.Dictionary
	base := int32(0)
	err := readPages(c, func(p parquet.Page) error {
		if d := p.Dictionary(); d != nil {
			if d != seen { // a column chunk has one dictionary; its pages share it
				seen, base = d, int32(len(dict))
				for i := 0; i < d.Len(); i++ {
					dict = append(dict, bytes.Clone(d.Index(int32(i)).ByteArray()))
				}
			}
			n := int32(d.Len())
			for _, i := range pageData(p).Int32() {
				if i < 0 || i >= n {
					return fmt.Errorf("dictionary index %d of %d", i, n)
				}
				idx = append(idx, base+i)
			}
			return nil
		}
		if plain == nil {
			plain = map[string]int32{}
		}
		data, offsets := pageData(p).ByteArray()
		for i := 0; i+1 < len(offsets); i++ {
			s := data[offsets[i]:offsets[i+1]]
			k, ok := plain[string(s)]
			if !ok {
				k = int32(len(dict))
				dict = append(dict, bytes.Clone(s))
				plain[string(s)] = k
			}
			idx = append(idx, k)
		}
		return nil
	})
	return dict, idx, err
}

// pageData returns a page's values in their physical form: dictionary
// indices for a dictionary-encoded page.
func pageData(p parquet.Page) *encoding.Values {
	v := p.Data()
	return &v
}

// maxMetrics bounds the metrics of a run that SeriesReader holds (a run of
// rewardmix has a few dozen to a few hundred).
const maxMetrics = 1 << 14

// A SeriesReader reads a sweep's steps table run by run, in file order,
// holding about a page of each column (Parquet) or a buffer of lines
// (CSV), whatever the size of the file or of its row groups.
type SeriesReader struct {
	path string
	f    *os.File
	next func() (id []byte, step int32, metric []byte, value float64, ok bool, err error)
	// the row read ahead: the first of the next run
	id, metric []byte
	step       int32
	value      float64
	have       bool
	closeFn    func()
}

// OpenSeries opens a sweep's steps table (steps.parquet or steps.csv) for
// reading run by run.
func OpenSeries(path string) (*SeriesReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := &SeriesReader{path: path, f: f}
	if strings.HasSuffix(path, ".parquet") {
		err = r.openParquet()
	} else {
		err = r.openCSV()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// Close closes the file.
func (r *SeriesReader) Close() error {
	if r.closeFn != nil {
		r.closeFn()
	}
	return r.f.Close()
}

// Next returns the next run's id and series (metrics in order of first
// appearance, steps ascending), or io.EOF after the last.
func (r *SeriesReader) Next() (id string, s *Series, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errorf("%s: not a readable steps table (%v)", r.path, p)
		}
	}()
	if !r.have {
		if err := r.advance(); err != nil {
			return "", nil, err
		}
		if !r.have {
			return "", nil, io.EOF
		}
	}
	id = string(r.id)
	type point struct {
		step  int32
		value float64
	}
	var order []string
	byMetric := map[string][]point{}
	for r.have && string(r.id) == id {
		m := string(r.metric)
		ps, ok := byMetric[m]
		if !ok {
			if len(order) == maxMetrics {
				return "", nil, errorf("%s: run %s has more than %d metrics", r.path, id, maxMetrics)
			}
			order = append(order, m)
		}
		// Steps rise within a metric's series: a run holds at most
		// MaxSteps+1 points of each, however long a corrupt file runs on.
		if len(ps) > 0 && r.step <= ps[len(ps)-1].step {
			return "", nil, errorf("%s: run %s: %s's steps are not in rising order", r.path, id, m)
		}
		byMetric[m] = append(ps, point{r.step, r.value})
		if err := r.advance(); err != nil {
			return "", nil, err
		}
	}
	s = &Series{Metrics: order}
	for i, m := range order {
		ps := byMetric[m]
		if i == 0 {
			for _, p := range ps {
				s.Steps = append(s.Steps, int(p.step))
			}
		}
		if len(ps) != len(s.Steps) {
			return "", nil, errorf("%s: run %s: metric %s has %d steps, %s has %d", r.path, id, m, len(ps), order[0], len(s.Steps))
		}
		for j, p := range ps {
			if int(p.step) != s.Steps[j] {
				return "", nil, errorf("%s: run %s: metric %s is not at the steps of %s", r.path, id, m, order[0])
			}
			s.Values = append(s.Values, p.value)
		}
	}
	return id, s, nil
}

func (r *SeriesReader) advance() error {
	id, step, metric, value, ok, err := r.next()
	if err != nil {
		return err
	}
	r.have = ok
	if ok {
		r.id, r.metric = append(r.id[:0], id...), append(r.metric[:0], metric...)
		r.step, r.value = step, value
	}
	return nil
}

func (r *SeriesReader) openCSV() error {
	br := bufio.NewReaderSize(r.f, 64<<10)
	if _, err := br.ReadSlice('\n'); err != nil {
		return errorf("%s: empty", r.path)
	}
	lineNo := 1
	r.next = func() ([]byte, int32, []byte, float64, bool, error) {
		line, err := br.ReadSlice('\n')
		if err != nil && err != io.EOF {
			if err == bufio.ErrBufferFull {
				return nil, 0, nil, 0, false, errorf("%s:%d: not a rewardmix steps.csv line", r.path, lineNo+1)
			}
			return nil, 0, nil, 0, false, fmt.Errorf("%s: %w", r.path, err)
		}
		if len(line) == 0 && err != nil {
			return nil, 0, nil, 0, false, nil
		}
		lineNo++
		id, metric, t, v, ok := parseStepLine(line, true)
		if !ok {
			return nil, 0, nil, 0, false, errorf("%s:%d: not a rewardmix steps.csv line", r.path, lineNo)
		}
		return id, t, metric, v, true, nil
	}
	return nil
}

// columnCursor reads one column of a Parquet file value by value, a page
// at a time, across row groups.
type columnCursor struct {
	groups []parquet.RowGroup
	col    int
	g      int
	pages  parquet.Pages
	page   parquet.Page
	dict   parquet.Dictionary
	ints   []int32
	dbls   []float64
	data   []byte
	offs   []uint32
	i, n   int
}

func (c *columnCursor) close() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	if c.pages != nil {
		c.pages.Close()
		c.pages = nil
	}
}

// more makes the cursor's current page hold a value; false at the end.
func (c *columnCursor) more() (bool, error) {
	for c.i >= c.n {
		if c.page != nil {
			parquet.Release(c.page)
			c.page = nil
		}
		if c.pages == nil {
			if c.g >= len(c.groups) {
				return false, nil
			}
			c.pages = c.groups[c.g].ColumnChunks()[c.col].Pages()
			c.g++
		}
		p, err := c.pages.ReadPage()
		if errors.Is(err, io.EOF) {
			c.pages.Close()
			c.pages = nil
			continue
		}
		if err != nil {
			return false, err
		}
		if p.NumNulls() != 0 {
			parquet.Release(p)
			return false, errors.New("null values")
		}
		c.page, c.dict, c.i = p, p.Dictionary(), 0
		d := pageData(p)
		switch {
		case c.dict != nil:
			c.ints = d.Int32()
			c.n = len(c.ints)
		case p.Type().Kind() == parquet.Int32:
			c.ints = d.Int32()
			c.n = len(c.ints)
		case p.Type().Kind() == parquet.Double:
			c.dbls = d.Double()
			c.n = len(c.dbls)
		default:
			c.data, c.offs = d.ByteArray()
			c.n = max(len(c.offs)-1, 0)
		}
	}
	return true, nil
}

func (c *columnCursor) bytesValue() []byte {
	i := c.i
	c.i++
	if c.dict != nil {
		return c.dict.Index(c.ints[i]).ByteArray()
	}
	return c.data[c.offs[i]:c.offs[i+1]]
}

func (c *columnCursor) int32Value() int32 {
	i := c.i
	c.i++
	if c.dict != nil {
		return c.dict.Index(c.ints[i]).Int32()
	}
	return c.ints[i]
}

func (c *columnCursor) doubleValue() float64 {
	i := c.i
	c.i++
	if c.dict != nil {
		return c.dict.Index(c.ints[i]).Double()
	}
	return c.dbls[i]
}

func (r *SeriesReader) openParquet() error {
	fi, err := r.f.Stat()
	if err != nil {
		return err
	}
	pf, err := func() (pf *parquet.File, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%v", p)
			}
		}()
		return openParquet(r.f, fi.Size())
	}()
	if err != nil {
		return errorf("%s: not a readable Parquet file: %v", r.path, err)
	}
	names := []string{"run_id", "step", "metric", "value"}
	kinds := []parquet.Kind{parquet.ByteArray, parquet.Int32, parquet.ByteArray, parquet.Double}
	cur := make([]*columnCursor, 4)
	for i, n := range names {
		leaf, ok := pf.Schema().Lookup(n)
		if !ok || leaf.Node.Type().Kind() != kinds[i] || leaf.MaxRepetitionLevel != 0 || leaf.MaxDefinitionLevel != 0 {
			return errorf("%s: not a rewardmix steps.parquet (want a required %s column %s)", r.path, kinds[i], n)
		}
		cur[i] = &columnCursor{groups: pf.RowGroups(), col: leaf.ColumnIndex}
	}
	r.closeFn = func() {
		for _, c := range cur {
			c.close()
		}
	}
	r.next = func() ([]byte, int32, []byte, float64, bool, error) {
		ok0, err := cur[0].more()
		if err != nil || !ok0 {
			return nil, 0, nil, 0, false, wrapParquet(r.path, err)
		}
		for _, c := range cur[1:] {
			ok, err := c.more()
			if err != nil || !ok {
				if err == nil {
					err = errors.New("the columns hold different numbers of rows")
				}
				return nil, 0, nil, 0, false, wrapParquet(r.path, err)
			}
		}
		id, t, m, v := cur[0].bytesValue(), cur[1].int32Value(), cur[2].bytesValue(), cur[3].doubleValue()
		if t < 0 || t > sim.MaxSteps {
			return nil, 0, nil, 0, false, errorf("%s: step %d is out of range", r.path, t)
		}
		return id, t, m, v, true, nil
	}
	return nil
}

func wrapParquet(path string, err error) error {
	if err == nil {
		return nil
	}
	return errorf("%s: not a readable Parquet file: %v", path, err)
}
