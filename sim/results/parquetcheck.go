package results

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// The Parquet library decodes a file's footer and page headers (Thrift's
// compact protocol) trusting the sizes they state: a corrupt byte can make
// it allocate gigabytes for a list, a string or a page, and a Go program
// cannot recover from running out of memory. So before the library reads
// a file, openParquet checks every size the file states against the bytes
// that hold it: the footer's length, each Thrift string and list (walked
// without decoding), each page's compressed size against its column chunk,
// and its uncompressed size and value count against bounds no steps table
// comes near. A file that fails is an error, not a crash.

const (
	// maxPageBytes bounds a page's uncompressed size (rewardmix writes
	// pages of at most a few hundred KiB; other writers' default is 1 MiB).
	maxPageBytes = 256 << 20
	// maxGroupRows bounds a row group's rows, which a reader holds at once
	// (20 bytes a row: 640 MB at the bound). rewardmix writes about a
	// million, or one run's rows where a run has more (a run of 100,000
	// steps of 46 metrics: 4.6 million).
	maxGroupRows = 1 << 25
	// maxPageValues bounds a page's values (rewardmix writes tens of
	// thousands; the library allocates for as many as a page claims).
	maxPageValues = 1 << 22
	// maxHeaderBytes bounds a page header (a few dozen bytes, more with
	// statistics).
	maxHeaderBytes = 1 << 16
)

// openParquet opens a Parquet file of size bytes once every size it
// states has been checked (see above).
func openParquet(f io.ReaderAt, size int64) (*parquet.File, error) {
	meta, dataEnd, err := readFooter(f, size)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, maxHeaderBytes)
	for g, rg := range meta.RowGroups {
		if rg.NumRows < 0 || rg.NumRows > maxGroupRows {
			return nil, fmt.Errorf("row group %d claims %d rows", g, rg.NumRows)
		}
		for _, c := range rg.Columns {
			if err := checkPages(f, dataEnd, &c.MetaData, rg.NumRows, buf); err != nil {
				return nil, fmt.Errorf("row group %d, column %v: %v", g, c.MetaData.PathInSchema, err)
			}
		}
	}
	return parquet.OpenFile(f, size, parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true), parquet.ReadBufferSize(1<<20))
}

// readFooter checks a Parquet file's magic bytes and footer (its length,
// and every string and list in it against the bytes that hold them) and
// decodes the footer. dataEnd is where the footer starts.
func readFooter(f io.ReaderAt, size int64) (meta *format.FileMetaData, dataEnd int64, err error) {
	var head, tail [8]byte
	if size < 12 {
		return nil, 0, fmt.Errorf("%d bytes: too short", size)
	}
	if _, err := f.ReadAt(head[:4], 0); err != nil {
		return nil, 0, err
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return nil, 0, err
	}
	if string(head[:4]) != "PAR1" || string(tail[4:]) != "PAR1" {
		return nil, 0, errors.New("no PAR1 magic bytes at its start and end (truncated?)")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return nil, 0, fmt.Errorf("its footer claims %d bytes of a %d-byte file (truncated or corrupt)", n, size)
	}
	footer := make([]byte, n)
	if _, err := f.ReadAt(footer, size-8-n); err != nil {
		return nil, 0, err
	}
	if err := walkStruct(footer, new(int), 0); err != nil {
		return nil, 0, fmt.Errorf("corrupt footer: %v", err)
	}
	meta = new(format.FileMetaData)
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), footer, meta); err != nil {
		return nil, 0, fmt.Errorf("corrupt footer: %v", err)
	}
	return meta, size - 8 - n, nil
}

