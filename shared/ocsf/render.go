package ocsf

import (
	"strings"

	"github.com/flowlake/flowlake/shared/lake"
)

// Column is a column of the view with its types: Hive's, as the Glue
// table's storage descriptor spells them (struct<ip:string,...>), and
// Trino's, as the Presto view definition spells them (row("ip" varchar,
// ...)).
type Column struct {
	Name  string
	Hive  string
	Trino string
}

// View is the view as Athena has it: its name, the SELECT of its
// definition in Trino's dialect over the table lake.TableName, and its
// columns.
type View struct {
	Name    string
	SQL     string
	Columns []Column
}

// AthenaView returns the view for Athena (a Glue view, or CREATE VIEW
// flows_ocsf AS View.SQL).
func AthenaView() View {
	fs := Fields()
	v := View{Name: ViewName, SQL: selectSQL(fs, trino)}
	for _, f := range fs {
		v.Columns = append(v.Columns, Column{Name: f.Name, Hive: f.HiveType(), Trino: f.TrinoType()})
	}
	return v
}

// DuckDBViewSQL returns the CREATE VIEW statement of the view in DuckDB,
// over the view lake.TableName that lakesql creates.
func DuckDBViewSQL() string {
	return "CREATE OR REPLACE VIEW " + ident(ViewName) + " AS " + selectSQL(Fields(), duck)
}

// dialect is how one engine spells types, objects and maps.
type dialect struct {
	scalar map[Kind]string
	array  func(elem string) string
	mapOf  func(k, v string) string
	row    func(names, types []string) string
	// object builds an object of type typ from its fields' names and
	// values.
	object func(typ string, names, vals []string) string
	// dict builds a map of varchar from entries, leaving out NULL values.
	dict func(keys, vals []string) string
}

var trino = dialect{
	scalar: map[Kind]string{KindString: "varchar", KindInt: "integer", KindBigInt: "bigint", KindTimestamp: "timestamp(3)"},
	array:  func(e string) string { return "array(" + e + ")" },
	mapOf:  func(k, v string) string { return "map(" + k + ", " + v + ")" },
	row: func(names, types []string) string {
		parts := make([]string, len(names))
		for i := range names {
			parts[i] = ident(names[i]) + " " + types[i]
		}
		return "row(" + strings.Join(parts, ", ") + ")"
	},
	object: func(typ string, _, vals []string) string {
		return "CAST(ROW(" + strings.Join(vals, ", ") + ") AS " + typ + ")"
	},
	dict: func(keys, vals []string) string {
		return "map_filter(MAP(ARRAY[" + strings.Join(keys, ", ") + "], ARRAY[" + strings.Join(vals, ", ") + "]), (k, v) -> v IS NOT NULL)"
	},
}

var duck = dialect{
	scalar: map[Kind]string{KindString: "VARCHAR", KindInt: "INTEGER", KindBigInt: "BIGINT", KindTimestamp: "TIMESTAMP"},
	array:  func(e string) string { return e + "[]" },
	mapOf:  func(k, v string) string { return "MAP(" + k + ", " + v + ")" },
	row: func(names, types []string) string {
		parts := make([]string, len(names))
		for i := range names {
			parts[i] = ident(names[i]) + " " + types[i]
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	},
	object: func(_ string, names, vals []string) string {
		parts := make([]string, len(names))
		for i := range names {
			parts[i] = ident(names[i]) + " := " + vals[i]
		}
		return "struct_pack(" + strings.Join(parts, ", ") + ")"
	},
	dict: func(keys, vals []string) string {
		parts := make([]string, len(keys))
		for i := range keys {
			parts[i] = "struct_pack(k := " + keys[i] + ", v := " + vals[i] + ")"
		}
		return "map_from_entries(list_filter([" + strings.Join(parts, ", ") + "], lambda e: e.v IS NOT NULL))"
	},
}

// typ returns the field's type in the dialect.
func (d dialect) typ(f Field) string {
	switch f.Kind {
	case KindStringArray:
		return d.array(d.scalar[KindString])
	case KindStringMap:
		return d.mapOf(d.scalar[KindString], d.scalar[KindString])
	case KindObject:
		names := make([]string, len(f.Fields))
		types := make([]string, len(f.Fields))
		for i, c := range f.Fields {
			names[i], types[i] = c.Name, d.typ(c)
		}
		return d.row(names, types)
	}
	return d.scalar[f.Kind]
}

// expr returns the field's value in the dialect, of the field's type.
func (d dialect) expr(f Field) string {
	switch f.Kind {
	case KindObject:
		names := make([]string, len(f.Fields))
		vals := make([]string, len(f.Fields))
		for i, c := range f.Fields {
			names[i], vals[i] = c.Name, d.expr(c)
		}
		return d.object(d.typ(f), names, vals)
	case KindStringMap:
		keys := make([]string, len(f.Entries))
		vals := make([]string, len(f.Entries))
		for i, e := range f.Entries {
			keys[i], vals[i] = literal(e.Key), "CAST("+e.SQL+" AS "+d.scalar[KindString]+")"
		}
		return "CAST(" + d.dict(keys, vals) + " AS " + d.typ(f) + ")"
	}
	return "CAST(" + f.SQL + " AS " + d.typ(f) + ")"
}

// TrinoType returns the field's type as Trino spells it.
func (f Field) TrinoType() string { return trino.typ(f) }

// DuckDBType returns the field's type as DuckDB spells it.
func (f Field) DuckDBType() string { return duck.typ(f) }

// HiveType returns the field's type as Hive (and Glue) spells it.
func (f Field) HiveType() string {
	switch f.Kind {
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindBigInt:
		return "bigint"
	case KindTimestamp:
		return "timestamp"
	case KindStringArray:
		return "array<string>"
	case KindStringMap:
		return "map<string,string>"
	}
	parts := make([]string, len(f.Fields))
	for i, c := range f.Fields {
		parts[i] = c.Name + ":" + c.HiveType()
	}
	return "struct<" + strings.Join(parts, ",") + ">"
}

func selectSQL(fs []Field, d dialect) string {
	var b strings.Builder
	b.WriteString("SELECT\n")
	for i, f := range fs {
		b.WriteString("  " + d.expr(f) + " AS " + ident(f.Name))
		if i < len(fs)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("FROM " + ident(lake.TableName))
	return b.String()
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
