package lake_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	parquetgo "github.com/parquet-go/parquet-go"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

// The lake's writer (fileWriter and its leafEncoders) is checked against
// parquet-go's: the same rows of every column type and encoding the lake
// uses, NULLs, empty lists and maps, repeated and extreme values included,
// are written by both; parquet-go reads both back, row by row, value by
// value, levels included, and arrow-go checks the lake writer's page
// index against the pages' values.

// cell is one row's value of one column of writerCase.
type cell struct {
	null bool
	s    string
	a    netip.Addr
	i    int64
	list []string
	kvs  []lake.KV
}

// writerCase is a table of rows, one cell per writerColumns column.
type writerCase struct {
	rows  [][]cell
	base  int // the first row of the group the hook last saw
	group []flowlog.Record
}

// strChoices are the strings a cell may hold: empty, short, repeated,
// 0xFF bytes (the largest in the column order), long.
var strChoices = []string{"", "a", "b", "ACCEPT", "REJECT", "eni-0123456789abcdef0", "\xff\xff", "\xff", "z",
	strings.Repeat("y", 300), "10.0.0.1", "2001:db8::1"}

// addrChoices are the addresses a cell may hold: IPv4 extremes, IPv6, and
// an IPv4-mapped IPv6 address (a different value, and text, from 10.0.0.1).
var addrChoices = []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("0.0.0.0"),
	netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:10.0.0.1"),
	netip.MustParseAddr("fe80::1"), netip.MustParseAddr("10.0.0.10")}

var intChoices = []int64{0, 1, -1, 6, 17, 443, 65535, 1 << 31, -1 << 31, 1<<63 - 1, -1 << 63, 1_795_478_400_000}

// newWriterCase makes rows from data: each byte picks a cell, the bytes
// taken in turn, cycled with a shift until rows are made.
func newWriterCase(data []byte, rows int) *writerCase {
	wc := &writerCase{}
	if len(data) == 0 {
		data = []byte{0}
	}
	k := 0
	next := func() byte {
		b := data[k%len(data)] + byte(k/len(data))
		k++
		return b
	}
	ncol := len(writerColumns(nil))
	for range rows {
		row := make([]cell, ncol)
		for c := range row {
			b := next()
			switch {
			case b%8 == 0:
				row[c].null = true
			default:
				row[c].s = strChoices[int(b)%len(strChoices)]
				row[c].a = addrChoices[int(b)%len(addrChoices)]
				row[c].i = intChoices[int(b)%len(intChoices)] + int64(b/64)
				for j := range int(b % 4) {
					row[c].list = append(row[c].list, strChoices[(int(b)+j*5)%len(strChoices)])
				}
				seen := map[string]bool{}
				for j := range int(b % 3) {
					key := strChoices[(int(b)+j*7)%len(strChoices)]
					if !seen[key] {
						seen[key] = true
						row[c].kvs = append(row[c].kvs, lake.KV{Key: key, Value: strChoices[(int(b)+j)%len(strChoices)]})
					}
				}
				slices.SortFunc(row[c].kvs, func(a, b lake.KV) int { return strings.Compare(a.Key, b.Key) })
			}
		}
		wc.rows = append(wc.rows, row)
	}
	return wc
}

