package results

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/bytestreamsplit"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/rewardmix/rewardmix/sim"
)

// A steps table in Parquet has a fixed schema and its rows arrive a run
// at a time, in runs of equal run_id and metric. So rather than a general
// row writer (which looks up every string of every row in a dictionary,
// most of the cost of writing a table), parquetSteps writes its columns
// directly with the Parquet library's encoders: run_id and metric as
// dictionary indices (one lookup per run and per metric; a page's indices
// are long runs of one value, which the RLE/bit-packed hybrid stores in a
// few bytes), step delta-encoded, value split into byte streams, every
// page compressed with zstd. A row group ends at each Flush; each holds a
// dictionary per string column and data pages (v2) of pageRows rows.

// pageRows is the rows of a data page (a value page is 256 KiB before
// compression).
const pageRows = 1 << 15

// A pqColumn is one column of a steps table: its schema and the row
// group's data pages so far.
type pqColumn struct {
	name     string
	typ      format.Type
	encoding format.Encoding // of its data pages
	dict     *pqDict         // run_id and metric: the row group's dictionary
	pages    []byte          // the row group's data pages: headers and compressed bodies
	rawSize  int64           // the same pages' size before compression, headers included
	npages   int32           // how many
}

// pqDict is a row group's dictionary of strings: its values in order of
// first appearance, and their indices.
type pqDict struct {
	values []string
	index  map[string]int32
}

func (d *pqDict) lookup(s string) int32 {
	i, ok := d.index[s]
	if !ok {
		i = int32(len(d.values))
		d.index[s] = i
		d.values = append(d.values, s)
	}
	return i
}

// parquetSteps writes a steps table's Parquet file (see StepsWriter).
type parquetSteps struct {
	w       io.Writer
	off     int64 // bytes written
	err     error // the first error; every later call returns it
	cols    []*pqColumn
	id      *pqColumn // run_id (nil in a run folder's table)
	step    *pqColumn
	metric  *pqColumn
	value   *pqColumn
	groups  []format.RowGroup
	rows    int64   // in the file, before the row group being written
	grown   int64   // rows in the row group being written, before the page
	ids     []int32 // the page being filled: run_id's indices,
	steps   []int32 // steps,
	metrics []int32 // metric's indices,
	values  []float64
	// The page's largest run_id and metric indices.
	maxID, maxMetric int32
	// The row group's least and greatest step and value, and whether a
	// value is NaN.
	stepMin, stepMax   int32
	valueMin, valueMax float64
	valueNaN           bool
	body               []byte // scratch: a page's encoded body,
	runs               []byte // its RLE runs,
	zbody              []byte // and compressed
}

func newParquetSteps(sweep bool) *parquetSteps {
	p := &parquetSteps{}
	if sweep {
		p.id = &pqColumn{name: "run_id", typ: format.ByteArray, encoding: format.RLEDictionary, dict: newDict()}
		p.cols = append(p.cols, p.id)
	}
	p.step = &pqColumn{name: "step", typ: format.Int32, encoding: format.DeltaBinaryPacked}
	p.metric = &pqColumn{name: "metric", typ: format.ByteArray, encoding: format.RLEDictionary, dict: newDict()}
	p.value = &pqColumn{name: "value", typ: format.Double, encoding: format.ByteStreamSplit}
	p.cols = append(p.cols, p.step, p.metric, p.value)
	return p
}

// reset starts a new file on w, keeping the buffers.
func (p *parquetSteps) reset(w io.Writer) {
	p.w, p.off, p.err = w, 0, nil
	p.groups, p.rows, p.grown = nil, 0, 0
	p.clearPage()
	for _, c := range p.cols {
		c.pages, c.rawSize, c.npages = c.pages[:0], 0, 0
		if c.dict != nil {
			c.dict = newDict()
		}
	}
	p.write([]byte("PAR1"))
}

func newDict() *pqDict { return &pqDict{index: map[string]int32{}} }

func (p *parquetSteps) write(b []byte) {
	if p.err != nil {
		return
	}
	var n int
	n, p.err = p.w.Write(b)
	p.off += int64(n)
}

