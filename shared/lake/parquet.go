package lake

import (
	"reflect"

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
	case TypeArrayString:
		return parquet.Optional(parquet.List(parquet.String()))
	case TypeMapStringString:
		return parquet.Optional(parquet.Map(parquet.String(), parquet.String()))
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

// parquetSchema returns the Parquet schema of s, columns in order.
func (s *Schema) parquetSchema() *parquet.Schema {
	g := orderedGroup{Group: parquet.Group{}}
	for i := range s.cols {
		c := &s.cols[i]
		n := nodeOf(c)
		g.Group[c.Name] = n
		g.fields = append(g.fields, namedField{Node: n, name: c.Name})
	}
	return parquet.NewSchema("flows", g)
}

// compression is the codec of every column: zstd at its fastest level,
// which keeps most of the ratio of the default level at a fraction of the
// CPU.
var compression = &zstd.Codec{Level: zstd.SpeedFastest}
