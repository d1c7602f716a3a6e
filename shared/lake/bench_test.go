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
	scr := []*scratch{{}}
	benchEncode(b, func(fs *fileSchema) (func([]flowlog.Record, []int32) error, func() error) {
		fw := newFileWriter(io.Discard, fs, 128<<10, 64<<20)
		return func(recs []flowlog.Record, idx []int32) error { return fw.write(recs, idx, scr, nil) }, fw.close
	})
}

// BenchmarkEncodeReference is BenchmarkEncode with parquet-go's writer
// (refWriter), the baseline of leafEncoder.
func BenchmarkEncodeReference(b *testing.B) {
	scr := []*refScratch{{}}
	benchEncode(b, func(fs *fileSchema) (func([]flowlog.Record, []int32) error, func() error) {
		fw := newRefWriter(io.Discard, fs, 128<<10, 64<<20)
		return func(recs []flowlog.Record, idx []int32) error { return fw.write(recs, idx, scr, nil) }, fw.close
	})
}

func benchEncode(b *testing.B, open func(*fileSchema) (func([]flowlog.Record, []int32) error, func() error)) {
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
	fs := DefaultSchema.fileSchema(flowgen.RichFormat().Set())
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for range b.N {
		write, close := open(fs)
		for k := 0; k+batchSize <= len(recs); k += batchSize {
			if err := write(recs[k:k+batchSize], idx); err != nil {
				b.Fatal(err)
			}
		}
		if err := close(); err != nil {
			b.Fatal(err)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(len(recs)*b.N), "cpu-ns/record")
}
