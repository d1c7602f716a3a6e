package compact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/flowlake/flowlake/shared/lake"
)

// SourceColumn is the column of a compacted object that names, in each
// row, the ingest object the row came from (its name in the
// partition-hour's folder). It is not a column of the table: Athena and
// DuckDB's view read columns by name and never see it. It is what lets an
// ingest object written again after compaction (a redelivery) replace its
// rows instead of adding them again.
const SourceColumn = "_flowlake_source"

// Sort order of a compacted object: by network interface, then by start,
// so that the min/max bounds of row groups and pages prune by either.
var sortKeys = []string{"interface_id", "start"}

// ErrSchema is returned for an input object whose columns the compactor
// cannot carry over unchanged: one the table does not have, or of another
// type. The partition-hour is left as it is.
var ErrSchema = errors.New("object column not in the table")

// input is one object a generation reads.
type input struct {
	obj       Object
	name      string // in the partition-hour's folder
	compacted bool
	path      string // a local file
	done      func()
	schema    *parquet.Schema
	rows      int64
}

// openFile opens a local Parquet file.
func openFile(path string) (*parquet.File, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	pf, err := parquet.OpenFile(f, fi.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return pf, f, nil
}

// union returns the layout of a generation's objects: the table's columns
// that some input has, in the table's order, then SourceColumn. It fails
// with ErrSchema for a column the table does not have.
func union(table *lake.Schema, inputs []*input) (lake.Layout, error) {
	have := map[string]bool{}
	known := map[string]bool{SourceColumn: true}
	for _, c := range table.Columns() {
		known[c.Name] = true
	}
	for _, in := range inputs {
		for _, f := range in.schema.Fields() {
			if !known[f.Name()] {
				return lake.Layout{}, fmt.Errorf("%s: column %q: %w", in.name, f.Name(), ErrSchema)
			}
			have[f.Name()] = true
		}
	}
	return table.LayoutEncoded(func(c *lake.Column) bool { return have[c.Name] },
		func(c *lake.Column) (lake.Encoding, bool) { e, ok := encodings[c.Name]; return e, ok },
		lake.ExtraColumn{Name: SourceColumn, Node: parquet.Optional(parquet.Encoded(parquet.String(), &parquet.RLEDictionary))}), nil
}

// encodings are the columns a compacted object encodes otherwise than an
// ingested one, chosen by measurement (TestNoLargerThanDuckDB's lakes):
// sorted by interface, a column's values repeat more.
var encodings = map[string]lake.Encoding{
	"packets": lake.EncodingDict,
}

// merger rewrites the inputs of one generation into its objects.
type merger struct {
	c       *Compactor
	layout  lake.Layout
	srcCol  int // leaf index of SourceColumn: the last
	sorting []parquet.SortingColumn
	cmp     func(a, b parquet.Row) int
	// replaced are ingest object names whose rows in the compacted
	// inputs are dropped: they were written again, and their new rows
	// come from the fresh inputs.
	replaced map[string]bool
	read     int64 // rows read (kept)
	closers  []io.Closer
	runs     []parquet.RowReader
	temp     []string
}

func newMerger(c *Compactor, layout lake.Layout, replaced map[string]bool) *merger {
	m := &merger{c: c, layout: layout, replaced: replaced, srcCol: len(layout.Schema.Columns()) - 1}
	for _, k := range sortKeys {
		if _, ok := layout.Schema.Lookup(k); ok {
			m.sorting = append(m.sorting, parquet.Ascending(k))
		}
	}
	m.cmp = layout.Schema.Comparator(m.sorting...)
	return m
}

func (m *merger) close() {
	for _, c := range m.closers {
		c.Close()
	}
	for _, p := range m.temp {
		os.Remove(p)
	}
	m.closers, m.temp, m.runs = nil, nil, nil
}

// addCompacted adds a compacted input: its rows are sorted already, so it
// is a run of the merge as it is, less the rows of replaced sources.
func (m *merger) addCompacted(in *input) error {
	pf, f, err := openFile(in.path)
	if err != nil {
		return fmt.Errorf("read %s: %w", in.name, err)
	}
	m.closers = append(m.closers, f)
	conv, err := parquet.Convert(m.layout.Schema, pf.Schema())
	if err != nil {
		return fmt.Errorf("read %s: %w: %w", in.name, ErrSchema, err)
	}
	var rgs []parquet.RowReader
	for _, rg := range pf.RowGroups() {
		rows := parquet.ConvertRowGroup(rg, conv).Rows()
		m.closers = append(m.closers, rows)
		rgs = append(rgs, rows)
	}
	m.runs = append(m.runs, &filterRows{r: &concatRows{rs: rgs}, m: m})
	return nil
}

// sorter buffers fresh rows in memory (column by column, with the lake's
// dictionaries), sorts them, and spills a sorted run to a temporary file
// when the buffer reaches the compactor's SortBytes.
type sorter struct {
	m   *merger
	buf *parquet.Buffer
}

func (m *merger) newSorter() *sorter {
	return &sorter{m: m, buf: parquet.NewBuffer(m.layout.Schema, parquet.SortingRowGroupConfig(parquet.SortingColumns(m.sorting...)))}
}

// add reads a fresh input into the buffer, each row tagged with its name.
func (s *sorter) add(ctx context.Context, in *input) error {
	pf, f, err := openFile(in.path)
	if err != nil {
		return fmt.Errorf("read %s: %w", in.name, err)
	}
	defer f.Close()
	conv, err := parquet.Convert(s.m.layout.Schema, pf.Schema())
	if err != nil {
		return fmt.Errorf("read %s: %w: %w", in.name, ErrSchema, err)
	}
	tag := parquet.ByteArrayValue([]byte(in.name)).Level(0, 1, s.m.srcCol)
	batch := make([]parquet.Row, 256)
	for _, rg := range pf.RowGroups() {
		rows := parquet.ConvertRowGroup(rg, conv).Rows()
		for {
			n, err := rows.ReadRows(batch)
			for i := range batch[:n] {
				// The conversion fills SourceColumn with a NULL, last.
				r := batch[i]
				if len(r) == 0 || r[len(r)-1].Column() != s.m.srcCol {
					rows.Close()
					return fmt.Errorf("read %s: row %d has no %s", in.name, i, SourceColumn)
				}
				r[len(r)-1] = tag
			}
			if n > 0 {
				if _, werr := s.buf.WriteRows(batch[:n]); werr != nil {
					rows.Close()
					return fmt.Errorf("read %s: %w", in.name, werr)
				}
				s.m.read += int64(n)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				rows.Close()
				return fmt.Errorf("read %s: %w", in.name, err)
			}
		}
		rows.Close()
		if s.buf.Size() >= s.m.c.sortBytes() {
			if err := s.spill(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// spill sorts the buffer and writes it to a temporary file, a run of the
// merge.
func (s *sorter) spill(ctx context.Context) error {
	if s.buf.NumRows() == 0 {
		return nil
	}
	sort.Stable(s.buf)
	f, err := os.CreateTemp(s.m.c.TempDir, "flowlake-run-*.parquet")
	if err != nil {
		return fmt.Errorf("sort run: %w", err)
	}
	s.m.temp = append(s.m.temp, f.Name())
	opts := append(slices.Clone(s.m.layout.Options), parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.MaxRowsPerRowGroup(64<<10), parquet.PageBufferSize(256<<10))
	w := parquet.NewGenericWriter[any](f, opts...)
	rows := s.buf.Rows()
	_, err = parquet.CopyRows(w, rows)
	rows.Close()
	if err == nil {
		err = w.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sort run: %w", err)
	}
	s.buf.Reset()
	pf, rf, err := openFile(f.Name())
	if err != nil {
		return fmt.Errorf("sort run: %w", err)
	}
	m := s.m
	m.closers = append(m.closers, rf)
	var rgs []parquet.RowReader
	for _, rg := range pf.RowGroups() {
		r := rg.Rows()
		m.closers = append(m.closers, r)
		rgs = append(rgs, r)
	}
	m.runs = append(m.runs, &concatRows{rs: rgs})
	return ctx.Err()
}

// finish sorts what the buffer holds as the last run, in memory.
func (s *sorter) finish() {
	if s.buf.NumRows() == 0 {
		return
	}
	sort.Stable(s.buf)
	r := s.buf.Rows()
	s.m.closers = append(s.m.closers, r)
	s.m.runs = append(s.m.runs, r)
}

// rows returns the merged, sorted rows of every run.
func (m *merger) rows() parquet.RowReader {
	return parquet.MergeRowReaders(m.runs, m.cmp)
}

// concatRows reads row readers one after the other.
type concatRows struct{ rs []parquet.RowReader }

func (c *concatRows) ReadRows(rows []parquet.Row) (int, error) {
	for len(c.rs) > 0 {
		n, err := c.rs[0].ReadRows(rows)
		if err == io.EOF {
			c.rs = c.rs[1:]
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
	return 0, io.EOF
}

// filterRows drops the rows of a compacted input whose source was
// replaced, counting the rows it keeps.
type filterRows struct {
	r parquet.RowReader
	m *merger
}

func (f *filterRows) ReadRows(rows []parquet.Row) (int, error) {
	for {
		n, err := f.r.ReadRows(rows)
		k := 0
		for i := range rows[:n] {
			r := rows[i]
			if len(f.m.replaced) > 0 && len(r) > 0 && r[len(r)-1].Column() == f.m.srcCol &&
				f.m.replaced[string(r[len(r)-1].ByteArray())] {
				continue
			}
			rows[k], rows[i] = rows[i], rows[k]
			k++
		}
		f.m.read += int64(k)
		if k > 0 || err != nil {
			if err == io.EOF && k > 0 {
				err = nil // the next call returns EOF again
			}
			return k, err
		}
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// outputs writes the merged rows into a generation's objects: a new
// object whenever the next row group would take the current one past the
// target size.
type outputs struct {
	m       *merger
	dir     string // the partition-hour's folder key, ending in '/'
	gen     string
	written []Output
	sources map[string]int64
	rows    int64 // written, all objects

	obj     lake.Object
	cw      *countingWriter
	w       *parquet.GenericWriter[any]
	objRows int64
	rgRows  int
	flushed int64 // the object's size after its last row group
}

func (o *outputs) open(ctx context.Context) error {
	name := OutputName(o.gen, len(o.written))
	obj, err := o.m.c.Bucket.Create(ctx, o.dir+name)
	if err != nil {
		return err
	}
	o.obj, o.cw, o.objRows, o.rgRows, o.flushed = obj, &countingWriter{w: obj}, 0, 0, 0
	opts := append(slices.Clone(o.m.layout.Options), parquet.Compression(o.m.c.codec()),
		parquet.PageBufferSize(o.m.c.pageBytes()), parquet.SortingWriterConfig(parquet.SortingColumns(o.m.sorting...)),
		// Version 1 data pages compress each page whole, its levels with its
		// values (version 2 leaves the levels uncompressed): 7% smaller on
		// TestNoLargerThanDuckDB's lakes, as measured on 2026-12-02.
		parquet.DataPageVersion(1))
	if o.w == nil {
		o.w = parquet.NewGenericWriter[any](o.cw, opts...)
	} else {
		o.w.Reset(o.cw)
	}
	return nil
}

// write appends rows, which the merge returned in order.
func (o *outputs) write(ctx context.Context, rows []parquet.Row, commit func(Output) error) error {
	for len(rows) > 0 {
		if o.obj == nil {
			if err := o.open(ctx); err != nil {
				return err
			}
		}
		n := min(len(rows), o.m.c.rowGroupRows()-o.rgRows)
		for _, r := range rows[:n] {
			if len(r) > 0 && r[len(r)-1].Column() == o.m.srcCol {
				o.sources[string(r[len(r)-1].ByteArray())]++
			}
		}
		if _, err := o.w.WriteRows(rows[:n]); err != nil {
			return fmt.Errorf("write %s: %w", OutputName(o.gen, len(o.written)), err)
		}
		rows = rows[n:]
		o.rgRows += n
		o.objRows += int64(n)
		o.rows += int64(n)
		if o.rgRows == o.m.c.rowGroupRows() {
			if err := o.w.Flush(); err != nil {
				return fmt.Errorf("write %s: %w", OutputName(o.gen, len(o.written)), err)
			}
			o.rgRows = 0
			size := o.w.Size() // what is written, buffered or not
			lastRG := size - o.flushed
			o.flushed = size
			if size+lastRG > o.m.c.targetBytes() {
				if err := o.finish(commit); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// finish closes and commits the current object.
func (o *outputs) finish(commit func(Output) error) error {
	if o.obj == nil {
		return nil
	}
	name := OutputName(o.gen, len(o.written))
	obj := o.obj
	o.obj = nil
	if err := o.w.Close(); err != nil {
		obj.Abort()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := obj.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", name, err)
	}
	out := Output{Name: name, Rows: o.objRows, Bytes: o.cw.n}
	o.written = append(o.written, out)
	return commit(out)
}

// abort discards the object being written.
func (o *outputs) abort() {
	if o.obj != nil {
		o.obj.Abort()
		o.obj = nil
	}
}

// copyMerged writes every merged row to the outputs, calling commit after
// each object is committed.
func (o *outputs) copyMerged(ctx context.Context, r parquet.RowReader, commit func(Output) error) error {
	batch := make([]parquet.Row, 1024)
	for {
		n, err := r.ReadRows(batch)
		if n > 0 {
			if werr := o.write(ctx, batch[:n], commit); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return o.finish(commit)
		}
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// dirOf returns the folder of a key, ending in '/'.
func dirOf(key string) string { return key[:strings.LastIndexByte(key, '/')+1] }
