package lake

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/internal/pqvalue"
	"github.com/parquet-go/parquet-go"
)

// refWriter is the writer the lake had before leafEncoder: parquet-go's,
// fed parquet.Value rows column by column. The tests keep it as the
// reference that fileWriter's objects are compared with (the same rows,
// read back by parquet-go and arrow-go), and to write objects with
// parquet-go's writer options (the page index tests' bad bounds).
type refWriter struct {
	fs        *fileSchema
	out       *countingWriter
	pw        *parquet.GenericWriter[any] // written column by column (ColumnWriters), never by rows
	leafStart []int                       // first leaf column of each column
	rgRows    int                         // rows in the open row group
	rows      int64                       // rows in the file
	rgMax     int
	rgBytes   int64
}

func newRefWriter(w io.Writer, fs *fileSchema, rgRows int, rgBytes int64) *refWriter {
	cw := &countingWriter{w: w}
	fw := &refWriter{
		fs:      fs,
		out:     cw,
		pw:      parquet.NewGenericWriter[any](cw, fs.opts...), // the schema is one of fs.opts
		rgMax:   rgRows,
		rgBytes: rgBytes,
	}
	leaf := 0
	for _, c := range fs.cols {
		fw.leafStart = append(fw.leafStart, leaf)
		leaf += c.leaves()
	}
	return fw
}

// refScratch is one worker's reusable buffers.
type refScratch struct {
	scratch
	vals  []parquet.Value
	vals2 []parquet.Value
}

