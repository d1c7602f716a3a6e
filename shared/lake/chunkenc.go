package lake

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// leafEncoder encodes one leaf column of a Parquet object: the values of
// one row group's column chunk go into data pages as they arrive, and the
// dictionary, if any, is written before them when the row group is flushed.
//
// It writes exactly what the lake's layout needs, no more: optional flat
// columns (maximum definition level 1) and the elements of lists and maps
// (maximum definition level 2, maximum repetition level 1), of INT32,
// INT64 or BYTE_ARRAY values, PLAIN, RLE_DICTIONARY or
// DELTA_BINARY_PACKED, in version 1 data pages compressed with the file's
// codec. Each page records its exact bounds and null count for the column
// index, and its location for the offset index. The bit-level encodings
// (levels, dictionary indexes, deltas) and the Thrift structures are
// parquet-go's; what this adds is writing them straight from typed values,
// without parquet.Value, a column buffer or a second pass for the bounds:
// on the lake's rich format that halves the encoding's CPU (flowlake
// bench, see the commit that introduced it).
type leafEncoder struct {
	path   []string
	ptype  format.Type // INT32, INT64 or BYTE_ARRAY
	enc    Encoding
	maxDef uint8 // 1, or 2 for list and map elements
	rep    bool  // list and map elements carry repetition levels

	// The open page: its levels and values. Only the slice of the
	// column's type and encoding is used.
	def, reps []uint8
	ints      []int64 // INT32 and INT64 values, plain or delta
	idx       []int32 // dictionary indexes
	plain     []byte  // PLAIN byte arrays: a 4-byte length, then the bytes
	pageRows  int
	pageNulls int
	pb        bounds

	// The dictionary of the open chunk, of strings or of integers.
	strDict    map[string]int32
	addrDict   map[netip.Addr]int32 // the entries of strDict that addr added
	lastAddr   netip.Addr           // the address of last, when addr set it
	strVals    []string
	intDict    map[int64]int32
	intVals    []int64
	dictSize   int             // bytes of the plain dictionary page
	seen       []uint32        // the last page in which each entry was seen
	page       uint32          // the open page's stamp, from 1
	last       int32           // the last entry looked up, or -1
	recent     [16]int32       // strDict entries by recentSlot of their string, plus 1
	recentAddr [256]recentAddr // addrDict entries by addrSlot

	// The open chunk: its encoded data pages and what the footer and the
	// page index say of it.
	data       []byte
	pages      []pageMeta
	chunkRows  int64
	numValues  int64
	nullCount  int64
	uncompSize int64 // of the data pages, headers included
	dictLen    int   // bytes of the sealed dictionary page, at the end of data
	dictUncomp int64 // its uncompressed size, header included
	cb         bounds
	plainPages int32 // data pages written PLAIN
	encPages   int32 // and in the column's encoding

	ps *pageScratch // the caller's, while a page or chunk is written
}

// bounds are the minimum and maximum of some values: for a string column,
// of the bytes; for an integer column, of the signed values.
type bounds struct {
	ok   bool
	minI int64
	maxI int64
	minS string
	maxS string
}

func (b *bounds) addInt(v int64) {
	if !b.ok {
		b.ok, b.minI, b.maxI = true, v, v
		return
	}
	b.minI, b.maxI = min(b.minI, v), max(b.maxI, v)
}

func (b *bounds) addStr(s string) {
	if !b.ok {
		b.ok, b.minS, b.maxS = true, s, s
		return
	}
	if s < b.minS {
		b.minS = s
	}
	if s > b.maxS {
		b.maxS = s
	}
}

func (b *bounds) merge(o bounds, ints bool) {
	if !o.ok {
		return
	}
	if ints {
		b.addInt(o.minI)
		b.addInt(o.maxI)
		return
	}
	b.addStr(o.minS)
	b.addStr(o.maxS)
}

// pageMeta is what the page index holds of one data page.
type pageMeta struct {
	off, size int64 // within the chunk's data pages
	firstRow  int64
	nulls     int64
	b         bounds
}

