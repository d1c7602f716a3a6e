package lake

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// fileWriter writes one Parquet object. Rows arrive in batches; each batch
// is encoded column by column, the columns spread over worker goroutines,
// each leaf column by its leafEncoder. The footer's schema is the one
// parquet-go derives from the file's schema (fileSchema.meta).
type fileWriter struct {
	fs        *fileSchema
	out       *countingWriter
	leaves    []*leafEncoder
	leafStart []int // first leaf column of each column
	rgRows    int   // rows in the open row group
	rows      int64 // rows in the file
	rgMax     int
	rgBytes   int64
	pageBytes int        // pageBytes, but in tests
	scr       []*scratch // the workers of the last write, which flush uses

	groups []format.RowGroup
	index  [][]chunk // the page index of each row group's chunks
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

const magic = "PAR1"

func newFileWriter(w io.Writer, fs *fileSchema, rgRows int, rgBytes int64) *fileWriter {
	fw := &fileWriter{fs: fs, out: &countingWriter{w: w}, rgMax: rgRows, rgBytes: rgBytes, pageBytes: pageBytes}
	paths := fs.pq.Columns()
	for _, c := range fs.cols {
		fw.leafStart = append(fw.leafStart, len(fw.leaves))
		repeated := c.Type == TypeArrayString || c.Type == TypeMapStringString
		elem := c.Type
		if repeated {
			elem = TypeString
		}
		for range c.leaves() {
			fw.leaves = append(fw.leaves, newLeafEncoder(paths[len(fw.leaves)], elem, c.Encoding, repeated))
		}
	}
	return fw
}

// scratch is one worker's reusable buffers.
type scratch struct {
	page  pageScratch
	arena []byte
	offs  []int32
	strs  []string
	kvs   []KV
	// a chunk accessor's output
	ok    []bool
	cstrs []string
	ints  []int64
	lists [][]string
	maps  []map[string]string
}

// chunkRows bounds the rows encoded at once, between which a page may be
// closed.
const chunkRows = 1024

// hook is Converter.Hook for one group of records, run once, by one of the
// goroutines that encode the group, before any Hooked column.
type hook struct {
	run  func() error
	once sync.Once
	err  error
}

// wait runs the hook if no one has, or waits until it has run (sync.Once
// blocks the other callers), and returns its error.
func (h *hook) wait() error {
	h.once.Do(func() { h.err = h.run() })
	return h.err
}

// write appends the rows recs[idx[0]], recs[idx[1]], ... using up to
// len(scr) goroutines, then flushes the row group when it is full. h, if
// not nil, is run first, while the columns that do not need it are encoded.
func (fw *fileWriter) write(recs []flowlog.Record, idx []int32, scr []*scratch, h *hook) error {
	fw.scr = scr
	for len(idx) > 0 {
		n := min(len(idx), fw.rgMax-fw.rgRows)
		if err := fw.writeChunk(recs, idx[:n], scr, h); err != nil {
			return err
		}
		idx = idx[n:]
		fw.rgRows += n
		fw.rows += int64(n)
		if fw.rgRows >= fw.rgMax || fw.size() >= fw.rgBytes {
			if err := fw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// size is the size of the open row group so far.
func (fw *fileWriter) size() int64 {
	var n int64
	for _, l := range fw.leaves {
		n += l.size()
	}
	return n
}

func (fw *fileWriter) writeChunk(recs []flowlog.Record, idx []int32, scr []*scratch, h *hook) error {
	ncol := len(fw.fs.cols)
	var present flowlog.FieldSet
	for _, k := range idx {
		present = present.Union(recs[k].Set)
	}
	// Task -1 is the hook; then the columns, in order (the Hooked ones
	// come last in every schema, so the hook has long finished by then).
	task := func(ci int, sc *scratch) error {
		if ci < 0 {
			if h != nil {
				return h.wait()
			}
			return nil
		}
		if fw.fs.cols[ci].Hooked && h != nil {
			if err := h.wait(); err != nil {
				return err
			}
		}
		return fw.writeColumn(ci, recs, idx, present, sc)
	}
	return parallel(ncol+1, scr, func(i int, sc *scratch) error { return task(i-1, sc) })
}

// parallel runs task(0, ...) to task(n-1, ...) on len(scr) goroutines,
// each with its scratch, taking the tasks in order; it returns the first
// error. One scratch runs them in order on this goroutine.
func parallel(n int, scr []*scratch, task func(i int, sc *scratch) error) error {
	if len(scr) == 1 {
		for i := range n {
			if err := task(i, scr[0]); err != nil {
				return err
			}
		}
		return nil
	}
	var next atomic.Int32
	var wg sync.WaitGroup
	errs := make([]error, len(scr))
	for w := range scr {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := task(i, scr[w]); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// flush writes the open row group.
func (fw *fileWriter) flush() error {
	if fw.rgRows == 0 {
		return nil
	}
	if err := fw.start(); err != nil {
		return err
	}
	// The last pages and the dictionaries are compressed in parallel, by
	// the workers of the write that filled the row group; then the chunks
	// are written in order.
	err := parallel(len(fw.leaves), fw.scr, func(i int, sc *scratch) error {
		if err := fw.leaves[i].seal(compression, &sc.page); err != nil {
			return fmt.Errorf("column %s: %w", strings.Join(fw.leaves[i].path, "."), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	rg := format.RowGroup{NumRows: int64(fw.rgRows), FileOffset: fw.out.n, Ordinal: int16(len(fw.groups))}
	idx := make([]chunk, len(fw.leaves))
	for i, l := range fw.leaves {
		c, err := l.writeChunk(fw.out, compression)
		if err != nil {
			return fmt.Errorf("column %s: %w", strings.Join(l.path, "."), err)
		}
		rg.Columns = append(rg.Columns, c.meta)
		rg.TotalByteSize += c.meta.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += c.meta.MetaData.TotalCompressedSize
		idx[i] = c
	}
	fw.groups = append(fw.groups, rg)
	fw.index = append(fw.index, idx)
	fw.rgRows = 0
	return nil
}

// start writes the magic number that begins the object.
func (fw *fileWriter) start() error {
	if fw.out.n > 0 {
		return nil
	}
	_, err := fw.out.Write([]byte(magic))
	return err
}

// close writes the last row group, the page index and the footer.
func (fw *fileWriter) close() error {
	if err := fw.flush(); err != nil {
		return err
	}
	if err := fw.start(); err != nil {
		return err
	}
	enc := func(v any) ([]byte, error) { return thrift.Marshal(new(thrift.CompactProtocol), v) }
	for r := range fw.groups {
		for i := range fw.index[r] {
			b, err := enc(&fw.index[r][i].ci)
			if err != nil {
				return fmt.Errorf("column index: %w", err)
			}
			c := &fw.groups[r].Columns[i]
			c.ColumnIndexOffset, c.ColumnIndexLength = fw.out.n, int32(len(b))
			if _, err := fw.out.Write(b); err != nil {
				return err
			}
		}
	}
	for r := range fw.groups {
		for i := range fw.index[r] {
			b, err := enc(&fw.index[r][i].oi)
			if err != nil {
				return fmt.Errorf("offset index: %w", err)
			}
			c := &fw.groups[r].Columns[i]
			c.OffsetIndexOffset, c.OffsetIndexLength = fw.out.n, int32(len(b))
			if _, err := fw.out.Write(b); err != nil {
				return err
			}
		}
	}
	md := fw.fs.meta
	md.NumRows = fw.rows
	md.RowGroups = slices.Clone(fw.groups)
	b, err := enc(&md)
	if err != nil {
		return fmt.Errorf("footer: %w", err)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(b)))
	_, err = fw.out.Write(append(b, magic...))
	return err
}

// writeColumn encodes one column of the rows.
func (fw *fileWriter) writeColumn(ci int, recs []flowlog.Record, idx []int32, present flowlog.FieldSet, sc *scratch) error {
	c := fw.fs.cols[ci]
	l := fw.leaves[fw.leafStart[ci]]
	var lv *leafEncoder // a map's values
	if c.Type == TypeMapStringString {
		lv = fw.leaves[fw.leafStart[ci]+1]
	}
	allNull := c.Field != 0 && !present.Has(c.Field)
	for len(idx) > 0 {
		part := idx[:min(len(idx), chunkRows)]
		idx = idx[len(part):]
		switch {
		case allNull:
			l.nulls(len(part))
			if lv != nil {
				lv.nulls(len(part))
			}
		case c.Strings != nil:
			strs, ok := chunkOf(&sc.cstrs, len(part)), chunkOf(&sc.ok, len(part))
			c.Strings(part, strs, ok)
			for i, s := range strs {
				if ok[i] {
					l.str(s, 0)
				} else {
					l.null(0)
				}
			}
			clear(strs)
		case c.Ints != nil:
			ints, ok := chunkOf(&sc.ints, len(part)), chunkOf(&sc.ok, len(part))
			c.Ints(part, ints, ok)
			for i, v := range ints {
				if ok[i] {
					l.int(v)
				} else {
					l.null(0)
				}
			}
		case c.Str != nil:
			for _, k := range part {
				if s, ok := c.Str(&recs[k], int(k)); ok {
					l.str(s, 0)
				} else {
					l.null(0)
				}
			}
		case c.AppendStr != nil:
			// First append every string to the arena and note where each
			// ends (-1 for NULL), then take them from one string of it.
			arena, offs := sc.arena[:0], sc.offs[:0]
			for _, k := range part {
				var ok bool
				n := len(arena)
				if arena, ok = c.AppendStr(arena, &recs[k], int(k)); !ok {
					arena = arena[:n]
					offs = append(offs, -1)
					continue
				}
				offs = append(offs, int32(len(arena)))
			}
			all := string(arena)
			prev := int32(0)
			for _, e := range offs {
				if e < 0 {
					l.null(0)
					continue
				}
				l.str(all[prev:e], 0)
				prev = e
			}
			sc.arena, sc.offs = arena, offs
		case c.Addr != nil:
			for _, k := range part {
				if a, ok := c.Addr(&recs[k], int(k)); ok {
					l.addr(a, &sc.arena)
				} else {
					l.null(0)
				}
			}
		case c.Int != nil:
			for _, k := range part {
				if v, ok := c.Int(&recs[k], int(k)); ok {
					l.int(v)
				} else {
					l.null(0)
				}
			}
		case c.Lists != nil:
			lists, ok := chunkOf(&sc.lists, len(part)), chunkOf(&sc.ok, len(part))
			c.Lists(part, lists, ok)
			for i, strs := range lists {
				appendList(l, strs, ok[i])
			}
			clear(lists)
		case c.List != nil:
			for _, k := range part {
				strs, ok := c.List(sc.strs[:0], &recs[k], int(k))
				sc.strs = strs
				appendList(l, strs, ok)
			}
			clear(sc.strs)
		case c.Map != nil:
			for _, k := range part {
				kvs, ok := c.Map(sc.kvs[:0], &recs[k], int(k))
				sc.kvs = kvs
				appendMap(l, lv, kvs, ok)
			}
			clear(sc.kvs)
		case c.Maps != nil:
			maps, ok := chunkOf(&sc.maps, len(part)), chunkOf(&sc.ok, len(part))
			c.Maps(part, maps, ok)
			for i, m := range maps {
				kvs := sc.kvs[:0]
				for k, v := range m {
					kvs = append(kvs, KV{k, v})
				}
				slices.SortFunc(kvs, func(a, b KV) int { return strings.Compare(a.Key, b.Key) })
				sc.kvs = kvs
				appendMap(l, lv, kvs, ok[i])
			}
			clear(maps)
			clear(sc.kvs)
		}
		for _, e := range []*leafEncoder{l, lv} {
			if e == nil {
				continue
			}
			if err := e.endRows(compression, fw.pageBytes, &sc.page); err != nil {
				return fmt.Errorf("column %s: %w", c.Name, err)
			}
		}
	}
	return nil
}

// appendList appends one row of a list column: definition level 0 is
// NULL, 1 an empty array, 2 an element; repetition level 0 starts a row,
// 1 continues it.
func appendList(l *leafEncoder, strs []string, ok bool) {
	switch {
	case !ok:
		l.null(0)
		return
	case len(strs) == 0:
		l.null(1)
		return
	}
	for j, s := range strs {
		l.str(s, uint8(min(j, 1)))
	}
}

// appendMap appends the keys (to lk) and values (to lv) of one row of a
// map column, with the levels of appendList.
func appendMap(lk, lv *leafEncoder, kvs []KV, ok bool) {
	switch {
	case !ok:
		lk.null(0)
		lv.null(0)
		return
	case len(kvs) == 0:
		lk.null(1)
		lv.null(1)
		return
	}
	for j, kv := range kvs {
		lk.str(kv.Key, uint8(min(j, 1)))
		lv.str(kv.Value, uint8(min(j, 1)))
	}
}

// chunkOf returns *buf resliced to n elements, reallocated if too small.
func chunkOf[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}