// add appends a run's rows, metric by metric, each metric's series in
// step order.
func (p *parquetSteps) add(id string, s *Series) error {
	if p.err != nil {
		return p.err
	}
	n := len(s.Steps)
	var ix int32
	if p.id != nil {
		ix = p.id.dict.lookup(id)
	}
	for k, m := range s.Metrics {
		mx := p.metric.dict.lookup(m)
		col := s.Values[k*n : (k+1)*n]
		for i := 0; i < n; {
			take := min(pageRows-len(p.values), n-i)
			for _, t := range s.Steps[i : i+take] {
				p.steps = append(p.steps, int32(t))
			}
			p.values = append(p.values, col[i:i+take]...)
			p.metrics, p.maxMetric = appendRun(p.metrics, mx, take), max(p.maxMetric, mx)
			if p.id != nil {
				p.ids, p.maxID = appendRun(p.ids, ix, take), max(p.maxID, ix)
			}
			i += take
			if len(p.values) == pageRows {
				if p.endPage(); p.err != nil {
					return p.err
				}
			}
		}
	}
	return p.err
}

// errClosed is the error of a write to a closed steps table.
var errClosed = errors.New("results: write to a closed steps table")

// clearPage empties the page being filled.
func (p *parquetSteps) clearPage() {
	p.ids, p.steps, p.metrics, p.values = p.ids[:0], p.steps[:0], p.metrics[:0], p.values[:0]
	p.maxID, p.maxMetric = 0, 0
}

// appendRun appends n copies of v to x.
func appendRun(x []int32, v int32, n int) []int32 {
	x = slices.Grow(x, n)
	for range n {
		x = append(x, v)
	}
	return x
}

// endPage encodes and compresses the page being filled, one per column,
// into the columns' row group pages.
func (p *parquetSteps) endPage() {
	n := len(p.values)
	if n == 0 || p.err != nil {
		return
	}
	if p.id != nil {
		p.addPage(p.id, p.dictIndices(p.ids, p.maxID), n)
	}
	var err error
	p.body, err = new(delta.BinaryPackedEncoding).EncodeInt32(p.body[:0], p.steps)
	p.fail(err)
	p.addPage(p.step, p.body, n)
	p.addPage(p.metric, p.dictIndices(p.metrics, p.maxMetric), n)
	p.body, err = new(bytestreamsplit.Encoding).EncodeDouble(p.body[:0], p.values)
	p.fail(err)
	p.addPage(p.value, p.body, n)

	lo, hi := p.steps[0], p.steps[0]
	for _, t := range p.steps {
		lo, hi = min(lo, t), max(hi, t)
	}
	vlo, vhi, nan := math.Inf(1), math.Inf(-1), false
	for _, v := range p.values {
		if v < vlo {
			vlo = v
		}
		if v > vhi {
			vhi = v
		}
		nan = nan || v != v
	}
	if p.grown == 0 {
		p.stepMin, p.stepMax, p.valueMin, p.valueMax, p.valueNaN = lo, hi, vlo, vhi, nan
	} else {
		p.stepMin, p.stepMax = min(p.stepMin, lo), max(p.stepMax, hi)
		p.valueMin, p.valueMax = min(p.valueMin, vlo), max(p.valueMax, vhi) // no NaN here
		p.valueNaN = p.valueNaN || nan
	}
	p.grown += int64(n)
	p.clearPage()
}

func (p *parquetSteps) fail(err error) {
	if p.err == nil && err != nil {
		p.err = err
	}
}

// dictIndices encodes a page of dictionary indices, the largest of them
// top: their bit width in a byte, then the RLE/bit-packed hybrid.
func (p *parquetSteps) dictIndices(ix []int32, top int32) []byte {
	width := max(1, bits.Len32(uint32(top)))
	var err error
	p.runs, err = (&rle.Encoding{BitWidth: width}).EncodeInt32(p.runs, ix)
	p.fail(err)
	p.body = append(append(p.body[:0], byte(width)), p.runs...)
	return p.body
}

// addPage compresses a data page's body and appends it, with its header,
// to column c's pages.
func (p *parquetSteps) addPage(c *pqColumn, body []byte, n int) {
	h := format.PageHeader{
		Type: format.DataPageV2,
		DataPageHeaderV2: thrift.New(format.DataPageHeaderV2{
			NumValues: int32(n), NumRows: int32(n), Encoding: c.encoding, IsCompressed: thrift.New(true),
		}),
	}
	c.pages, c.rawSize = p.appendPage(c.pages, c.rawSize, &h, body)
	c.npages++
}

// appendPage appends to dst a page of header h (its sizes filled in here)
// and body, compressed, and adds to raw the page's size uncompressed.
func (p *parquetSteps) appendPage(dst []byte, raw int64, h *format.PageHeader, body []byte) ([]byte, int64) {
	var err error
	p.zbody, err = zstdCodec.Encode(p.zbody, body)
	p.fail(err)
	h.UncompressedPageSize, h.CompressedPageSize = int32(len(body)), int32(len(p.zbody))
	head, err := thrift.Marshal(new(thrift.CompactProtocol), h)
	p.fail(err)
	if n := len(head) + len(p.zbody); cap(dst)-len(dst) < n {
		dst = slices.Grow(dst, max(n, len(dst))) // doubling: a chunk's bytes are copied about once in growing, not four times
	}
	return append(append(dst, head...), p.zbody...), raw + int64(len(head)+len(body))
}