// pageBytes is the size of the values at which a page is closed (at the
// end of a chunk of rows: a row never spans two pages), that of
// parquet-go's default page buffer.
const pageBytes = 256 << 10

func newLeafEncoder(path []string, t Type, enc Encoding, repeated bool) *leafEncoder {
	l := &leafEncoder{path: path, enc: enc, maxDef: 1, rep: repeated, last: -1, page: 1}
	if repeated {
		l.maxDef = 2
	}
	switch t {
	case TypeInt:
		l.ptype = format.Int32
	case TypeBigInt, TypeTimestamp:
		l.ptype = format.Int64
	default:
		l.ptype = format.ByteArray
	}
	if enc == EncodingDict {
		if l.ptype == format.ByteArray {
			l.strDict = make(map[string]int32)
		} else {
			l.intDict = make(map[int64]int32)
		}
	}
	return l
}

func (l *leafEncoder) ints32() bool { return l.ptype == format.Int32 }

// null appends a NULL row (or, with def 1 in a list or map, an empty one).
func (l *leafEncoder) null(def uint8) {
	l.def = append(l.def, def)
	if l.rep {
		l.reps = append(l.reps, 0)
	}
	l.pageRows++
	l.pageNulls++
}

// nulls appends n NULL rows.
func (l *leafEncoder) nulls(n int) {
	for range n {
		l.def = append(l.def, 0)
	}
	if l.rep {
		for range n {
			l.reps = append(l.reps, 0)
		}
	}
	l.pageRows += n
	l.pageNulls += n
}

// level appends the levels of a value: rep 0 starts a row.
func (l *leafEncoder) level(rep uint8) {
	l.def = append(l.def, l.maxDef)
	if l.rep {
		l.reps = append(l.reps, rep)
		if rep == 0 {
			l.pageRows++
		}
		return
	}
	l.pageRows++
}

// int appends an integer value.
func (l *leafEncoder) int(v int64) {
	l.level(0)
	if l.ints32() {
		v = int64(int32(v))
	}
	if l.intDict == nil {
		l.ints = append(l.ints, v)
		l.pb.addInt(v)
		return
	}
	id := l.last
	if id < 0 || l.intVals[id] != v {
		var ok bool
		if id, ok = l.intDict[v]; !ok {
			id = int32(len(l.intVals))
			l.intDict[v] = id
			l.intVals = append(l.intVals, v)
			l.seen = append(l.seen, 0)
			l.dictSize += 8
		}
		l.last = id
	}
	l.idx = append(l.idx, id)
	if l.seen[id] != l.page {
		l.seen[id] = l.page
		l.pb.addInt(v)
	}
}

// str appends a string value, with repetition level rep. s may be
// modified after the call: what is kept is copied.
func (l *leafEncoder) str(s string, rep uint8) {
	l.level(rep)
	if l.strDict == nil {
		l.plain = binary.LittleEndian.AppendUint32(l.plain, uint32(len(s)))
		l.plain = append(l.plain, s...)
		if !l.pb.ok || s < l.pb.minS || s > l.pb.maxS {
			s = strings.Clone(s)
			l.pb.addStr(s)
		}
		return
	}
	id := l.last
	if id < 0 || l.strVals[id] != s {
		// a column of few values that alternate (action, direction,
		// service) finds them here without hashing
		slot := recentSlot(s)
		if id = l.recent[slot] - 1; id < 0 || l.strVals[id] != s {
			var ok bool
			if id, ok = l.strDict[s]; !ok {
				id = l.addEntry(strings.Clone(s))
			}
			l.recent[slot] = id + 1
		}
		l.last = id
	}
	l.idx = append(l.idx, id)
	if l.seen[id] != l.page {
		l.seen[id] = l.page
		l.pb.addStr(l.strVals[id])
	}
}

// addEntry adds s, which the encoder keeps, to the string dictionary and
// returns its entry.
func (l *leafEncoder) addEntry(s string) int32 {
	id := int32(len(l.strVals))
	l.strDict[s] = id
	l.strVals = append(l.strVals, s)
	l.seen = append(l.seen, 0)
	l.dictSize += 4 + len(s)
	return id
}

