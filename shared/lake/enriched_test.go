package lake

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"testing"

	"github.com/flowlake/flowlake/shared/enrich"
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

// The one-call-per-chunk fast path of the enrichment string columns (and
// peer_addr's cache of formatted peers) gives what the per-row accessors
// give, across more distinct peers than the cache has slots.
func TestEnrichValuesMatchAccessors(t *testing.T) {
	var buf bytes.Buffer
	if _, err := flowgen.Write(&buf, flowgen.Config{Seed: 9, Records: 4 * batchSize, Format: flowgen.RichFormat()}); err != nil {
		t.Fatal(err)
	}
	rd := flowlog.NewReader(&buf)
	rd.SetFormat(flowgen.RichFormat())
	recs := make([]flowlog.Record, 4*batchSize)
	for i := range recs {
		if err := rd.ReadInto(&recs[i]); err != nil {
			t.Fatal(err)
		}
		// Many distinct IPv4 and IPv6 peers, so cache slots collide.
		if i%3 == 0 {
			recs[i].SrcAddr = netip.AddrFrom4([4]byte{52, byte(i >> 8), byte(i), 7})
		}
		if i%5 == 0 {
			recs[i].DstAddr = netip.AddrFrom16([16]byte{0x26, 0x00, 15: byte(i), 14: byte(i >> 8)})
		}
	}
	e, err := enrich.New(context.Background(), enrich.Config{})
	if err != nil {
		t.Fatal(err)
	}
	en := &TestEnrichment{Enricher: e}
	cols := en.Schema().Columns()
	idx := make([]int32, batchSize)
	for i := range idx {
		idx[i] = int32(i)
	}
	vals := make([]parquet.Value, batchSize)
	checked := 0
	for k := 0; k < len(recs); k += batchSize {
		group := recs[k : k+batchSize]
		if err := en.Hook(context.Background(), group); err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			if c.listValues != nil {
				got := c.listValues(nil, idx, 3)
				var want []parquet.Value
				for i := range group {
					strs, ok := c.List(nil, &group[i], i)
					switch {
					case !ok:
						want = append(want, parquet.NullValue().Level(0, 0, 3))
					case len(strs) == 0:
						want = append(want, parquet.NullValue().Level(0, 1, 3))
					default:
						for j, s := range strs {
							want = append(want, parquet.ByteArrayValue([]byte(s)).Level(min(j, 1), 2, 3))
						}
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%s: %d values; want %d", c.Name, len(got), len(want))
				}
				for i := range got {
					if !parquet.Equal(got[i], want[i]) || got[i].RepetitionLevel() != want[i].RepetitionLevel() ||
						got[i].DefinitionLevel() != want[i].DefinitionLevel() {
						t.Fatalf("%s value %d: %v; want %v", c.Name, i, got[i], want[i])
					}
				}
				checked += len(group)
			}
			if c.values == nil {
				continue
			}
			c.values(vals, idx)
			for i := range group {
				var want string
				var ok bool
				if c.Str != nil {
					want, ok = c.Str(&group[i], i)
				} else {
					var b []byte
					b, ok = c.AppendStr(nil, &group[i], i)
					want = string(b)
				}
				got, gotOK := string(vals[i].ByteArray()), !vals[i].IsNull()
				if gotOK != ok || (ok && got != want) {
					t.Fatalf("%s row %d: fast path %q (%v); accessor %q (%v)", c.Name, k+i, got, gotOK, want, ok)
				}
				checked++
			}
		}
	}
	if checked < 4*batchSize*8 {
		t.Errorf("checked %d values; want every row of the fast-path columns", checked)
	}
}
