package detect_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
)

// The ingest pipeline feeds each batch of records (and their enrichment,
// if it has any) to a batch engine and publishes what it finds.
func ExampleBatch() {
	b, err := detect.NewBatch(detect.Config{})
	if err != nil {
		panic(err)
	}
	rule, _ := detect.Lookup("exposed-database-port")
	recs := rule.Cases[0].Records() // an accepted flow from the internet to PostgreSQL
	b.Observe(recs, nil)
	for _, f := range b.Findings() {
		fmt.Println(f.Severity, f.Rule, f.Entity)
	}
	// Output: high exposed-database-port dst=10.0.1.5,dstport=3306
}

// BenchmarkBatchObserve measures the batch engine on a generated day, in
// ingest-sized batches of 4096 records.
func BenchmarkBatchObserve(b *testing.B) {
	g, _ := flowgen.NewScenario(flowgen.Config{Seed: 1, Records: 65536, Span: 24 * time.Hour}, "all")
	var recs []flowlog.Record
	for {
		r, ok := g.Next()
		if !ok {
			break
		}
		recs = append(recs, r)
	}
	set := detect.MustCompile(detect.Config{})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(recs); i += 4096 {
			bt := set.NewBatch()
			bt.Observe(recs[i:min(i+4096, len(recs))], nil)
			bt.Findings()
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}