// recentSlot is s's slot in leafEncoder.recent: of its length and its
// first and last bytes, which tell apart the few values of an enumerated
// column.
func recentSlot(s string) int {
	if s == "" {
		return 0
	}
	return int(uint(len(s))*7+uint(s[0])+uint(s[len(s)-1])*3) & 15
}

// recentAddr is an address and its strDict entry plus 1.
type recentAddr struct {
	a  netip.Addr
	id int32
}

// addrSlot is a's slot in leafEncoder.recentAddr: of its last two bytes,
// which differ most between the addresses of a row group.
func addrSlot(a netip.Addr) int {
	b := a.As16()
	return int(uint(b[15])^uint(b[14])*37) & 255
}

// addr appends an address value as its text (appendAddr's), formatted in
// buf. A dictionary column looks the address up first, so that a repeated
// address (most are: the rows of a row group share few) is not formatted
// again.
func (l *leafEncoder) addr(a netip.Addr, buf *[]byte) {
	if l.strDict == nil {
		*buf = appendAddr((*buf)[:0], a)
		l.level(0)
		l.plain = binary.LittleEndian.AppendUint32(l.plain, uint32(len(*buf)))
		l.plain = append(l.plain, *buf...)
		if !l.pb.ok || string(*buf) < l.pb.minS || string(*buf) > l.pb.maxS {
			l.pb.addStr(string(*buf))
		}
		return
	}
	if l.addrDict == nil {
		l.addrDict = make(map[netip.Addr]int32)
	}
	l.level(0)
	id := l.last
	if id < 0 || l.lastAddr != a {
		slot := &l.recentAddr[addrSlot(a)]
		var ok bool
		if slot.id > 0 && slot.a == a {
			id = slot.id - 1
		} else if id, ok = l.addrDict[a]; ok {
			*slot = recentAddr{a, id + 1}
		} else {
			*buf = appendAddr((*buf)[:0], a)
			if id, ok = l.strDict[string(*buf)]; !ok {
				id = l.addEntry(string(*buf))
			}
			l.addrDict[a] = id
			*slot = recentAddr{a, id + 1}
		}
		l.last, l.lastAddr = id, a
	}
	l.idx = append(l.idx, id)
	if l.seen[id] != l.page {
		l.seen[id] = l.page
		l.pb.addStr(l.strVals[id])
	}
}

// pageSize is the size of the open page as parquet-go's optional column
// buffers count it (a level byte and a 4-byte row index per level, then
// the values), so that pages hold as many rows as they did when
// parquet-go wrote them: about 29 Ki rows of a dictionary or INT32 column.
func (l *leafEncoder) pageSize() int {
	n := 5 * len(l.def)
	switch {
	case l.strDict != nil || l.intDict != nil:
		return n + 4*len(l.idx)
	case l.ptype == format.ByteArray:
		return n + len(l.plain)
	case l.ints32():
		return n + 4*len(l.ints)
	}
	return n + 8*len(l.ints)
}

// size is the size of the chunk so far: its pages and its dictionary.
func (l *leafEncoder) size() int64 { return int64(len(l.data) + l.pageSize() + l.dictSize) }

// endRows closes the open page if it holds limit bytes (pageSize); it is
// called between rows.
func (l *leafEncoder) endRows(codec compressor, limit int, ps *pageScratch) error {
	if l.pageSize() < limit {
		return nil
	}
	l.ps = ps
	defer func() { l.ps = nil }()
	return l.flushPage(codec)
}

// pageScratch holds the buffers of one page being encoded. Each worker has
// its own, and the encoders of a file's leaves (of the files open at once)
// share them rather than each keeping its own, which kept 20 MiB more at
// the peak of a 79 MB object (TestPeakRSS75MB: 177.1 MiB, now 157.6).
type pageScratch struct {
	body, lv, tmp []byte
}

