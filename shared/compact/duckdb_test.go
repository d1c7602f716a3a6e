package compact_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/lakesql"
)

// TestNoLargerThanDuckDB: the compacted objects are no larger per record
// than DuckDB's COPY ... (FORMAT parquet, COMPRESSION zstd) of the same
// records, in the same order, with the table's columns only (so ours also
// carry compact.SourceColumn, and still must not be larger), object by
// object of 1,000 rows or more, in lakes of CloudWatch Logs deliveries
// (batches of one interface's stream) and of S3 deliveries (one file per
// account and hour). Lakes whose interfaces' rows come from many sources
// at once, where SourceColumn costs more, are measured and logged.
func TestNoLargerThanDuckDB(t *testing.T) {
	for _, tc := range []struct {
		name    string
		srcs    []source
		measure bool // measured and logged, not required
	}{
		// About one batch per interface and hour, as in the benchmark's
		// CloudWatch-like day (5,000 batches over 24 h and 200 interfaces).
		{"cloudwatch", deliveries(t, 30000, 800, false), false},
		{"s3", deliveries(t, 30000, 0, true), false},
		// Twenty batches per interface and hour: the rows of an interface
		// alternate between the batches whose start times overlap, and
		// SourceColumn costs about 1.3 bytes a row (see the package doc).
		{"cloudwatch-busy", deliveries(t, 30000, 40, false), true},
		// The other tests' lake: every interface in two S3 files (two
		// formats) and in CloudWatch batches of 50, interleaved in time.
		{"mixed", testSources(t, 30000, 50), true},
	} {
		t.Run(tc.name, func(t *testing.T) { noLargerThanDuckDB(t, tc.srcs, tc.measure) })
	}
}

func noLargerThanDuckDB(t *testing.T, srcs []source, measure bool) {
	ctx := context.Background()
	root := t.TempDir()
	ingest(t, root, srcs...)
	if _, err := compactor(root).Run(ctx, all); err != nil {
		t.Fatal(err)
	}
	db, err := lakesql.Open(ctx, filepath.Join(root, "flows"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := map[string]bool{}
	for _, c := range lake.TableSchema.Columns() {
		table[c.Name] = true
	}
	// An object of a few rows is mostly its footer (ours holds a column
	// and an offset index per column, about 4 KiB more than DuckDB's): the
	// bound applies to objects of 1,000 rows or more, all of them logged.
	var ours, theirs, rows, bigOurs, bigTheirs int64
	out := t.TempDir()
	for i, path := range compactedObjects(t, root) {
		pf := openParquet(t, path)
		var cols []string
		for _, f := range pf.Schema().Fields() {
			if f.Name() == compact.SourceColumn {
				continue
			}
			if !table[f.Name()] {
				t.Fatalf("%s: column %s is not the table's", path, f.Name())
			}
			cols = append(cols, fmt.Sprintf("%q", f.Name()))
		}
		dst := filepath.Join(out, fmt.Sprintf("%d.parquet", i))
		q := fmt.Sprintf("COPY (SELECT %s FROM read_parquet('%s')) TO '%s' (FORMAT parquet, COMPRESSION zstd)",
			strings.Join(cols, ", "), path, dst)
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
		a, b := size(t, path), size(t, dst)
		ours, theirs, rows = ours+a, theirs+b, rows+pf.NumRows()
		if pf.NumRows() >= 1000 {
			bigOurs, bigTheirs = bigOurs+a, bigTheirs+b
		}
		if a > b && pf.NumRows() >= 1000 && !measure {
			t.Errorf("%s: %d bytes, %.1f a record; DuckDB's %d, %.1f a record", path, a, float64(a)/float64(pf.NumRows()), b, float64(b)/float64(pf.NumRows()))
		}
	}
	t.Logf("%d records: compacted %d bytes (%.1f a record), DuckDB %d bytes (%.1f a record): %.3f×; objects of 1,000 rows or more: %.3f×",
		rows, ours, float64(ours)/float64(rows), theirs, float64(theirs)/float64(rows), float64(ours)/float64(theirs),
		float64(bigOurs)/float64(bigTheirs))
	if rows < 30000 || (bigOurs > bigTheirs && !measure) {
		t.Errorf("%d records in %d bytes (%d in objects of 1,000 rows or more); DuckDB's %d bytes (%d)", rows, ours, bigOurs, theirs, bigTheirs)
	}
}

// deliveries returns the sources of a lake over three hours of day, in
// the rich format, as one delivery path makes them: S3 files (one per
// account and hour of end time) or CloudWatch Logs batches (perBatch
// consecutive records of one interface each).
func deliveries(t testing.TB, records, perBatch int, s3 bool) []source {
	t.Helper()
	rich := flowgen.RichFormat()
	g := flowgen.NewGenerator(flowgen.Config{Seed: 2, Format: rich, Start: day, Span: 3 * time.Hour, Accounts: 2, ENIs: 12})
	bufs := map[string]*bytes.Buffer{}
	counts := map[string]int{}
	var srcs []source
	var line []byte
	// A stream's records come in the order the interface captured them.
	recs := make([]flowlog.Record, records)
	for i := range recs {
		recs[i] = g.Next()
	}
	slices.SortStableFunc(recs, func(a, b flowlog.Record) int { return cmp.Compare(a.End, b.End) })
	for i := range recs {
		rec := &recs[i]
		key := rec.InterfaceID
		if s3 {
			key = fmt.Sprintf("s3://raw/%s/%s.log", rec.AccountID, time.Unix(rec.End, 0).UTC().Format("2006010215"))
		}
		b := bufs[key]
		if b == nil {
			b = bytes.NewBufferString(rich.Header() + "\n")
			bufs[key] = b
		}
		b.Write(append(rec.AppendText(line[:0], rich), '\n'))
		if counts[key]++; !s3 && counts[key]%perBatch == 0 {
			srcs = append(srcs, source{fmt.Sprintf("cwl:%s#%d", key, counts[key]), b.Bytes()})
			bufs[key] = nil
		}
	}
	for _, k := range slices.Sorted(maps.Keys(bufs)) {
		if b := bufs[k]; b != nil {
			id := k
			if !s3 {
				id = fmt.Sprintf("cwl:%s#%d", k, counts[k])
			}
			srcs = append(srcs, source{id, b.Bytes()})
		}
	}
	return srcs
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
