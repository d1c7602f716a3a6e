package compact_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// day is the day of the test lakes.
var day = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// quiet is a logger that drops everything.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// source is one input of a test lake: a flow-log text ingested as one
// source, as an S3 object or a CloudWatch batch is.
type source struct {
	id   string
	text []byte
}

// testSources returns the sources of a small lake over three hours of
// day, from one estate (two accounts, six interfaces each): a third of the
// records in an S3-like file in the rich format (every v2-v5 field), a
// third in one in the v2 default format (14 of those fields), and a third
// in small CloudWatch Logs-like batches of one interface each, of up to
// perBatch records, in the rich format. Every source begins with its
// header line.
func testSources(t testing.TB, records, perBatch int) []source {
	t.Helper()
	rich, v2 := flowgen.RichFormat(), flowlog.MustParseFormat(flowlog.DefaultFormat)
	g := flowgen.NewGenerator(flowgen.Config{Seed: 1, Format: rich, Start: day, Span: 3 * time.Hour, Accounts: 2, ENIs: 6})
	var richText, v2Text bytes.Buffer
	richText.WriteString(rich.Header() + "\n")
	v2Text.WriteString(v2.Header() + "\n")
	batches := map[string]*bytes.Buffer{}
	counts := map[string]int{}
	var srcs []source
	var line []byte
	for i := range records {
		rec := g.Next()
		switch i % 3 {
		case 0:
			richText.Write(append(rec.AppendText(line[:0], rich), '\n'))
		case 1:
			v2Text.Write(append(rec.AppendText(line[:0], v2), '\n'))
		default:
			b := batches[rec.InterfaceID]
			if b == nil {
				b = bytes.NewBufferString(rich.Header() + "\n")
				batches[rec.InterfaceID] = b
			}
			b.Write(append(rec.AppendText(line[:0], rich), '\n'))
			if counts[rec.InterfaceID]++; counts[rec.InterfaceID]%perBatch == 0 {
				srcs = append(srcs, source{fmt.Sprintf("cwl:%s#%d", rec.InterfaceID, counts[rec.InterfaceID]), b.Bytes()})
				batches[rec.InterfaceID] = nil
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(batches)) {
		if b := batches[id]; b != nil {
			srcs = append(srcs, source{fmt.Sprintf("cwl:%s#%d", id, counts[id]), b.Bytes()})
		}
	}
	return append([]source{{"s3://raw/rich.log", richText.Bytes()}, {"s3://raw/v2.log", v2Text.Bytes()}}, srcs...)
}

// ingest writes the sources into the lake under root, as the ingest
// functions do (pipeline.Pipeline, enriched), and returns the records
// written.
func ingest(t testing.TB, root string, srcs ...source) int64 {
	t.Helper()
	p := &pipeline.Pipeline{Store: lake.DirStore{Root: root}, Prefix: "flows", Enricher: &pipeline.LazyEnricher{Log: quiet},
		EnrichGroups: []string{enrich.GroupRecord}, Log: quiet}
	var n int64
	for _, s := range srcs {
		res, err := p.Process(context.Background(), lake.Source{ID: s.id}, flowlog.NewReader(bytes.NewReader(s.text)))
		if err != nil {
			t.Fatal(err)
		}
		n += res.Records
	}
	return n
}

// compactor returns a compactor of the lake under root, for every hour.
func compactor(root string) *compact.Compactor {
	return &compact.Compactor{Bucket: compact.Dir{Root: root}, Prefix: "flows", Log: quiet, TempDir: os.TempDir()}
}

// all is the window of every hour of the test lakes.
var all = compact.Window{Before: day.AddDate(0, 0, 2)}

// rowsOf reads every row of the lake under root with parquet-go, each
// row as one line: its partition folder, then every column of the table
// by name (NULL when the object lacks the column or the value is null),
// lists and maps with their elements in order. It returns the lines as a
// multiset (line → count).
func rowsOf(t testing.TB, root string) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rows, err := objectRows(filepath.ToSlash(rel), b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for r, n := range rows {
			out[r] += n
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	objectRowsMu    sync.Mutex
	objectRowsCache = map[[32]byte]map[string]int{}
)

// objectRows returns the rows of one object in folder dir, as rowsOf
// writes them; the rows of an object seen before come from a cache.
func objectRows(dir string, b []byte) (map[string]int, error) {
	key := sha256.Sum256(append([]byte(dir+"\x00"), b...))
	objectRowsMu.Lock()
	cached, ok := objectRowsCache[key]
	objectRowsMu.Unlock()
	if ok {
		return cached, nil
	}
	names := []string{}
	for _, c := range lake.TableSchema.Columns() {
		names = append(names, c.Name)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	leaves := pf.Schema().Columns() // leaf paths, by column index
	r := parquet.NewReader(pf)
	defer r.Close()
	rows := make([]parquet.Row, 100)
	for {
		n, err := r.ReadRows(rows)
		for _, row := range rows[:n] {
			vals := map[string][]string{}
			row.Range(func(ci int, vs []parquet.Value) bool {
				top := leaves[ci][0]
				leaf := strings.Join(leaves[ci], ".")
				var b strings.Builder
				for _, v := range vs {
					if v.IsNull() {
						fmt.Fprintf(&b, "(d%d)", v.DefinitionLevel())
					} else {
						fmt.Fprintf(&b, "(%q)", v.String())
					}
				}
				if len(vs) == 1 && vs[0].IsNull() && vs[0].DefinitionLevel() == 0 {
					b.Reset()
					b.WriteString("NULL")
				}
				vals[top] = append(vals[top], leaf+"="+b.String())
				return true
			})
			var line strings.Builder
			line.WriteString(dir)
			for _, name := range names {
				v, ok := vals[name]
				if !ok || allNull(v) {
					v = []string{"NULL"}
				}
				fmt.Fprintf(&line, " %s:%s", name, strings.Join(v, "&"))
			}
			out[line.String()]++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	objectRowsMu.Lock()
	objectRowsCache[key] = out
	objectRowsMu.Unlock()
	return out, nil
}

func allNull(v []string) bool {
	for _, s := range v {
		if !strings.HasSuffix(s, "=NULL") {
			return false
		}
	}
	return true
}

// total returns the number of rows of a multiset.
func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// diffRows reports how two multisets of rows differ, or "" when they are
// equal.
func diffRows(got, want map[string]int) string {
	if maps.Equal(got, want) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows; want %d", total(got), total(want))
	shown := 0
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] && shown < 3 {
			fmt.Fprintf(&b, "\n  %dx (want %dx) %s", got[k], want[k], k)
			shown++
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok && shown < 6 {
			fmt.Fprintf(&b, "\n  %dx (want 0x) %s", got[k], k)
			shown++
		}
	}
	return b.String()
}

// covers reports the rows of want that got lacks (counting), or "".
func covers(got, want map[string]int) string {
	missing := 0
	for k, n := range want {
		if got[k] < n {
			missing += n - got[k]
		}
	}
	if missing == 0 {
		return ""
	}
	return fmt.Sprintf("%d rows lost", missing)
}

// files returns the names of the files in each partition-hour folder of
// the lake under root (hidden files left out), by folder.
func files(t testing.TB, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		out[filepath.ToSlash(rel)] = append(out[filepath.ToSlash(rel)], d.Name())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// copyDir copies the lake under src to a new folder and returns it.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// scale returns the multiset m with every count times k.
func scale(m map[string]int, k int) map[string]int {
	out := make(map[string]int, len(m))
	for r, n := range m {
		out[r] = n * k
	}
	return out
}

// plus returns the union of multisets.
func plus(ms ...map[string]int) map[string]int {
	out := map[string]int{}
	for _, m := range ms {
		for r, n := range m {
			out[r] += n
		}
	}
	return out
}
