package flowlog_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
)

// benchRecords is the size of the benchmark corpus.
const benchRecords = 2_000_000

var corpora sync.Map // name → []byte

// corpus returns a generated corpus of n records with an S3 header line, in
// the default format or the rich custom one (every v2–v5 field).
func corpus(tb testing.TB, rich bool, n int) []byte {
	type key struct {
		rich bool
		n    int
	}
	if c, ok := corpora.Load(key{rich, n}); ok {
		return c.([]byte)
	}
	cfg := flowgen.Config{Seed: 42, Records: n, Header: true}
	if rich {
		cfg.Format = flowgen.RichFormat()
	}
	var buf bytes.Buffer
	if _, err := flowgen.Write(&buf, cfg); err != nil {
		tb.Fatal(err)
	}
	corpora.Store(key{rich, n}, buf.Bytes())
	return buf.Bytes()
}

func BenchmarkReader(b *testing.B) {
	for _, tc := range []struct {
		name string
		rich bool
	}{{"default", false}, {"rich", true}} {
		b.Run(tc.name, func(b *testing.B) {
			data := corpus(b, tc.rich, benchRecords)
			src := bytes.NewReader(data)
			r := flowlog.NewReader(src)
			var rec flowlog.Record
			b.SetBytes(int64(len(data) / benchRecords))
			b.ReportAllocs()
			// Steady state: the reader's buffers and interned strings warm,
			// and the garbage of generating the corpus collected.
			for range 100_000 {
				if err := r.ReadInto(&rec); err != nil {
					b.Fatal(err)
				}
			}
			src.Reset(data)
			r.Reset(src)
			runtime.GC()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				err := r.ReadInto(&rec)
				if err == io.EOF {
					src.Reset(data)
					r.Reset(src)
					err = r.ReadInto(&rec)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// Reading a record allocates nothing once its strings have been seen.
func TestReaderZeroAllocs(t *testing.T) {
	for _, rich := range []bool{false, true} {
		data := corpus(t, rich, 20_000)
		src := bytes.NewReader(data)
		r := flowlog.NewReader(src)
		var rec flowlog.Record
		read := func() {
			err := r.ReadInto(&rec)
			if err == io.EOF {
				src.Reset(data)
				r.Reset(src)
				err = r.ReadInto(&rec)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		for range 20_000 { // warm up: buffers and interned strings
			read()
		}
		if n := testing.AllocsPerRun(50_000, read); n != 0 {
			t.Errorf("rich=%v: %v allocations per record; want 0", rich, n)
		}
	}
}

// The generated corpus parses without a single error, in both formats.
func TestGeneratedCorpusParses(t *testing.T) {
	for _, rich := range []bool{false, true} {
		r := flowlog.NewReader(bytes.NewReader(corpus(t, rich, 20_000)))
		n := 0
		var rec flowlog.Record
		for {
			err := r.ReadInto(&rec)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("rich=%v: %v", rich, err)
			}
			n++
		}
		if n != 20_000 {
			t.Errorf("rich=%v: %d records; want 20000", rich, n)
		}
	}
}