// write appends the rows recs[idx[0]], recs[idx[1]], ... using up to
// len(scr) goroutines, then flushes the row group when it is full. h, if
// not nil, is run first, while the columns that do not need it are encoded.
func (fw *refWriter) write(recs []flowlog.Record, idx []int32, scr []*refScratch, h *hook) error {
	for len(idx) > 0 {
		n := min(len(idx), fw.rgMax-fw.rgRows)
		if err := fw.writeChunk(recs, idx[:n], scr, h); err != nil {
			return err
		}
		idx = idx[n:]
		fw.rgRows += n
		fw.rows += int64(n)
		if fw.rgRows >= fw.rgMax || fw.pw.Size() >= fw.rgBytes {
			if err := fw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (fw *refWriter) writeChunk(recs []flowlog.Record, idx []int32, scr []*refScratch, h *hook) error {
	cols := fw.pw.ColumnWriters()
	ncol := len(fw.fs.cols)
	var present flowlog.FieldSet
	for _, k := range idx {
		present = present.Union(recs[k].Set)
	}
	// Task -1 is the hook; then the columns, in order (the Hooked ones
	// come last in every schema, so the hook has long finished by then).
	task := func(ci int, sc *refScratch) error {
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
		return fw.writeColumn(cols, ci, recs, idx, present, sc)
	}
	if len(scr) == 1 {
		for ci := -1; ci < ncol; ci++ {
			if err := task(ci, scr[0]); err != nil {
				return err
			}
		}
		return nil
	}
	var next atomic.Int32
	next.Store(-1)
	var wg sync.WaitGroup
	errs := make([]error, len(scr))
	for w := range scr {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ci := int(next.Add(1)) - 1
				if ci >= ncol {
					return
				}
				if err := task(ci, scr[w]); err != nil {
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

func (fw *refWriter) flush() error {
	if fw.rgRows == 0 {
		return nil
	}
	fw.rgRows = 0
	return fw.pw.Flush()
}

// close writes the last row group and the footer.
func (fw *refWriter) close() error {
	if err := fw.flush(); err != nil {
		return err
	}
	return fw.pw.Close()
}

// writeColumn encodes one column of the rows.
func (fw *refWriter) writeColumn(cols []*parquet.ColumnWriter, ci int, recs []flowlog.Record, idx []int32, present flowlog.FieldSet, sc *refScratch) error {
	c := fw.fs.cols[ci]
	li := fw.leafStart[ci]
	cw := cols[li]
	allNull := c.Field != 0 && !present.Has(c.Field)
	for len(idx) > 0 {
		part := idx[:min(len(idx), chunkRows)]
		idx = idx[len(part):]
		vals := sc.vals[:0]
		switch {
		case allNull:
			vals = grow(vals, len(part))
			clear(vals)
			if c.Type == TypeMapStringString {
				if _, err := cols[li+1].WriteRowValues(vals); err != nil {
					return fmt.Errorf("column %s: %w", c.Name, err)
				}
			}
		case c.Strings != nil:
			// The strings stay in sc.cstrs until the next chunk: they are
			// the source's (enrich's tables and caches), not the records'.
			strs, ok := chunkOf(&sc.cstrs, len(part)), chunkOf(&sc.ok, len(part))
			c.Strings(part, strs, ok)
			vals = grow(vals, len(part))
			ok = ok[:len(strs)]
			for i, s := range strs {
				if ok[i] {
					vals[i] = pqvalue.String(s)
					vals[i].SetDefinitionLevel(1)
				} else {
					vals[i] = parquet.Value{}
				}
			}
		case c.Ints != nil:
			ints, ok := chunkOf(&sc.ints, len(part)), chunkOf(&sc.ok, len(part))
			c.Ints(part, ints, ok)
			vals = grow(vals, len(part))
			ok = ok[:len(ints)]
			int32s := c.Type == TypeInt
			for i, v := range ints {
				switch {
				case !ok[i]:
					vals[i] = parquet.Value{}
					continue
				case int32s:
					vals[i] = parquet.Int32Value(int32(v))
				default:
					vals[i] = parquet.Int64Value(v)
				}
				vals[i].SetDefinitionLevel(1)
			}
		case c.Str != nil:
			vals = grow(vals, len(part))
			for i, k := range part {
				if s, ok := c.Str(&recs[k], int(k)); ok {
					vals[i] = pqvalue.String(s)
					vals[i].SetDefinitionLevel(1)
				} else {
					vals[i] = parquet.Value{}
				}
			}
		case c.AppendStr != nil || c.Addr != nil:
			appendStr := c.AppendStr
			if appendStr == nil {
				appendStr = func(dst []byte, r *flowlog.Record, i int) ([]byte, bool) {
					a, ok := c.Addr(r, i)
					if !ok {
						return dst, false
					}
					return appendAddr(dst, a), true
				}
			}
			// First append every string to the arena and note where each
			// ends (-1 for NULL), then slice: the arena may move while growing.
			arena, offs := sc.arena[:0], sc.offs[:0]
			for _, k := range part {
				var ok bool
				n := len(arena)
				if arena, ok = appendStr(arena, &recs[k], int(k)); !ok {
					arena = arena[:n]
					offs = append(offs, -1)
					continue
				}
				offs = append(offs, int32(len(arena)))
			}
			vals = grow(vals, len(part))
			prev := int32(0)
			for i, e := range offs {
				if e < 0 {
					vals[i] = parquet.Value{}
					continue
				}
				vals[i] = parquet.ByteArrayValue(arena[prev:e:e])
				vals[i].SetDefinitionLevel(1)
				prev = e
			}
			sc.arena, sc.offs = arena, offs
		case c.Int != nil && c.Type == TypeInt:
			vals = grow(vals, len(part))
			for i, k := range part {
				if v, ok := c.Int(&recs[k], int(k)); ok {
					vals[i] = parquet.Int32Value(int32(v))
					vals[i].SetDefinitionLevel(1)
				} else {
					vals[i] = parquet.Value{}
				}
			}
		case c.Int != nil:
			vals = grow(vals, len(part))
			for i, k := range part {
				if v, ok := c.Int(&recs[k], int(k)); ok {
					vals[i] = parquet.Int64Value(v)
					vals[i].SetDefinitionLevel(1)
				} else {
					vals[i] = parquet.Value{}
				}
			}
		case c.Lists != nil:
			lists, ok := chunkOf(&sc.lists, len(part)), chunkOf(&sc.ok, len(part))
			c.Lists(part, lists, ok)
			ok = ok[:len(lists)]
			for i, strs := range lists {
				vals = refList(vals, strs, ok[i], li)
			}
		case c.List != nil:
			for _, k := range part {
				strs, ok := c.List(sc.strs[:0], &recs[k], int(k))
				sc.strs = strs
				vals = refList(vals, strs, ok, li)
			}
		case c.Map != nil, c.Maps != nil:
			vals2 := sc.vals2[:0]
			if c.Map != nil {
				for _, k := range part {
					kvs, ok := c.Map(sc.kvs[:0], &recs[k], int(k))
					sc.kvs = kvs
					vals, vals2 = refMap(vals, vals2, kvs, ok, li)
				}
			} else {
				maps, ok := chunkOf(&sc.maps, len(part)), chunkOf(&sc.ok, len(part))
				c.Maps(part, maps, ok)
				for i, m := range maps {
					kvs := sc.kvs[:0]
					for k, v := range m {
						kvs = append(kvs, KV{k, v})
					}
					slices.SortFunc(kvs, func(a, b KV) int { return strings.Compare(a.Key, b.Key) })
					sc.kvs = kvs
					vals, vals2 = refMap(vals, vals2, kvs, ok[i], li)
				}
				clear(maps)
			}
			if _, err := cols[li+1].WriteRowValues(vals2); err != nil {
				return fmt.Errorf("column %s: %w", c.Name, err)
			}
			clear(vals2)
			sc.vals2 = vals2[:0]
		}
		if _, err := cw.WriteRowValues(vals); err != nil {
			return fmt.Errorf("column %s: %w", c.Name, err)
		}
		clear(vals) // drop references to record strings
		sc.vals = vals[:0]
	}
	return nil
}

// refList appends the levelled values of one row of a list column (leaf
// column li): definition level 0 is NULL, 1 an empty array, 2 an element;
// repetition level 0 starts a row, 1 continues it.
func refList(vals []parquet.Value, strs []string, ok bool, li int) []parquet.Value {
	switch {
	case !ok:
		return append(vals, parquet.NullValue().Level(0, 0, li))
	case len(strs) == 0:
		return append(vals, parquet.NullValue().Level(0, 1, li))
	}
	for j, s := range strs {
		vals = append(vals, pqvalue.String(s).Level(min(j, 1), 2, li))
	}
	return vals
}

// refMap appends the levelled keys (leaf column li) and values (li+1) of
// one row of a map column, with the levels of refList.
func refMap(keys, vals []parquet.Value, kvs []KV, ok bool, li int) ([]parquet.Value, []parquet.Value) {
	switch {
	case !ok:
		return append(keys, parquet.NullValue().Level(0, 0, li)), append(vals, parquet.NullValue().Level(0, 0, li+1))
	case len(kvs) == 0:
		return append(keys, parquet.NullValue().Level(0, 1, li)), append(vals, parquet.NullValue().Level(0, 1, li+1))
	}
	for j, kv := range kvs {
		keys = append(keys, pqvalue.String(kv.Key).Level(min(j, 1), 2, li))
		vals = append(vals, pqvalue.String(kv.Value).Level(min(j, 1), 2, li+1))
	}
	return keys, vals
}

// grow returns vals resliced to n values, reallocated if too small.
func grow(vals []parquet.Value, n int) []parquet.Value {
	if cap(vals) < n {
		return make([]parquet.Value, n)
	}
	return vals[:n]
}
