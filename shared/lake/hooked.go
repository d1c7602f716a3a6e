package lake

import (
	"fmt"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// Hooked columns are computed for each group of records by Converter.Hook
// instead of being read from a record: enrichment provides its columns this
// way (enrich.Column, read through an *enrich.ColumnReader). The lake knows
// nothing of what they hold: it takes each column's name, type, doc and
// dependency from a ColumnDef, and reads its values from a ChunkSource a
// chunk of rows at a time, one call per column and chunk.

// ColumnDef defines a column that another package computes. enrich.Column
// implements it.
type ColumnDef interface {
	Name() string
	// Type is the Athena spelling of the type (see Type.String): string,
	// bigint, array<string>, map<string,string>, ...
	Type() string
	Doc() string
	// DependsOn is the flow-log field without which the column is always
	// NULL (see Column.Field), or 0.
	DependsOn() flowlog.Field
}

// ChunkSource provides the values of hooked columns for the group of
// records the converter's Hook last saw, a chunk of rows per call: for each
// i, it sets dst[i] to column c's value for row rows[i] of the group (the
// index the hook's slice of records has) and ok[i] to false for NULL. dst
// and ok have len(rows) elements. Only the method of c's type is called:
// Strings for string, Ints for int and bigint, Lists for array<string>
// (true with no elements is an empty array), Maps for map<string,string>
// (written in key order). Calls for one column never overlap; calls for
// different columns may run concurrently. *enrich.ColumnReader implements
// ChunkSource[enrich.Column].
type ChunkSource[C ColumnDef] interface {
	Strings(c C, rows []int32, dst []string, ok []bool)
	Ints(c C, rows []int32, dst []int64, ok []bool)
	Lists(c C, rows []int32, dst [][]string, ok []bool)
	Maps(c C, rows []int32, dst []map[string]string, ok []bool)
}

// HookedColumns returns the columns of defs, in order, whose values src
// provides once the hook has run for a group. A nil src gives columns that
// are always NULL, for a table definition (TableSchema). String, list and
// map columns are dictionary-encoded, as computed values (names, classes,
// ids) repeat; integers are plain.
func HookedColumns[C ColumnDef](src ChunkSource[C], defs ...C) ([]Column, error) {
	cols := make([]Column, 0, len(defs))
	for _, d := range defs {
		t, err := ParseType(d.Type())
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", d.Name(), err)
		}
		col := Column{Name: d.Name(), Type: t, Doc: d.Doc(), Field: d.DependsOn(), Hooked: src != nil}
		switch t {
		case TypeString, TypeArrayString, TypeMapStringString:
			col.Encoding = EncodingDict
		}
		if src == nil {
			col.setNull()
		} else {
			setChunks(&col, src, d)
		}
		cols = append(cols, col)
	}
	return cols, nil
}

// setChunks sets the chunk accessor of col's type to read d from src.
func setChunks[C ColumnDef](col *Column, src ChunkSource[C], d C) {
	switch col.Type {
	case TypeString:
		col.Strings = func(rows []int32, dst []string, ok []bool) { src.Strings(d, rows, dst, ok) }
	case TypeInt, TypeBigInt, TypeTimestamp:
		col.Ints = func(rows []int32, dst []int64, ok []bool) { src.Ints(d, rows, dst, ok) }
	case TypeArrayString:
		col.Lists = func(rows []int32, dst [][]string, ok []bool) { src.Lists(d, rows, dst, ok) }
	case TypeMapStringString:
		col.Maps = func(rows []int32, dst []map[string]string, ok []bool) { src.Maps(d, rows, dst, ok) }
	}
}

// setNull sets the chunk accessor of c's type to read NULL for every row.
func (c *Column) setNull() {
	switch c.Type {
	case TypeString:
		c.Strings = func(_ []int32, _ []string, ok []bool) { clear(ok) }
	case TypeInt, TypeBigInt, TypeTimestamp:
		c.Ints = func(_ []int32, _ []int64, ok []bool) { clear(ok) }
	case TypeArrayString:
		c.Lists = func(_ []int32, _ [][]string, ok []bool) { clear(ok) }
	case TypeMapStringString:
		c.Maps = func(_ []int32, _ []map[string]string, ok []bool) { clear(ok) }
	}
}