// writerColumns returns a column of each type, encoding and accessor the
// lake's schemas use, reading wc's cells (the record's packets is its
// row).
func writerColumns(wc *writerCase) []lake.Column {
	var cols []lake.Column
	cellOf := func(c int, r *flowlog.Record) cell { return wc.rows[r.Packets][c] }
	chunk := func(c int, row int32) cell { return wc.rows[wc.base+int(row)][c] }
	add := func(name string, t lake.Type, enc lake.Encoding, set func(c int, col *lake.Column)) {
		col := lake.Column{Name: name, Type: t, Encoding: enc}
		set(len(cols), &col)
		cols = append(cols, col)
	}
	for _, e := range []struct {
		name string
		enc  lake.Encoding
	}{{"dict", lake.EncodingDict}, {"plain", lake.EncodingPlain}, {"delta", lake.EncodingDelta}} {
		if e.enc != lake.EncodingDelta {
			add("str_"+e.name, lake.TypeString, e.enc, func(c int, col *lake.Column) {
				col.Str = func(r *flowlog.Record, _ int) (string, bool) { v := cellOf(c, r); return v.s, !v.null }
			})
			add("append_str_"+e.name, lake.TypeString, e.enc, func(c int, col *lake.Column) {
				col.AppendStr = func(dst []byte, r *flowlog.Record, _ int) ([]byte, bool) {
					v := cellOf(c, r)
					return append(dst, v.s...), !v.null
				}
			})
			add("addr_"+e.name, lake.TypeString, e.enc, func(c int, col *lake.Column) {
				col.Addr = func(r *flowlog.Record, _ int) (netip.Addr, bool) { v := cellOf(c, r); return v.a, !v.null }
			})
			add("strings_"+e.name, lake.TypeString, e.enc, func(c int, col *lake.Column) {
				col.Hooked = true
				col.Strings = func(rows []int32, dst []string, ok []bool) {
					for i, row := range rows {
						v := chunk(c, row)
						dst[i], ok[i] = v.s, !v.null
					}
				}
			})
			add("list_"+e.name, lake.TypeArrayString, e.enc, func(c int, col *lake.Column) {
				col.List = func(dst []string, r *flowlog.Record, _ int) ([]string, bool) {
					v := cellOf(c, r)
					return append(dst, v.list...), !v.null
				}
			})
			add("lists_"+e.name, lake.TypeArrayString, e.enc, func(c int, col *lake.Column) {
				col.Hooked = true
				col.Lists = func(rows []int32, dst [][]string, ok []bool) {
					for i, row := range rows {
						v := chunk(c, row)
						dst[i], ok[i] = v.list, !v.null
					}
				}
			})
			add("map_"+e.name, lake.TypeMapStringString, e.enc, func(c int, col *lake.Column) {
				col.Map = func(dst []lake.KV, r *flowlog.Record, _ int) ([]lake.KV, bool) {
					v := cellOf(c, r)
					return append(dst, v.kvs...), !v.null
				}
			})
			add("maps_"+e.name, lake.TypeMapStringString, e.enc, func(c int, col *lake.Column) {
				col.Hooked = true
				col.Maps = func(rows []int32, dst []map[string]string, ok []bool) {
					for i, row := range rows {
						v := chunk(c, row)
						m := map[string]string{}
						for _, kv := range v.kvs {
							m[kv.Key] = kv.Value
						}
						dst[i], ok[i] = m, !v.null
					}
				}
			})
		}
		for _, t := range []lake.Type{lake.TypeInt, lake.TypeBigInt, lake.TypeTimestamp} {
			add(fmt.Sprintf("%s_%s", strings.ReplaceAll(t.String(), "int", "i"), e.name), t, e.enc, func(c int, col *lake.Column) {
				col.Int = func(r *flowlog.Record, _ int) (int64, bool) { v := cellOf(c, r); return v.i, !v.null }
			})
			add(fmt.Sprintf("%s_ints_%s", strings.ReplaceAll(t.String(), "int", "i"), e.name), t, e.enc, func(c int, col *lake.Column) {
				col.Hooked = true
				col.Ints = func(rows []int32, dst []int64, ok []bool) {
					for i, row := range rows {
						v := chunk(c, row)
						dst[i], ok[i] = v.i, !v.null
					}
				}
			})
		}
	}
	return cols
}

