package lake

import (
	"bytes"
	"fmt"
	"reflect"

	"github.com/flowlake/flowlake/shared/flowlog"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// orderedGroup is a parquet group whose fields keep the schema's order
// (parquet.Group sorts them by name).
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }

type namedField struct {
	parquet.Node
	name string
}

func (f namedField) Name() string { return f.name }

// Value is part of parquet.Field; rows are never built by reflection here.
func (f namedField) Value(base reflect.Value) reflect.Value { return reflect.Value{} }

// nodeOf returns the Parquet node of a column: always optional, so that a
// field a record does not carry is NULL.
func nodeOf(c *Column) parquet.Node {
	var n parquet.Node
	switch c.Type {
	case TypeString:
		n = parquet.String()
	case TypeInt:
		n = parquet.Int(32)
	case TypeBigInt:
		n = parquet.Int(64)
	case TypeTimestamp:
		n = parquet.TimestampAdjusted(parquet.Millisecond, false)
	case TypeArrayString, TypeMapStringString:
		// Lists and maps of a few distinct strings (flag names, security
		// groups, tags) take dictionary-encoded elements with EncodingDict.
		elem := func() parquet.Node {
			if c.Encoding == EncodingDict {
				return parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
			}
			return parquet.String()
		}
		if c.Type == TypeArrayString {
			return parquet.Optional(parquet.List(elem()))
		}
		return parquet.Optional(parquet.Map(elem(), elem()))
	}
	switch c.Encoding {
	case EncodingDict:
		n = parquet.Encoded(n, &parquet.RLEDictionary)
	case EncodingDelta:
		n = parquet.Encoded(n, &parquet.DeltaBinaryPacked)
	}
	return parquet.Optional(n)
}

// leaves returns the number of Parquet leaf columns of a column.
func (c *Column) leaves() int {
	if c.Type == TypeMapStringString {
		return 2
	}
	return 1
}

// fileSchema is the layout of one Parquet object: the schema's columns
// that the object's input can fill. A column derived from a flow-log field
// that no format of the input carries is left out of the file; Athena and
// DuckDB (union_by_name) read a column missing from a file as NULL, and
// leaving it out saves encoding a NULL per row.
type fileSchema struct {
	fields flowlog.FieldSet // the fields the input's formats carry
	cols   []*Column
	pq     *parquet.Schema
	opts   []parquet.WriterOption
	// meta is the footer of an empty object of the layout, as parquet-go
	// writes it: its schema elements, column orders and creator are every
	// object's (fileWriter adds the row groups).
	meta format.FileMetaData
}

// fileSchema returns the layout of an object whose input carries fields.
func (s *Schema) fileSchema(fields flowlog.FieldSet) *fileSchema {
	fs := &fileSchema{fields: fields, opts: writerOptions()}
	g := orderedGroup{Group: parquet.Group{}}
	for i := range s.cols {
		c := &s.cols[i]
		if c.Field != 0 && !fields.Has(c.Field) {
			continue
		}
		fs.cols = append(fs.cols, c)
		n := nodeOf(c)
		g.Group[c.Name] = n
		g.fields = append(g.fields, namedField{Node: n, name: c.Name})
	}
	fs.pq = parquet.NewSchema("flows", g)
	fs.opts = append(fs.opts, fs.pq)
	fs.meta = emptyFooter(fs.opts)
	return fs
}

// emptyFooter returns the footer parquet-go writes for an object of no
// rows with opts.
func emptyFooter(opts []parquet.WriterOption) format.FileMetaData {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, opts...)
	if err := w.Close(); err != nil {
		panic(fmt.Sprintf("lake: empty parquet object: %v", err)) // a schema of known types cannot fail
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		panic(fmt.Sprintf("lake: empty parquet object: %v", err))
	}
	md := *f.Metadata()
	md.RowGroups, md.NumRows = nil, 0
	return md
}

// writerOptions returns parquet-go's writer options of every object, but
// its schema: fileSchema takes the footer of an empty object written with
// them (schema elements, column orders, creator), and the tests' reference
// writer (refWriter) writes with them. fileWriter makes the same choices:
// the codec, version 1 data pages, no bounds in page headers, exact bounds
// in the column index and chunk statistics.
func writerOptions() []parquet.WriterOption {
	// Every leaf column, strings and list and map elements included, writes
	// the true bounds of each page in the column index and of each chunk in
	// its statistics. Athena (Trino) skips the pages and row groups whose
	// bounds cannot match a filter (parquet.use-column-index, on by
	// default), so a page that holds values must never carry made-up bounds:
	// parquet.SkipPageBounds would still write index entries, with
	// min = max = "", and Athena would silently skip every page of
	// action = 'REJECT'. DuckDB ignores the page index, so only the page
	// index tests (pageindex_test.go) can tell. The bounds cost parquet-go
	// a lookup and a comparison per string value (about 15% more CPU in
	// the encoding, 5-8% in a whole conversion, measured 2026-12-01), the
	// price of every page and row group Athena can skip; parquet-go v0.32.0
	// has no cheaper valid option (no way to leave a column's index out).
	return []parquet.WriterOption{
		parquet.Compression(compression),
		parquet.CreatedBy("flowlake", "", ""),
		// Page-header statistics are deprecated (the column index and the
		// chunk statistics hold the same bounds) and cost a second pass.
		parquet.DataPageStatistics(false),
		// Version 1 data pages compress each page whole, levels included
		// (version 2 leaves the levels uncompressed): 5% smaller objects at
		// the same CPU (flowlake bench, 2,000,000 rich records unenriched:
		// 33.2 MiB against 35.1, DuckDB 30.6; 2026-12-02).
		parquet.DataPageVersion(1),
		parquet.ColumnIndexSizeLimit(func([]string) int { return columnIndexSizeLimit }),
	}
}

// columnIndexSizeLimit is the longest string bound written to a column
// index. parquet-go cuts a longer bound (by default at 16 bytes): a cut min
// is still a lower bound, and a cut max is incremented to stay an upper
// bound, except when the bytes it keeps are all 0xFF, which it cannot
// increment: it keeps them, and they sort before the value they stand for
// (TestPageIndexLongStrings). A record's strings are shorter than its line
// (flowlog.MaxLineBytes), and the enrichment's are short UTF-8, which never
// holds 0xFF, so no bound is cut wrongly: bounds are exact, which also
// prunes long ids (21-byte ENI ids, ARNs) better than 16-byte prefixes;
// the column index of a row group of the enriched rich format is about
// 8 KiB.
const columnIndexSizeLimit = flowlog.MaxLineBytes

// compression is the codec of every column: zstd at its fastest level,
// which keeps most of the ratio of the default level at a fraction of the
// CPU.
var compression = &zstd.Codec{Level: zstd.SpeedFastest}
