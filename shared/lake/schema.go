package lake

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// Type is the Athena (Hive DDL) type of a column. Each maps to one Parquet
// layout and one DuckDB type.
type Type uint8

// Column types.
const (
	TypeString          Type = iota + 1 // string: Parquet BYTE_ARRAY (UTF8)
	TypeInt                             // int: Parquet INT32
	TypeBigInt                          // bigint: Parquet INT64
	TypeTimestamp                       // timestamp: Parquet INT64 TIMESTAMP(MILLIS), UTC wall clock
	TypeArrayString                     // array<string>: Parquet LIST of UTF8
	TypeMapStringString                 // map<string,string>: Parquet MAP of UTF8 to UTF8
)

// String returns the Athena/Glue spelling of the type, such as "bigint".
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeBigInt:
		return "bigint"
	case TypeTimestamp:
		return "timestamp"
	case TypeArrayString:
		return "array<string>"
	case TypeMapStringString:
		return "map<string,string>"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ParseType returns the type of an Athena spelling, such as "bigint".
func ParseType(s string) (Type, error) {
	for t := TypeString; t <= TypeMapStringString; t++ {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown column type %q", s)
}

// DuckDB returns the DuckDB spelling of the type, such as "BIGINT".
func (t Type) DuckDB() string {
	switch t {
	case TypeString:
		return "VARCHAR"
	case TypeInt:
		return "INTEGER"
	case TypeBigInt:
		return "BIGINT"
	case TypeTimestamp:
		return "TIMESTAMP"
	case TypeArrayString:
		return "VARCHAR[]"
	case TypeMapStringString:
		return "MAP(VARCHAR, VARCHAR)"
	}
	return "VARCHAR"
}

// Encoding is the Parquet encoding of a column's values.
type Encoding uint8

// Encodings. The zero value is plain.
const (
	EncodingPlain Encoding = iota // PLAIN: high-cardinality numbers
	EncodingDict                  // RLE_DICTIONARY: ids, enums, addresses
	EncodingDelta                 // DELTA_BINARY_PACKED: times (integers only)
)

// KV is one entry of a map<string,string> value.
type KV struct{ Key, Value string }

// Column is one column of the table: its name and type as Athena sees them,
// a one-line doc (the Glue column comment), the Parquet encoding, and the
// accessor that reads its values.
//
// Exactly one accessor must be set, matching Type. A record accessor reads
// one row from its record: Str, AppendStr or Addr for TypeString, Int for
// TypeInt, TypeBigInt and TypeTimestamp (Unix milliseconds), List for
// TypeArrayString, Map for TypeMapStringString; it reports false for NULL.
// Besides the record, it gets the record's index in the group that
// Converter.Hook last saw. A chunk accessor (Strings, Ints, Lists, Maps)
// reads a chunk of rows of that group at once, for a column whose values
// the hook computes (see HookedColumns). Accessors are called from several
// goroutines at once, one column per goroutine, so they must not mutate
// state that another column's accessor reads.
type Column struct {
	Name     string
	Type     Type
	Doc      string
	Encoding Encoding
	// Field, when set, is the flow-log field the column is NULL without:
	// rows in which no record carries it are written as NULLs without
	// calling the accessor (most formats leave most fields out).
	Field flowlog.Field
	// Hooked says the accessors read what Converter.Hook computed for the
	// group: the column is encoded only after the hook has run, while the
	// other columns may be encoded during it.
	Hooked bool

	// Str returns a string the record already holds (no copy is made).
	Str func(r *flowlog.Record, i int) (string, bool)
	// AppendStr appends a string that must be built, such as an address.
	AppendStr func(dst []byte, r *flowlog.Record, i int) ([]byte, bool)
	// Addr returns an address, written as its text (appendAddr's). A
	// dictionary column keys its entries by the address itself, so that
	// a repeated address is looked up without being formatted.
	Addr func(r *flowlog.Record, i int) (netip.Addr, bool)
	// Int returns an integer; timestamps are Unix milliseconds.
	Int func(r *flowlog.Record, i int) (int64, bool)
	// List appends the elements to dst; false is NULL, true with no
	// elements is an empty array.
	List func(dst []string, r *flowlog.Record, i int) ([]string, bool)
	// Map appends the entries to dst, like List.
	Map func(dst []KV, r *flowlog.Record, i int) ([]KV, bool)

	// The chunk accessors set dst[i] to the value of row rows[i] of the
	// hook's group, and ok[i] to false for NULL, for each i; dst and ok
	// have len(rows) elements. Values are not copied. Lists and Maps
	// follow List and Map: true with no elements is empty; a map's entries
	// are written in key order.
	Strings func(rows []int32, dst []string, ok []bool)
	Ints    func(rows []int32, dst []int64, ok []bool)
	Lists   func(rows []int32, dst [][]string, ok []bool)
	Maps    func(rows []int32, dst []map[string]string, ok []bool)
}

// Partition keys: the Hive partition columns of every object key, in order.
// They differ from the data columns (account_id, region) on purpose: the
// partition is the flow log's owner and region, the columns are what each
// record says.
const (
	KeyAccount = "aws_account" // 12-digit account id, or "unknown"
	KeyRegion  = "aws_region"  // region code, or "unknown"
	KeyDay     = "day"         // yyyy-MM-dd (UTC) of the record's start
	KeyHour    = "hour"        // HH, 00–23 (UTC) of the record's start
)

// PartitionKeys returns the partition key names in path order.
func PartitionKeys() []string { return []string{KeyAccount, KeyRegion, KeyDay, KeyHour} }

// Schema is the ordered list of columns of the lake's table. Build it with
// NewSchema; the zero value is not usable.
type Schema struct {
	cols []Column
}

var columnName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// NewSchema checks the columns and returns the schema. Names must be lower
// case ([a-z][a-z0-9_]*), unique, and distinct from the partition keys; each
// column must have exactly the accessor its type needs.
func NewSchema(cols ...Column) (*Schema, error) {
	seen := make(map[string]bool, len(cols)+4)
	for _, k := range PartitionKeys() {
		seen[k] = true
	}
	for _, c := range cols {
		if !columnName.MatchString(c.Name) {
			return nil, fmt.Errorf("column %q: %w", c.Name, ErrColumnName)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("column %q: %w", c.Name, ErrDuplicateColumn)
		}
		seen[c.Name] = true
		if err := c.check(); err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
	}
	return &Schema{cols: append([]Column(nil), cols...)}, nil
}

// MustSchema is NewSchema that panics on error, for package-level values.
func MustSchema(cols ...Column) *Schema {
	s, err := NewSchema(cols...)
	if err != nil {
		panic(err)
	}
	return s
}

// Errors from NewSchema.
var (
	ErrColumnName      = errors.New("column name must match [a-z][a-z0-9_]*")
	ErrDuplicateColumn = errors.New("duplicate column or partition key name")
	ErrAccessor        = errors.New("column needs exactly the one accessor its type takes")
)

func (c *Column) check() error {
	n := 0
	for _, set := range []bool{c.Str != nil, c.AppendStr != nil, c.Addr != nil, c.Int != nil, c.List != nil, c.Map != nil,
		c.Strings != nil, c.Ints != nil, c.Lists != nil, c.Maps != nil} {
		if set {
			n++
		}
	}
	ok := n == 1
	switch c.Type {
	case TypeString:
		ok = ok && (c.Str != nil || c.AppendStr != nil || c.Addr != nil || c.Strings != nil)
	case TypeInt, TypeBigInt, TypeTimestamp:
		ok = ok && (c.Int != nil || c.Ints != nil)
	case TypeArrayString:
		ok = ok && (c.List != nil || c.Lists != nil)
	case TypeMapStringString:
		ok = ok && (c.Map != nil || c.Maps != nil)
	default:
		return fmt.Errorf("unknown type %v", c.Type)
	}
	if !ok {
		return ErrAccessor
	}
	if c.Encoding == EncodingDelta && c.Type != TypeInt && c.Type != TypeBigInt && c.Type != TypeTimestamp {
		return errors.New("delta encoding needs an integer column")
	}
	return nil
}

// Columns returns the columns in order. The slice is a copy.
func (s *Schema) Columns() []Column { return append([]Column(nil), s.cols...) }

// Len returns the number of columns.
func (s *Schema) Len() int { return len(s.cols) }

// Extend returns a new schema with cols appended, as the enrichment step
// does with its derived columns.
func (s *Schema) Extend(cols ...Column) (*Schema, error) {
	return NewSchema(append(s.Columns(), cols...)...)
}

// DefaultSchema is the schema of FlowColumns.
var DefaultSchema = MustSchema(FlowColumns()...)

// encodingOf is the deliberate encoding choice per flow-log field: ids,
// enums and addresses repeat a lot within a row group, so they use a
// dictionary; times grow slowly, so they use delta; so do bytes and
// srcport, whose delta pages are smaller than their plain pages after
// zstd and cost less to compress (2M bench records: 29,375,127 to
// 29,318,412 bytes, 3.7% fewer instructions); packets, dstport and the
// packets-lost counters are plain, which zstd shrinks further than delta
// (delta for packets and dstport would add 1.7 MB).
func encodingOf(f flowlog.Field) Encoding {
	switch f {
	case flowlog.FieldStart, flowlog.FieldEnd, flowlog.FieldBytes, flowlog.FieldSrcPort:
		return EncodingDelta
	case flowlog.FieldPackets, flowlog.FieldDstPort,
		flowlog.FieldPacketsLostNoRoute, flowlog.FieldPacketsLostBlackhole,
		flowlog.FieldPacketsLostMTUExceeded, flowlog.FieldPacketsLostTTLExpired:
		return EncodingPlain
	}
	return EncodingDict
}

// FlowColumns returns one column per flow-log field the reader knows, in the
// reader's field order, named as AWS's Athena DDL names them ('-' as '_')
// and typed as it types them: packets, bytes, start, end and the
// packets-lost counters are bigint; version, ports, protocol, tcp_flags,
// traffic_path and encryption_status are int; addresses and everything else
// are string. Then start_time and end_time, the UTC timestamps of start and
// end, and extra (ExtraFieldsColumn). A field a record does not carry (absent
// from its format, or '-') is NULL.
func FlowColumns() []Column {
	var cols []Column
	for _, f := range flowlog.Fields() {
		cols = append(cols, FieldColumn(f))
	}
	cols = append(cols,
		Column{
			Name: "start_time", Type: TypeTimestamp, Encoding: EncodingDelta, Field: flowlog.FieldStart,
			Doc: "start as a UTC timestamp",
			Int: func(r *flowlog.Record, _ int) (int64, bool) { return r.Start * 1000, r.Has(flowlog.FieldStart) },
		},
		Column{
			Name: "end_time", Type: TypeTimestamp, Encoding: EncodingDelta, Field: flowlog.FieldEnd,
			Doc: "end as a UTC timestamp",
			Int: func(r *flowlog.Record, _ int) (int64, bool) { return r.End * 1000, r.Has(flowlog.FieldEnd) },
		},
		ExtraFieldsColumn(),
	)
	return cols
}

// ExtraFieldsName is the name of ExtraFieldsColumn.
const ExtraFieldsName = "extra"

// ExtraFieldsColumn is the table's column that keeps the values of header columns the
// reader does not know (flowlog.Record.Extra), so that a field AWS adds
// later is never dropped: a map<string,string> of the header name, as
// written, to the value, as written; a '-' value is left out, and a record
// with none is NULL. A file whose formats have no such column leaves it
// out (Field is flowlog.FieldExtra). In SQL: extra['future-field']. (It
// is a column of the table, unlike an ExtraColumn of a Layout.)
func ExtraFieldsColumn() Column {
	return Column{
		Name: ExtraFieldsName, Type: TypeMapStringString, Encoding: EncodingDict, Field: flowlog.FieldExtra,
		Doc: "header columns of the file that no flow-log version flowlake knows defines: name to value, as written",
		Map: func(dst []KV, r *flowlog.Record, _ int) ([]KV, bool) {
			for k, v := range r.ExtraFields() {
				dst = append(dst, KV{k, v})
			}
			return dst, len(dst) > 0
		},
	}
}

// FieldColumn returns the column of one flow-log field.
func FieldColumn(f flowlog.Field) Column {
	c := Column{Name: f.Column(), Doc: f.Doc(), Encoding: encodingOf(f), Field: f}
	switch f.Kind() {
	case flowlog.KindString:
		c.Type = TypeString
		c.Str = func(r *flowlog.Record, _ int) (string, bool) {
			if !r.Has(f) {
				return "", false
			}
			return r.String(f), true
		}
	case flowlog.KindAction:
		c.Type = TypeString
		c.Str = func(r *flowlog.Record, _ int) (string, bool) { return r.Action.String(), r.Has(flowlog.FieldAction) }
	case flowlog.KindLogStatus:
		c.Type = TypeString
		c.Str = func(r *flowlog.Record, _ int) (string, bool) {
			return r.LogStatus.String(), r.Has(flowlog.FieldLogStatus)
		}
	case flowlog.KindAddr:
		c.Type = TypeString
		c.Addr = func(r *flowlog.Record, _ int) (netip.Addr, bool) { return r.Addr(f) }
	case flowlog.KindInt64:
		c.Type = TypeBigInt
		c.Int = func(r *flowlog.Record, _ int) (int64, bool) { return r.Int(f) }
	default: // int32, port, protocol
		c.Type = TypeInt
		c.Int = func(r *flowlog.Record, _ int) (int64, bool) { return r.Int(f) }
	}
	return c
}

func appendAddr(dst []byte, a netip.Addr) []byte {
	if a.Is4() {
		b := a.As4()
		for i, v := range b {
			if i > 0 {
				dst = append(dst, '.')
			}
			switch {
			case v >= 100:
				dst = append(dst, '0'+v/100, '0'+v/10%10, '0'+v%10)
			case v >= 10:
				dst = append(dst, '0'+v/10, '0'+v%10)
			default:
				dst = append(dst, '0'+v)
			}
		}
		return dst
	}
	return a.AppendTo(dst)
}