// write writes wc's rows with the lake's writer (rgRows rows a row group,
// pages of pageBytes) or, if ref, parquet-go's.
func (wc *writerCase) write(t testing.TB, ref bool, rgRows, pageBytes int) []byte {
	t.Helper()
	s := lake.MustSchema(writerColumns(wc)...)
	recs := make([]flowlog.Record, len(wc.rows))
	for i := range recs {
		recs[i].Packets = int64(i)
	}
	hook := func(_ context.Context, group []flowlog.Record) error {
		wc.base = int(group[0].Packets)
		return nil
	}
	var buf bytes.Buffer
	var err error
	if ref {
		err = lake.WriteReferenceObject(context.Background(), &buf, s, flowlog.FieldSet{}, recs, hook)
	} else {
		err = lake.WriteObjectSized(context.Background(), &buf, s, flowlog.FieldSet{}, recs, hook, rgRows, pageBytes)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readRows returns every row of an object as parquet-go reads it, one
// string per value: its column, levels and value.
func readRows(t testing.TB, obj []byte) []string {
	t.Helper()
	f, err := parquetgo.OpenFile(bytes.NewReader(obj), int64(len(obj)))
	if err != nil {
		t.Fatalf("parquet-go cannot open the object: %v", err)
	}
	var out []string
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquetgo.Row, 64)
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				var b strings.Builder
				for _, v := range row {
					fmt.Fprintf(&b, "%d:%d/%d:", v.Column(), v.RepetitionLevel(), v.DefinitionLevel())
					if !v.IsNull() {
						fmt.Fprintf(&b, "%q", v.String())
					}
					b.WriteByte(' ')
				}
				out = append(out, b.String())
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("parquet-go cannot read the object: %v", err)
			}
		}
		rows.Close()
	}
	return out
}

// checkWriter compares the two writers on wc and checks the lake
// writer's page index with arrow-go.
func checkWriter(t testing.TB, wc *writerCase, rgRows, pageBytes int) {
	t.Helper()
	ours, ref := wc.write(t, false, rgRows, pageBytes), wc.write(t, true, 0, 0)
	got, want := readRows(t, ours), readRows(t, ref)
	if len(got) != len(want) || len(got) != len(wc.rows) {
		t.Fatalf("read %d rows of the lake writer's object, %d of parquet-go's; want %d", len(got), len(want), len(wc.rows))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	var rep boundsReport
	l := &indexLake{files: map[string][]byte{"ours.parquet": ours}}
	if err := forEachChunk(l, func(string) bool { return true }, func(c *chunk) error {
		rep.checkBounds(c)
		return nil
	}); err != nil {
		t.Fatalf("arrow-go: %v", err)
	}
	if len(rep.violations) > 0 {
		t.Fatalf("arrow-go: %d page index violations, the first: %s", len(rep.violations), rep.violations[0])
	}
}

// TestWriterMatchesParquetGo writes enough rows for several row groups and
// pages per chunk, with the lake's page size and smaller ones.
func TestWriterMatchesParquetGo(t *testing.T) {
	data := make([]byte, 4099)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	wc := newWriterCase(data, 40_000)
	for _, tt := range []struct{ rgRows, pageBytes int }{{128 << 10, 256 << 10}, {15_000, 256 << 10}, {9_999, 4 << 10}} {
		t.Run(fmt.Sprintf("rg%d_page%d", tt.rgRows, tt.pageBytes), func(t *testing.T) {
			checkWriter(t, wc, tt.rgRows, tt.pageBytes)
		})
	}
}

// FuzzWriter compares the writers on rows made from the input, in small
// row groups and pages.
func FuzzWriter(f *testing.F) {
	f.Add([]byte{0}, uint16(1))
	f.Add([]byte("\x00\x08\x10 flowlake \xff\xfe"), uint16(300))
	f.Add(bytes.Repeat([]byte{7}, 64), uint16(2000))
	f.Fuzz(func(t *testing.T, data []byte, n uint16) {
		rows := int(n%1000) + 1
		wc := newWriterCase(data, rows)
		checkWriter(t, wc, int(n%97)+1, int(n%5000)+1)
	})
}
