package lake

import (
	"reflect"

	"github.com/flowlake/flowlake/shared/flowlog"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
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
}

// fileSchema returns the layout of an object whose input carries fields.
func (s *Schema) fileSchema(fields flowlog.FieldSet) *fileSchema {
	fs := &fileSchema{fields: fields}
	g := orderedGroup{Group: parquet.Group{}}
	fs.opts = []parquet.WriterOption{
		parquet.Compression(compression),
		parquet.CreatedBy("flowlake", "", ""),
		// Page-header statistics are deprecated (the column index and the
		// chunk statistics hold the same bounds) and cost a second pass.
		parquet.DataPageStatistics(false),
	}
	for i := range s.cols {
		c := &s.cols[i]
		if c.Field != 0 && !fields.Has(c.Field) {
			continue
		}
		fs.cols = append(fs.cols, c)
		n := nodeOf(c)
		g.Group[c.Name] = n
		g.fields = append(g.fields, namedField{Node: n, name: c.Name})
		// Min/max of strings cost a comparison per value and rarely prune
		// anything; integers and times keep them.
		// A list's or map's bounds are its leaves'.
		switch c.Type {
		case TypeInt, TypeBigInt, TypeTimestamp:
		case TypeArrayString:
			fs.opts = append(fs.opts, parquet.SkipPageBounds(c.Name, "list", "element"))
		case TypeMapStringString:
			fs.opts = append(fs.opts, parquet.SkipPageBounds(c.Name, "key_value", "key"),
				parquet.SkipPageBounds(c.Name, "key_value", "value"))
		default:
			fs.opts = append(fs.opts, parquet.SkipPageBounds(c.Name))
		}
	}
	fs.pq = parquet.NewSchema("flows", g)
	fs.opts = append(fs.opts, fs.pq)
	return fs
}

// compression is the codec of every column: zstd at its fastest level,
// which keeps most of the ratio of the default level at a fraction of the
// CPU.
var compression = &zstd.Codec{Level: zstd.SpeedFastest}