// checkPages walks the page headers of a column chunk, which must lie in
// the file's first end bytes, and checks each page's sizes.
func checkPages(f io.ReaderAt, end int64, m *format.ColumnMetaData, rows int64, buf []byte) error {
	start := m.DataPageOffset
	if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
		start = m.DictionaryPageOffset
	}
	stop := start + m.TotalCompressedSize
	if start < 4 || m.TotalCompressedSize < 0 || stop > end || stop < start {
		return fmt.Errorf("its %d bytes at %d lie outside the file's data", m.TotalCompressedSize, start)
	}
	if m.NumValues < 0 || m.NumValues > rows {
		return fmt.Errorf("%d values in %d rows", m.NumValues, rows)
	}
	// The library's other decoders trust sizes in the data (its LZ4
	// decoder doubles its buffer until memory runs out on corrupt input).
	if m.Codec != format.Zstd && m.Codec != format.Uncompressed {
		return fmt.Errorf("compressed with %v: rewardmix reads steps tables compressed with zstd (as it writes them) or not at all", m.Codec)
	}
	values := int64(0)
	for at := start; at < stop; {
		b := buf[:min(int64(len(buf)), stop-at)]
		if _, err := f.ReadAt(b, at); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		used := 0
		if err := walkStruct(b, &used, 0); err != nil {
			return fmt.Errorf("page header at %d: %v", at, err)
		}
		var h format.PageHeader
		if err := thrift.Unmarshal(new(thrift.CompactProtocol), b[:used], &h); err != nil {
			return fmt.Errorf("page header at %d: %v", at, err)
		}
		switch {
		case h.CompressedPageSize < 0 || at+int64(used)+int64(h.CompressedPageSize) > stop:
			return fmt.Errorf("page at %d: %d bytes past its column chunk", at, h.CompressedPageSize)
		case h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes:
			return fmt.Errorf("page at %d: %d bytes uncompressed", at, h.UncompressedPageSize)
		}
		if m.Codec == format.Zstd && h.CompressedPageSize > 0 {
			if err := checkZstdPage(f, at+int64(used), int64(h.CompressedPageSize), int64(h.UncompressedPageSize)); err != nil {
				return fmt.Errorf("page at %d: %v", at, err)
			}
		}
		var nv int64
		if d, ok := h.DataPageHeader.Get(); ok {
			nv = int64(d.NumValues)
		}
		if d, ok := h.DataPageHeaderV2.Get(); ok {
			nv = int64(d.NumValues)
			if d.NumRows < 0 || d.DefinitionLevelsByteLength < 0 || d.RepetitionLevelsByteLength < 0 ||
				int64(d.DefinitionLevelsByteLength)+int64(d.RepetitionLevelsByteLength) > int64(h.CompressedPageSize) {
				return fmt.Errorf("page at %d: inconsistent levels", at)
			}
		}
		if d, ok := h.DictionaryPageHeader.Get(); ok && (d.NumValues < 0 || int64(d.NumValues) > min(maxPageValues, int64(h.UncompressedPageSize)/4)) {
			return fmt.Errorf("dictionary page at %d: %d values in %d bytes", at, d.NumValues, h.UncompressedPageSize)
		}
		if nv > maxPageValues {
			return fmt.Errorf("page at %d: %d values", at, nv)
		}
		if nv < 0 || values+nv > rows {
			return fmt.Errorf("page at %d: %d values, past the row group's %d rows", at, nv, rows)
		}
		values += nv
		at += int64(used) + int64(h.CompressedPageSize)
	}
	return nil
}

// Thrift compact protocol types (of a field or a list's elements).
const (
	tBoolTrue, tBoolFalse, tByte, tI16, tI32, tI64, tDouble, tBinary, tList, tSet, tMap, tStruct = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
)

var errShort = errors.New("a size beyond its bytes")

// walkStruct walks a Thrift compact-protocol struct from b[*at], without
// decoding it, and fails if any string, list or map claims more elements
// than the bytes left could hold, or the nesting is deeper than a
// Parquet footer's. It leaves *at after the struct.
func walkStruct(b []byte, at *int, depth int) error {
	if depth > 32 {
		return errors.New("nested too deep")
	}
	for {
		if *at >= len(b) {
			return errShort
		}
		c := b[*at]
		*at++
		if c == 0 { // stop
			return nil
		}
		if c>>4 == 0 { // a long form field id follows, as a zigzag varint
			if _, err := uvarint(b, at); err != nil {
				return err
			}
		}
		if err := walkValue(b, at, c&0xF, depth); err != nil {
			return err
		}
	}
}

