package lakesql

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

// TestExtendedColumns checks that columns another package appends, of every
// kind (array<string> and map<string,string> included) and fed by a batch
// hook, land as DuckDB reads them.
func TestExtendedColumns(t *testing.T) {
	var batchNames []string // per record of the current batch, set by the hook
	s, err := lake.DefaultSchema.Extend(
		lake.Column{Name: "protocol_name", Type: lake.TypeString, Encoding: lake.EncodingDict,
			Str: func(r *flowlog.Record, i int) (string, bool) { return batchNames[i], batchNames[i] != "" }},
		lake.Column{Name: "tcp_flag_names", Type: lake.TypeArrayString, Encoding: lake.EncodingDict,
			List: func(dst []string, r *flowlog.Record, _ int) ([]string, bool) {
				if !r.Has(flowlog.FieldTCPFlags) {
					return dst, false
				}
				if r.TCPFlags&1 != 0 {
					dst = append(dst, "fin")
				}
				if r.TCPFlags&2 != 0 {
					dst = append(dst, "syn")
				}
				return dst, true
			}},
		lake.Column{Name: "eni_tags", Type: lake.TypeMapStringString, Encoding: lake.EncodingDict,
			Map: func(dst []lake.KV, r *flowlog.Record, _ int) ([]lake.KV, bool) {
				switch r.InterfaceID {
				case "eni-none":
					return dst, false
				case "eni-empty":
					return dst, true
				}
				return append(dst, lake.KV{Key: "Name", Value: r.InterfaceID}, lake.KV{Key: "team", Value: "net"}), true
			}},
	)
	if err != nil {
		t.Fatal(err)
	}
	in := "version interface-id protocol tcp-flags start\n" +
		"5 eni-a 6 3 1700000000\n" +
		"5 eni-none 17 0 1700000000\n" +
		"5 eni-empty 1 - 1700000000\n"
	dir := t.TempDir()
	c := lake.Converter{Schema: s, Hook: func(_ context.Context, recs []flowlog.Record) error {
		batchNames = batchNames[:0]
		for _, r := range recs {
			name := map[uint8]string{6: "tcp", 17: "udp"}[r.Protocol]
			batchNames = append(batchNames, name)
		}
		return nil
	}}
	ctx := context.Background()
	if _, err := c.Convert(ctx, lake.DirStore{Root: dir}, lake.Source{ID: "x"}, flowlog.NewReader(strings.NewReader(in))); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, dir, s)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT interface_id, coalesce(protocol_name, 'NULL'), coalesce(CAST(tcp_flag_names AS VARCHAR), 'NULL'), coalesce(CAST(eni_tags AS VARCHAR), 'NULL') FROM flows ORDER BY interface_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var a, b, c, d string
		if err := rows.Scan(&a, &b, &c, &d); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", a, b, c, d))
	}
	want := []string{
		"eni-a tcp [fin, syn] {Name=eni-a, team=net}",
		"eni-empty NULL NULL {}",
		"eni-none udp [] NULL",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
