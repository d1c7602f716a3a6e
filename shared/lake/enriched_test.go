package lake

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
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
	en := &Enrichment{Enricher: e, Groups: []string{enrich.GroupRecord}}
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