// flush ends the row group: each column chunk, its dictionary page first,
// is written out and described in the footer to come.
func (p *parquetSteps) flush() error {
	p.endPage()
	if p.grown == 0 || p.err != nil {
		return p.err
	}
	if err := p.nextGroup(); err != nil {
		return err
	}
	rg := format.RowGroup{NumRows: p.grown, FileOffset: p.off, Ordinal: int16(len(p.groups))}
	for _, c := range p.cols {
		start := p.off
		m := format.ColumnMetaData{
			Type: c.typ, PathInSchema: []string{c.name}, Codec: format.Zstd, NumValues: p.grown,
			Encoding: []format.Encoding{c.encoding}, DataPageOffset: start,
			EncodingStats: []format.PageEncodingStats{{PageType: format.DataPageV2, Encoding: c.encoding, Count: c.npages}},
		}
		raw := c.rawSize
		if c.dict != nil {
			var plain []byte
			for _, v := range c.dict.values {
				plain = binary.LittleEndian.AppendUint32(plain, uint32(len(v)))
				plain = append(plain, v...)
			}
			h := format.PageHeader{
				Type:                 format.DictionaryPage,
				DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{NumValues: int32(len(c.dict.values)), Encoding: format.Plain}),
			}
			var dict []byte
			dict, raw = p.appendPage(nil, raw, &h, plain)
			p.write(dict)
			m.Encoding = []format.Encoding{format.Plain, c.encoding}
			m.EncodingStats = append([]format.PageEncodingStats{{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1}}, m.EncodingStats...)
			m.DictionaryPageOffset, m.DataPageOffset = start, p.off
			c.dict = newDict()
		} else {
			m.Statistics = p.statistics(c)
		}
		p.write(c.pages)
		m.TotalUncompressedSize, m.TotalCompressedSize = raw, p.off-start
		rg.TotalByteSize += raw
		rg.TotalCompressedSize += m.TotalCompressedSize
		rg.Columns = append(rg.Columns, format.ColumnChunk{MetaData: m}) // file_offset: 0, as the format asks of writers now
		c.pages, c.rawSize, c.npages = c.pages[:0], 0, 0
	}
	p.groups = append(p.groups, rg)
	p.rows += p.grown
	p.grown = 0
	return p.err
}

// nextGroup fails if the file holds as many row groups as their 16-bit
// ordinals can number (256 runs a part: 8 million runs).
func (p *parquetSteps) nextGroup() error {
	if len(p.groups) > math.MaxInt16 {
		p.fail(fmt.Errorf("results: a steps table of more than %d row groups", math.MaxInt16+1))
	}
	return p.err
}

// statistics returns the row group's minimum and maximum of column c
// (step or value) in the Parquet format's order: a zero as -0 if the
// minimum and +0 if the maximum. Value has none if the row group holds a
// NaN: the format's statistics can say so only in a field (nan_count)
// that the library's Thrift structs lack, and without it a reader may
// take the bounds to exclude NaN and skip the row group when asked for
// NaN rows.
func (p *parquetSteps) statistics(c *pqColumn) format.Statistics {
	if c == p.step {
		return format.Statistics{
			MinValue: binary.LittleEndian.AppendUint32(nil, uint32(p.stepMin)),
			MaxValue: binary.LittleEndian.AppendUint32(nil, uint32(p.stepMax)),
		}
	}
	lo, hi := p.valueMin, p.valueMax
	if p.valueNaN {
		return format.Statistics{}
	}
	if lo == 0 {
		lo = math.Copysign(0, -1)
	}
	if hi == 0 {
		hi = 0
	}
	return format.Statistics{
		MinValue: binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo)),
		MaxValue: binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi)),
	}
}

// close ends the last row group and writes the footer; after it, every
// call but reset fails.
func (p *parquetSteps) close() error {
	if err := p.flush(); err != nil {
		return err
	}
	defer p.fail(errClosed)
	md := format.FileMetaData{
		Version:   2,
		NumRows:   p.rows,
		RowGroups: p.groups,
		CreatedBy: "rewardmix version " + sim.Version,
		Schema:    []format.SchemaElement{{Name: "steps", NumChildren: thrift.New(int32(len(p.cols)))}},
	}
	for _, c := range p.cols {
		md.Schema = append(md.Schema, schemaElement(c))
		md.ColumnOrders = append(md.ColumnOrders, format.ColumnOrder{Value: new(format.TypeDefinedOrder)})
	}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	p.fail(err)
	p.write(binary.LittleEndian.AppendUint32(footer, uint32(len(footer))))
	p.write([]byte("PAR1"))
	return p.err
}

