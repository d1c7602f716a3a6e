package main

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

// init runs the command of a compaction benchmark's child process: the
// benchmark runs `flowlake compact` as this test binary, marked by
// benchChildEnv.
func init() {
	if os.Getenv(benchChildEnv) != "" && len(os.Args) > 1 && os.Args[1] == "compact" {
		os.Exit(run(context.Background(), stdio{os.Stdin, os.Stdout, os.Stderr}, os.Args[1:]))
	}
}

func testExe(tb testing.TB) string {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	return exe
}

// TestBenchCompact runs the compaction benchmark on a small day: every
// partition-hour ends as one object holding the same rows (the benchmark
// checks them), the lake shrinks, and every figure is measured.
func TestBenchCompact(t *testing.T) {
	r, err := benchCompact(context.Background(), testExe(t), t.TempDir(), compactDay{Records: 20000, Batches: 200, Interfaces: 20, QueryRuns: 1}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.Batches != 200 || r.Partitions < 24 || r.ObjectsAfter != r.Partitions || r.MaxPerHour != 1 || r.ObjectsBefore < 200 ||
		r.BytesAfter >= r.BytesBefore || r.BytesDuckDB <= 0 || r.QueryBefore <= 0 || r.QueryAfter <= 0 || r.RowsChecked != 20000 ||
		r.Records != 20000 || r.LargestRecords <= 0 || r.LargestHour == "" {
		t.Errorf("benchCompact = %+v", r)
	}
	if r.LargestRSS <= 0 || r.LargestRSS >= 1<<30 || r.RestRSS <= 0 {
		t.Errorf("peak RSS on the largest partition-hour = %d, the rest's %d; want measured, under 1 GiB", r.LargestRSS, r.RestRSS)
	}
	var b strings.Builder
	r.print(&b)
	for _, want := range []string{"objects per partition-hour", "after/DuckDB", "faster", "records/s", "peak RSS"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, b.String())
		}
	}
}

// BenchmarkCloudWatchDay is the CloudWatch-like day: the
// ingest-cwlogs handler on 5,000 subscription batches over 24 h and 200
// interfaces (FLOWLAKE_BENCH_RECORDS records, 2,000,000 by default), then
// compaction; `go test -run '^$' -bench CloudWatchDay -benchtime 1x
// ./cmd/flowlake` prints the figures, as `flowlake bench --compact` does.
func BenchmarkCloudWatchDay(b *testing.B) {
	records := 2_000_000
	if v, err := strconv.Atoi(os.Getenv("FLOWLAKE_BENCH_RECORDS")); err == nil && v > 0 {
		records = v
	}
	for range b.N {
		r, err := benchCompact(context.Background(), testExe(b), b.TempDir(), compactDay{Records: records, Batches: 5000, Interfaces: 200, QueryRuns: 5}, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		var s strings.Builder
		r.print(&s)
		b.Log("\n" + s.String())
		b.ReportMetric(r.BeforeObjectsPerHour, "objects/hour-before")
		b.ReportMetric(r.AfterAvg, "objects/hour-after")
		b.ReportMetric(float64(r.BytesAfter)/float64(r.BytesBefore), "bytes-after/before")
		b.ReportMetric(float64(r.BytesAfter)/float64(r.BytesDuckDB), "bytes-after/duckdb")
		b.ReportMetric(float64(r.QueryBefore)/float64(r.QueryAfter), "query-before/after")
		b.ReportMetric(float64(r.Records)/r.Compact.Seconds(), "compact-records/s")
		b.ReportMetric(float64(r.LargestRSS)/(1<<20), "largest-hour-peak-RSS-MiB")
	}
}

// BenchmarkCloudWatchBatch is bench's CloudWatch figure: the ingest-cwlogs
// handler on one real-shaped 1 MiB subscription batch, enriched, with every
// detection rule; `go test -run '^$' -bench CloudWatchBatch ./cmd/flowlake`.
func BenchmarkCloudWatchBatch(b *testing.B) {
	r, _, err := benchCloudWatch(context.Background(), b.TempDir(), b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(r.cpu.Microseconds())/1000, "cpu-ms/batch")
	b.ReportMetric(float64(r.rows), "records/batch")
}
