package lake

import (
	"bytes"
	"context"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/inflate"
)

var (
	benchOnce sync.Once
	benchGz   []byte
)

const benchRecords = 300_000

func benchInput(b *testing.B) []byte {
	benchOnce.Do(func() {
		var buf bytes.Buffer
		if _, err := flowgen.Write(&buf, flowgen.Config{Seed: 1, Records: benchRecords, Format: flowgen.RichFormat(), Header: true, Gzip: true}); err != nil {
			b.Fatal(err)
		}
		benchGz = buf.Bytes()
	})
	return benchGz
}

// BenchmarkConvert measures the whole gzip → Parquet path on the rich
// format, into a local folder.
func BenchmarkConvert(b *testing.B) {
	in := benchInput(b)
	dir := b.TempDir()
	b.SetBytes(int64(len(in)))
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for range b.N {
		ra := inflate.ReadAhead(bytes.NewReader(in))
		sum, err := Convert(context.Background(), DirStore{Root: dir}, Source{ID: "bench"}, flowlog.NewReader(ra))
		ra.Close()
		if err != nil || sum.Records != benchRecords {
			b.Fatal(sum.Records, err)
		}
	}
	b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "records/s")
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(benchRecords*b.N), "cpu-ns/record")
}

// BenchmarkRead measures the reader alone, for comparison.
func BenchmarkRead(b *testing.B) {
	in := benchInput(b)
	b.ResetTimer()
	for range b.N {
		rd := flowlog.NewReader(bytes.NewReader(in))
		var rec flowlog.Record
		for rd.ReadInto(&rec) == nil {
		}
	}
	b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncode measures Parquet encoding alone, records already parsed.
func BenchmarkEncode(b *testing.B) {
	in := benchInput(b)
	rd := flowlog.NewReader(bytes.NewReader(in))
	recs := make([]flowlog.Record, 100_000)
	for i := range recs {
		if err := rd.ReadInto(&recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	idx := make([]int32, batchSize)
	for i := range idx {
		idx[i] = int32(i)
	}
	workers := 1
	scr := make([]*scratch, workers)
	for i := range scr {
		scr[i] = &scratch{}
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for range b.N {
		fw := newFileWriter(io.Discard, DefaultSchema.fileSchema(flowgen.RichFormat().Set()), 128<<10, 64<<20)
		for k := 0; k+batchSize <= len(recs); k += batchSize {
			if err := fw.write(recs[k:k+batchSize], idx, scr, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := fw.close(); err != nil {
			b.Fatal(err)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(len(recs)*b.N), "cpu-ns/record")
}