// schemaElement describes a column: required, strings as UTF-8.
func schemaElement(c *pqColumn) format.SchemaElement {
	e := format.SchemaElement{Name: c.name, Type: thrift.New(c.typ), RepetitionType: thrift.New(format.Required)}
	switch c.typ {
	case format.ByteArray:
		e.ConvertedType = thrift.New(deprecated.UTF8)
		e.LogicalType = format.LogicalType{Value: new(format.StringType)}
	case format.Int32:
		e.ConvertedType = thrift.New(deprecated.Int32)
		e.LogicalType = format.LogicalType{Value: &format.IntType{BitWidth: 32, IsSigned: true}}
	}
	return e
}

// appendFile copies the row groups of a Parquet steps table of the same
// columns (a part written by parquetSteps) to the end of p, their column
// chunks' bytes as they are, their offsets moved to where they now lie.
func (p *parquetSteps) appendFile(part io.ReaderAt, size int64) error {
	if err := p.flush(); err != nil {
		return err
	}
	md, dataEnd, err := readFooter(part, size)
	if err != nil {
		return err
	}
	var cols []string
	for _, c := range p.cols {
		cols = append(cols, c.name)
	}
	if len(md.Schema) != len(p.cols)+1 {
		return fmt.Errorf("its %d columns are not a steps table's %v", len(md.Schema)-1, cols)
	}
	for i, c := range p.cols {
		if e := md.Schema[i+1]; e.Name != c.name || e.Type != thrift.New(c.typ) {
			return fmt.Errorf("its column %d, %s, is not a steps table's %s (%v)", i, e.Name, c.name, c.typ)
		}
	}
	buf := make([]byte, maxHeaderBytes)
	for g, rg := range md.RowGroups {
		if len(rg.Columns) != len(p.cols) || rg.NumRows < 0 || rg.NumRows > maxGroupRows {
			return fmt.Errorf("row group %d: %d columns, %d rows", g, len(rg.Columns), rg.NumRows)
		}
		lo, hi := int64(math.MaxInt64), int64(0)
		for _, c := range rg.Columns {
			if err := checkPages(part, dataEnd, &c.MetaData, rg.NumRows, buf); err != nil {
				return fmt.Errorf("row group %d, column %v: %v", g, c.MetaData.PathInSchema, err)
			}
			s := c.MetaData.DataPageOffset
			if d := c.MetaData.DictionaryPageOffset; d > 0 && d < s {
				s = d
			}
			lo, hi = min(lo, s), max(hi, s+c.MetaData.TotalCompressedSize)
		}
		if err := p.nextGroup(); err != nil {
			return err
		}
		shift := p.off - lo
		for i := range rg.Columns {
			c := &rg.Columns[i]
			c.FileOffset = 0
			c.MetaData.DataPageOffset += shift
			if c.MetaData.DictionaryPageOffset > 0 {
				c.MetaData.DictionaryPageOffset += shift
			}
			// Page indexes (written by earlier versions) stay behind.
			c.OffsetIndexOffset, c.OffsetIndexLength, c.ColumnIndexOffset, c.ColumnIndexLength = 0, 0, 0, 0
		}
		rg.FileOffset = p.off
		rg.Ordinal = int16(len(p.groups))
		if p.err == nil {
			var n int64
			n, p.err = copyRange(p.w, part, lo, hi-lo)
			p.off += n
		}
		p.groups = append(p.groups, rg)
		p.rows += rg.NumRows
	}
	return p.err
}

// copyRange copies n bytes of src from offset off to w, or fails. Between
// two files it goes through a limited reader of the source file, which
// lets the kernel copy the bytes (copy_file_range) rather than this
// process; it moves that file's offset.
func copyRange(w io.Writer, src io.ReaderAt, off, n int64) (int64, error) {
	var got int64
	var err error
	if f, ok := src.(*os.File); ok {
		if _, err = f.Seek(off, io.SeekStart); err == nil {
			got, err = io.Copy(w, io.LimitReader(f, n))
		}
	} else {
		got, err = io.Copy(w, io.NewSectionReader(src, off, n))
	}
	if err == nil && got != n {
		err = io.ErrUnexpectedEOF
	}
	return got, err
}