func walkValue(b []byte, at *int, t byte, depth int) error {
	switch t {
	case tBoolTrue, tBoolFalse:
		return nil
	case tByte:
		return skip(b, at, 1)
	case tI16, tI32, tI64:
		_, err := uvarint(b, at)
		return err
	case tDouble:
		return skip(b, at, 8)
	case tBinary:
		n, err := uvarint(b, at)
		if err != nil {
			return err
		}
		return skip(b, at, n)
	case tList, tSet:
		if *at >= len(b) {
			return errShort
		}
		h := b[*at]
		*at++
		n := uint64(h >> 4)
		if n == 15 {
			var err error
			if n, err = uvarint(b, at); err != nil {
				return err
			}
		}
		if n > uint64(len(b)-*at) { // every element takes a byte at least
			return errShort
		}
		for i := uint64(0); i < n; i++ {
			if h&0xF == tBoolTrue || h&0xF == tBoolFalse { // a list's booleans take a byte each
				if err := skip(b, at, 1); err != nil {
					return err
				}
				continue
			}
			if err := walkValue(b, at, h&0xF, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tMap:
		n, err := uvarint(b, at)
		if err != nil || n == 0 {
			return err
		}
		if n > uint64(len(b)-*at) {
			return errShort
		}
		if *at >= len(b) {
			return errShort
		}
		kv := b[*at]
		*at++
		for i := uint64(0); i < n; i++ {
			if err := walkValue(b, at, kv>>4, depth+1); err != nil {
				return err
			}
			if err := walkValue(b, at, kv&0xF, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tStruct:
		return walkStruct(b, at, depth+1)
	}
	return fmt.Errorf("unknown Thrift type %d", t)
}

func skip(b []byte, at *int, n uint64) error {
	if n > uint64(len(b)-*at) {
		return errShort
	}
	*at += int(n)
	return nil
}

func uvarint(b []byte, at *int) (uint64, error) {
	v, k := binary.Uvarint(b[*at:])
	if k <= 0 {
		return 0, errShort
	}
	*at += k
	return v, nil
}

// checkZstdPage checks that the size bytes at off are one zstd frame (RFC
// 8878, 3.1.1) that decodes to at most uncompressed bytes, with a window of
// at most 8 MiB: the decoder sizes its buffers by what a frame states, and
// a few bytes of RLE blocks can state gigabytes. A frame that states its
// content size is held to it by the decoder (ErrFrameSizeExceeded) and
// here for its raw and RLE blocks; one that does not is allowed a
// compressed block's maximum, 128 KiB, for each.
// It reads the frame header and each block's 3-byte header, not the data.
func checkZstdPage(f io.ReaderAt, off, size, uncompressed int64) error {
	var h [14]byte
	k, err := f.ReadAt(h[:min(int64(len(h)), size)], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	b := h[:k]
	if len(b) < 6 || binary.LittleEndian.Uint32(b) != 0xFD2FB528 {
		return errors.New("not a zstd frame")
	}
	d := b[4]
	single, checksum := d&0x20 != 0, d&0x04 != 0
	at := 5
	if !single {
		wd := b[5]
		if window := (int64(1) << (10 + wd>>3)) * int64(8+wd&7) / 8; window > 8<<20 {
			return fmt.Errorf("a zstd window of %d bytes", window)
		}
		at++
	}
	at += [4]int{0, 1, 2, 4}[d&3] // dictionary id
	fcs := [4]int{0, 2, 4, 8}[d>>6]
	if fcs == 0 && single {
		fcs = 1
	}
	if len(b) < at+fcs {
		return errors.New("a zstd frame header cut short")
	}
	var n uint64
	switch fcs {
	case 1:
		n = uint64(b[at])
	case 2:
		n = uint64(binary.LittleEndian.Uint16(b[at:])) + 256
	case 4:
		n = uint64(binary.LittleEndian.Uint32(b[at:]))
	case 8:
		n = binary.LittleEndian.Uint64(b[at:])
	}
	if n > uint64(uncompressed) {
		return fmt.Errorf("a zstd frame of %d bytes in a page of %d", n, uncompressed)
	}
	pos, end := off+int64(at+fcs), off+size
	decoded := int64(0)
	for {
		var bh [3]byte
		if pos+3 > end {
			return errors.New("a zstd frame cut short")
		}
		if _, err := f.ReadAt(bh[:], pos); err != nil {
			return err
		}
		v := uint32(bh[0]) | uint32(bh[1])<<8 | uint32(bh[2])<<16
		last, kind, bsize := v&1 == 1, (v>>1)&3, int64(v>>3)
		pos += 3
		switch kind {
		case 0: // raw
			decoded, pos = decoded+bsize, pos+bsize
		case 1: // RLE: one byte, repeated
			decoded, pos = decoded+bsize, pos+1
		case 2: // compressed: at most a block's maximum, 128 KiB, and the
			// stated content size if there is one (the decoder holds a
			// frame to it)
			if fcs == 0 {
				decoded += 128 << 10
			}
			pos += bsize
		default:
			return errors.New("a reserved zstd block type")
		}
		if fcs > 0 && decoded > int64(n) || decoded > uncompressed+128<<10 || pos > end {
			return fmt.Errorf("a zstd frame that decodes past its page's %d bytes", uncompressed)
		}
		if last {
			break
		}
	}
	if checksum {
		pos += 4
	}
	if pos != end {
		return errors.New("bytes after the page's zstd frame")
	}
	return nil
}
