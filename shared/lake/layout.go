package lake

import (
	"github.com/parquet-go/parquet-go"
)

// Layout is the Parquet layout of a lake object written from rows rather
// than records (the compactor's, package compact): its schema, the columns
// it holds, and the writer options every object of the lake is written
// with (codec, column-index bounds, no page-header statistics), so that a
// rewritten object is laid out, and read back, as an ingested one.
type Layout struct {
	// Schema is the object's Parquet schema: the kept columns in the
	// table's order, each optional with the lake's encoding, then the
	// extra leaf columns.
	Schema *parquet.Schema
	// Columns are the kept columns of the table, in order.
	Columns []Column
	// Options are the writer options of every lake object, the schema
	// among them. Options given after them override them.
	Options []parquet.WriterOption
}

// ExtraColumn is a leaf column of an object that is not a column of the
// table (Athena and DuckDB's view read only the table's columns, by name).
type ExtraColumn struct {
	Name string
	Node parquet.Node
}

// Layout returns the layout of an object that holds the columns of s that
// keep accepts (in the schema's order), then the extra columns.
func (s *Schema) Layout(keep func(c *Column) bool, extra ...ExtraColumn) Layout {
	return s.LayoutEncoded(keep, nil, extra...)
}

// LayoutEncoded is Layout with the encoding of some columns changed: the
// encoding encoded returns for a column, when it returns true (an object
// rewritten in another row order, such as the compactor's, may encode a
// column better another way). Readers need not know: an encoding is the
// object's own.
func (s *Schema) LayoutEncoded(keep func(c *Column) bool, encoded func(c *Column) (Encoding, bool), extra ...ExtraColumn) Layout {
	var l Layout
	g := orderedGroup{Group: parquet.Group{}}
	for i := range s.cols {
		c := &s.cols[i]
		if !keep(c) {
			continue
		}
		l.Columns = append(l.Columns, *c)
		n := nodeOf(c)
		if encoded != nil {
			if e, ok := encoded(c); ok && e != c.Encoding {
				cc := *c
				cc.Encoding = e
				n = nodeOf(&cc)
			}
		}
		g.Group[c.Name] = n
		g.fields = append(g.fields, namedField{Node: n, name: c.Name})
	}
	for _, e := range extra {
		g.Group[e.Name] = e.Node
		g.fields = append(g.fields, namedField{Node: e.Node, name: e.Name})
	}
	l.Schema = parquet.NewSchema("flows", g)
	l.Options = append(writerOptions(), l.Schema)
	return l
}

// Node returns the Parquet node of the column as every object of the lake
// writes it: optional, with the column's encoding.
func (c *Column) Node() parquet.Node { return nodeOf(c) }