// compressor is the file's page codec.
type compressor interface {
	Encode(dst, src []byte) ([]byte, error)
	CompressionCodec() format.CompressionCodec
}

// dataEncoding is the encoding of the open page's values. A dictionary
// column's page is PLAIN (of no values) while its dictionary is empty: a
// dictionary-encoded page needs a dictionary page before it, and a chunk
// of NULLs has none.
func (l *leafEncoder) dataEncoding() format.Encoding {
	switch {
	case len(l.strVals) > 0 || len(l.intVals) > 0:
		return format.RLEDictionary
	case l.enc == EncodingDelta:
		return format.DeltaBinaryPacked
	}
	return format.Plain
}

// appendLevels appends the RLE/bit-packed levels of a version 1 page,
// after their 4-byte length.
func (l *leafEncoder) appendLevels(dst []byte, levels []uint8, maxLevel uint8) ([]byte, error) {
	e := rle.Encoding{BitWidth: bits.Len8(maxLevel)}
	var err error
	if l.ps.lv, err = e.EncodeLevels(l.ps.lv[:0], levels); err != nil {
		return dst, err
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(l.ps.lv)))
	return append(dst, l.ps.lv...), nil
}

// flushPage encodes and compresses the open page, if it holds a row.
func (l *leafEncoder) flushPage(codec compressor) error {
	if len(l.def) == 0 {
		return nil
	}
	body := l.ps.body[:0]
	var err error
	if l.rep {
		if body, err = l.appendLevels(body, l.reps, 1); err != nil {
			return fmt.Errorf("repetition levels: %w", err)
		}
	}
	if body, err = l.appendLevels(body, l.def, l.maxDef); err != nil {
		return fmt.Errorf("definition levels: %w", err)
	}
	switch l.dataEncoding() {
	case format.RLEDictionary:
		var e rle.DictionaryEncoding
		if l.ps.tmp, err = e.EncodeInt32(l.ps.tmp[:0], l.idx); err != nil {
			return fmt.Errorf("dictionary indexes: %w", err)
		}
		body = append(body, l.ps.tmp...)
	case format.DeltaBinaryPacked:
		var e delta.BinaryPackedEncoding
		if l.ints32() {
			i32 := make([]int32, len(l.ints))
			for i, v := range l.ints {
				i32[i] = int32(v)
			}
			l.ps.tmp, err = e.EncodeInt32(l.ps.tmp[:0], i32)
		} else {
			l.ps.tmp, err = e.EncodeInt64(l.ps.tmp[:0], l.ints)
		}
		if err != nil {
			return fmt.Errorf("delta values: %w", err)
		}
		body = append(body, l.ps.tmp...)
	default:
		switch {
		case l.ptype == format.ByteArray:
			body = append(body, l.plain...)
		case l.ints32():
			for _, v := range l.ints {
				body = binary.LittleEndian.AppendUint32(body, uint32(v))
			}
		default:
			for _, v := range l.ints {
				body = binary.LittleEndian.AppendUint64(body, uint64(v))
			}
		}
	}
	l.ps.body = body
	if l.ps.tmp, err = codec.Encode(l.ps.tmp[:0], body); err != nil {
		return fmt.Errorf("compress page: %w", err)
	}
	h := format.PageHeader{
		Type:                 format.DataPage,
		UncompressedPageSize: int32(len(body)),
		CompressedPageSize:   int32(len(l.ps.tmp)),
		DataPageHeader: thrift.New(format.DataPageHeader{
			NumValues:               int32(len(l.def)),
			Encoding:                l.dataEncoding(),
			DefinitionLevelEncoding: format.RLE,
			RepetitionLevelEncoding: format.RLE,
			Statistics:              format.Statistics{NullCount: int64(l.pageNulls)},
		}),
	}
	hb, err := thrift.Marshal(new(thrift.CompactProtocol), &h)
	if err != nil {
		return fmt.Errorf("page header: %w", err)
	}
	l.pages = append(l.pages, pageMeta{off: int64(len(l.data)), size: int64(len(hb) + len(l.ps.tmp)),
		firstRow: l.chunkRows, nulls: int64(l.pageNulls), b: l.pb})
	l.data = append(append(l.data, hb...), l.ps.tmp...)
	l.uncompSize += int64(len(hb) + len(body))
	l.cb.merge(l.pb, l.ptype != format.ByteArray)
	l.chunkRows += int64(l.pageRows)
	l.numValues += int64(len(l.def))
	l.nullCount += int64(l.pageNulls)
	if enc := l.dataEncoding(); enc == format.Plain {
		l.plainPages++
	} else {
		l.encPages++
	}
	l.def, l.reps, l.ints, l.idx, l.plain = l.def[:0], l.reps[:0], l.ints[:0], l.idx[:0], l.plain[:0]
	l.pageRows, l.pageNulls, l.pb = 0, 0, bounds{}
	l.page++
	return nil
}

