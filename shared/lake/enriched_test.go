package lake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"
	"testing"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/enrichtest"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/parquet-go/parquet-go"
)

// BenchmarkColumn encodes 64k rich records one column at a time, enrichment
// columns included, to show what each costs.
func BenchmarkColumn(b *testing.B) {
	var buf bytes.Buffer
	if _, err := flowgen.Write(&buf, flowgen.Config{Seed: 3, Records: 64 << 10, Format: flowgen.RichFormat()}); err != nil {
		b.Fatal(err)
	}
	rd := flowlog.NewReader(&buf)
	rd.SetFormat(flowgen.RichFormat())
	recs := make([]flowlog.Record, 64<<10)
	for i := range recs {
		if err := rd.ReadInto(&recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	e, err := enrich.New(context.Background(), enrich.Config{})
	if err != nil {
		b.Fatal(err)
	}
	en := &TestEnrichment{Enricher: e, Groups: []string{enrich.GroupRecord}}
	s := en.Schema()
	idx := make([]int32, batchSize)
	for i := range idx {
		idx[i] = int32(i)
	}
	scr := []*scratch{{}}
	// The hook alone: subtract it from each column's figure.
	b.Run("hook", func(b *testing.B) {
		for range b.N {
			for k := 0; k+batchSize <= len(recs); k += batchSize {
				en.Hook(context.Background(), recs[k:k+batchSize])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(recs)*b.N), "ns/row")
	})
	for _, c := range s.Columns() {
		one := MustSchema(c)
		b.Run(c.Name, func(b *testing.B) {
			for range b.N {
				fw := newFileWriter(io.Discard, one.fileSchema(flowgen.RichFormat().Set()), 128<<10, 64<<20)
				for k := 0; k+batchSize <= len(recs); k += batchSize {
					en.Hook(context.Background(), recs[k:k+batchSize])
					if err := fw.write(recs[k:k+batchSize], idx, scr, nil); err != nil {
						b.Fatal(err)
					}
				}
				if err := fw.close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(recs)*b.N), "ns/row")
		})
	}
}

// Hooked columns write what their source reads, row for row: every
// enrichment column of every type (string, bigint, list, map), read back
// from the Parquet object with its levels, is what Fields.Value gives, NULL
// included, over several groups and more distinct peers than peer_addr's
// cache holds.
func TestHookedColumnsRoundTrip(t *testing.T) {
	fields := enrichtest.RandomFields(9, 4*batchSize+100)
	rd := &enrich.ColumnReader{}
	cols, err := HookedColumns(rd, enrich.Columns()...)
	if err != nil {
		t.Fatal(err)
	}
	s := MustSchema(cols...)
	recs := make([]flowlog.Record, len(fields))
	for i := range recs {
		recs[i].Set = allFields
	}
	next := 0 // the first record of the group being written
	hook := func(_ context.Context, group []flowlog.Record) error {
		rd.Fields = fields[next : next+len(group)]
		next += len(group)
		return nil
	}
	var obj bytes.Buffer
	if err := WriteObject(context.Background(), &obj, s, allFields, recs, hook); err != nil {
		t.Fatal(err)
	}
	got, err := readColumns(obj.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range enrich.Columns() {
		vals := got[c.Name()]
		if len(vals) != len(fields) {
			t.Fatalf("%s: %d rows; want %d", c, len(vals), len(fields))
		}
		for i, v := range vals {
			want, ok := fields[i].Value(c)
			if !ok {
				want = nil
			}
			if !reflect.DeepEqual(v, want) {
				t.Fatalf("%s row %d: %#v; want %#v", c, i, v, want)
			}
		}
	}
}

// The columns of a table definition (a nil source) are always NULL, typed
// and documented as enrich defines them, and reading no hook.
func TestHookedColumnsNull(t *testing.T) {
	cols, err := HookedColumns[enrich.Column](nil, enrich.Columns()...)
	if err != nil {
		t.Fatal(err)
	}
	s := MustSchema(cols...)
	for i, c := range s.Columns() {
		d := enrich.Columns()[i]
		if c.Name != d.Name() || c.Type.String() != d.Type() || c.Doc != d.Doc() || c.Field != d.DependsOn() || c.Hooked {
			t.Errorf("column %d: %s %s %q field %v hooked %v; want %s %s %q field %v, not hooked",
				i, c.Name, c.Type, c.Doc, c.Field, c.Hooked, d.Name(), d.Type(), d.Doc(), d.DependsOn())
		}
	}
	recs := make([]flowlog.Record, 10)
	for i := range recs {
		recs[i].Set = allFields
	}
	var obj bytes.Buffer
	if err := WriteObject(context.Background(), &obj, s, allFields, recs, func(context.Context, []flowlog.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	got, err := readColumns(obj.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for name, vals := range got {
		for i, v := range vals {
			if v != nil {
				t.Errorf("%s row %d: %#v; want NULL", name, i, v)
			}
		}
	}
}

// readColumns reads every string, bigint, list and map column of a Parquet
// object, row by row, from its leaf values and levels: nil for NULL, then
// string, int64, []string or map[string]string.
func readColumns(obj []byte) (map[string][]any, error) {
	f, err := parquet.OpenFile(bytes.NewReader(obj), int64(len(obj)))
	if err != nil {
		return nil, err
	}
	leaves := map[string][][]parquet.Value{} // column name: its leaves' values
	for _, rg := range f.RowGroups() {
		for li, cc := range rg.ColumnChunks() {
			path := f.Schema().Columns()[li]
			vals, err := readChunk(cc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			leaf := 0
			if len(path) == 3 && path[2] == "value" {
				leaf = 1
			}
			for len(leaves[path[0]]) <= leaf {
				leaves[path[0]] = append(leaves[path[0]], nil)
			}
			leaves[path[0]][leaf] = append(leaves[path[0]][leaf], vals...)
		}
	}
	out := map[string][]any{}
	for name, ls := range leaves {
		node := f.Schema().Fields()[slices.IndexFunc(f.Schema().Fields(), func(fl parquet.Field) bool { return fl.Name() == name })]
		var rows []any
		switch {
		case len(ls) == 2: // a map: keys and values
			for i, k := range ls[0] {
				v := ls[1][i]
				switch {
				case k.RepetitionLevel() == 0 && k.DefinitionLevel() == 0:
					rows = append(rows, nil)
				case k.RepetitionLevel() == 0 && k.DefinitionLevel() == 1:
					rows = append(rows, map[string]string{})
				case k.RepetitionLevel() == 0:
					rows = append(rows, map[string]string{k.String(): v.String()})
				default:
					rows[len(rows)-1].(map[string]string)[k.String()] = v.String()
				}
			}
		case !node.Leaf(): // a list
			for _, v := range ls[0] {
				switch {
				case v.RepetitionLevel() == 0 && v.DefinitionLevel() == 0:
					rows = append(rows, nil)
				case v.RepetitionLevel() == 0 && v.DefinitionLevel() == 1:
					rows = append(rows, []string{})
				case v.RepetitionLevel() == 0:
					rows = append(rows, []string{v.String()})
				default:
					rows[len(rows)-1] = append(rows[len(rows)-1].([]string), v.String())
				}
			}
		default:
			for _, v := range ls[0] {
				switch {
				case v.IsNull():
					rows = append(rows, nil)
				case v.Kind() == parquet.Int64:
					rows = append(rows, v.Int64())
				default:
					rows = append(rows, v.String())
				}
			}
		}
		out[name] = rows
	}
	return out, nil
}

// readChunk returns the values of a column chunk, with their levels.
func readChunk(cc parquet.ColumnChunk) ([]parquet.Value, error) {
	pages := cc.Pages()
	defer pages.Close()
	var out []parquet.Value
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		vals := make([]parquet.Value, p.NumValues())
		n, err := p.Values().ReadValues(vals)
		if err != nil && err != io.EOF {
			return nil, err
		}
		for _, v := range vals[:n] {
			out = append(out, v.Clone())
		}
	}
}