// encode returns the PLAIN bytes of a bound.
func (l *leafEncoder) encode(b bounds, max bool) []byte {
	v, s := b.minI, b.minS
	if max {
		v, s = b.maxI, b.maxS
	}
	switch l.ptype {
	case format.Int32:
		return binary.LittleEndian.AppendUint32(nil, uint32(v))
	case format.Int64:
		return binary.LittleEndian.AppendUint64(nil, uint64(v))
	}
	return []byte(s)
}

// chunk is a column chunk ready for the footer: its metadata (offsets
// relative to the object, set by writeChunk) and page index.
type chunk struct {
	meta format.ColumnChunk
	ci   format.ColumnIndex
	oi   format.OffsetIndex
}

// seal closes the open page and encodes and compresses the dictionary
// page, appending it to data after the data pages (dictLen bytes), so that
// writeChunk only writes. The leaves of a row group are sealed in
// parallel, each by one worker with its pageScratch.
func (l *leafEncoder) seal(codec compressor, ps *pageScratch) error {
	l.ps = ps
	defer func() { l.ps = nil }()
	if err := l.flushPage(codec); err != nil {
		return err
	}
	l.dictLen, l.dictUncomp = 0, 0
	n := max(len(l.strVals), len(l.intVals))
	if n == 0 {
		return nil
	}
	dict := l.ps.body[:0]
	for _, s := range l.strVals {
		dict = binary.LittleEndian.AppendUint32(dict, uint32(len(s)))
		dict = append(dict, s...)
	}
	for _, v := range l.intVals {
		if l.ints32() {
			dict = binary.LittleEndian.AppendUint32(dict, uint32(v))
		} else {
			dict = binary.LittleEndian.AppendUint64(dict, uint64(v))
		}
	}
	l.ps.body = dict
	var err error
	if l.ps.tmp, err = codec.Encode(l.ps.tmp[:0], dict); err != nil {
		return fmt.Errorf("compress dictionary: %w", err)
	}
	h := format.PageHeader{
		Type:                 format.DictionaryPage,
		UncompressedPageSize: int32(len(dict)),
		CompressedPageSize:   int32(len(l.ps.tmp)),
		DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{NumValues: int32(n), Encoding: format.Plain}),
	}
	hb, err := thrift.Marshal(new(thrift.CompactProtocol), &h)
	if err != nil {
		return fmt.Errorf("dictionary page header: %w", err)
	}
	l.data = append(append(l.data, hb...), l.ps.tmp...)
	l.dictLen = len(hb) + len(l.ps.tmp)
	l.dictUncomp = int64(len(hb) + len(dict))
	return nil
}

// writeChunk writes the sealed chunk to w (the object): the dictionary
// page, then the data pages; and resets the chunk.
func (l *leafEncoder) writeChunk(w *countingWriter, codec compressor) (chunk, error) {
	var c chunk
	start := w.n
	md := format.ColumnMetaData{
		Type:         l.ptype,
		PathInSchema: l.path,
		Codec:        codec.CompressionCodec(),
		NumValues:    l.numValues,
		Statistics:   format.Statistics{NullCount: l.nullCount},
	}
	encs := []format.Encoding{format.RLE}
	pages := l.data[:len(l.data)-l.dictLen]
	if l.dictLen > 0 {
		md.DictionaryPageOffset = start
		if _, err := w.Write(l.data[len(pages):]); err != nil {
			return c, err
		}
		md.TotalUncompressedSize += l.dictUncomp
		md.EncodingStats = append(md.EncodingStats, format.PageEncodingStats{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1})
		encs = append(encs, format.Plain)
	}
	md.DataPageOffset = w.n
	if _, err := w.Write(pages); err != nil {
		return c, err
	}
	md.TotalUncompressedSize += l.uncompSize
	md.TotalCompressedSize = w.n - start
	if l.plainPages > 0 {
		md.EncodingStats = append(md.EncodingStats, format.PageEncodingStats{PageType: format.DataPage, Encoding: format.Plain, Count: l.plainPages})
		encs = append(encs, format.Plain)
	}
	if l.encPages > 0 {
		md.EncodingStats = append(md.EncodingStats, format.PageEncodingStats{PageType: format.DataPage, Encoding: l.dataEncoding(), Count: l.encPages})
		encs = append(encs, l.dataEncoding())
	}
	slices.Sort(encs)
	md.Encoding = slices.Compact(encs)
	if l.cb.ok {
		md.Statistics.MinValue, md.Statistics.MaxValue = l.encode(l.cb, false), l.encode(l.cb, true)
	}
	c.meta = format.ColumnChunk{FileOffset: start, MetaData: md}

	ints := l.ptype != format.ByteArray
	asc, desc := true, true
	var prev *bounds
	for i := range l.pages {
		p := &l.pages[i]
		c.oi.PageLocations = append(c.oi.PageLocations, format.PageLocation{
			Offset: md.DataPageOffset + p.off, CompressedPageSize: int32(p.size), FirstRowIndex: p.firstRow})
		c.ci.NullPages = append(c.ci.NullPages, !p.b.ok)
		c.ci.NullCounts = append(c.ci.NullCounts, p.nulls)
		if !p.b.ok {
			c.ci.MinValues = append(c.ci.MinValues, []byte{})
			c.ci.MaxValues = append(c.ci.MaxValues, []byte{})
			continue
		}
		c.ci.MinValues = append(c.ci.MinValues, l.encode(p.b, false))
		c.ci.MaxValues = append(c.ci.MaxValues, l.encode(p.b, true))
		if prev != nil {
			lo, hi := compareBounds(prev, &p.b, ints)
			asc = asc && lo <= 0 && hi <= 0
			desc = desc && lo >= 0 && hi >= 0
		}
		prev = &p.b
	}
	switch {
	case prev == nil || asc: // one page or none with values is ascending
		c.ci.BoundaryOrder = format.Ascending
	case desc:
		c.ci.BoundaryOrder = format.Descending
	default:
		c.ci.BoundaryOrder = format.Unordered
	}
	l.reset()
	return c, nil
}

// compareBounds compares the minimums, then the maximums, of two pages.
func compareBounds(a, b *bounds, ints bool) (int, int) {
	if ints {
		return cmp.Compare(a.minI, b.minI), cmp.Compare(a.maxI, b.maxI)
	}
	return strings.Compare(a.minS, b.minS), strings.Compare(a.maxS, b.maxS)
}

// reset empties the chunk, keeping the buffers.
func (l *leafEncoder) reset() {
	clear(l.strDict)
	clear(l.addrDict)
	clear(l.intDict)
	clear(l.strVals)
	l.strVals, l.intVals, l.seen = l.strVals[:0], l.intVals[:0], l.seen[:0]
	l.dictSize, l.last, l.page = 0, -1, 1
	l.recent, l.recentAddr = [16]int32{}, [256]recentAddr{}
	l.data, l.pages, l.dictLen, l.dictUncomp = l.data[:0], l.pages[:0], 0, 0
	l.chunkRows, l.numValues, l.nullCount, l.uncompSize, l.plainPages, l.encPages = 0, 0, 0, 0, 0, 0
	l.cb = bounds{}
}
