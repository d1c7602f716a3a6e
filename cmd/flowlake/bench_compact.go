package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/lakesql"
	"github.com/flowlake/flowlake/shared/pipeline"
	"github.com/flowlake/flowlake/shared/queries"
)

// compactDay configures the compaction benchmark's CloudWatch-like day.
type compactDay struct {
	Records    int // records over the day
	Batches    int // subscription batches over the day
	Interfaces int // network interfaces, one log stream each
	QueryRuns  int // timings of the query before and after (the fastest kept)
}

// compactBench is what the compaction benchmark measured.
type compactBench struct {
	Day                            compactDay
	Batches                        int // subscription batches the handler took
	Ingest                         time.Duration
	Partitions                     int // partition-hours
	ObjectsBefore, ObjectsAfter    int
	MaxPerHourBefore, MaxPerHour   int // objects in the fullest partition-hour
	BytesBefore, BytesAfter        int64
	BytesDuckDB                    int64 // DuckDB's COPY of each compacted object's records
	QueryBefore, QueryAfter        time.Duration
	Compact                        time.Duration // the whole day
	Records                        int64
	LargestHour                    string
	LargestRecords                 int64
	LargestCompact                 time.Duration
	LargestRSS                     int64 // peak RSS of the process that compacted the largest partition-hour alone
	RestRSS                        int64 // and of the one that compacted the rest
	RowsChecked                    int64
	QueryName                      string
	MemoryLimit                    int64
	BeforeObjectsPerHour, AfterAvg float64
}

// benchCompact ingests a CloudWatch-like day into a folder lake under dir
// with the ingest-cwlogs handler (pipeline.CloudWatchHandler, enriched as
// benchCloudWatch enriches): d.Batches subscription batches over 24 hours,
// each of one interface's log stream, d.Batches/d.Interfaces batches a
// stream, each the stream's records of its share of the day in order.
// Then it compacts the lake with the compact Lambda's compactor, under the
// Lambda's memory limit (85% of 1 GiB), in `flowlake compact` child
// processes whose peak RSS is their own: the largest partition-hour first,
// alone, then the rest. It measures objects, bytes (and DuckDB's COPY ... (FORMAT
// parquet, COMPRESSION zstd) of each compacted object's records), the
// "top rejected destination ports" query in DuckDB before and after
// (taking turns, on a hard-linked copy of the lake before), and checks
// that the lake holds the same rows (count and a hash of every row).
//
// exe is the flowlake binary (os.Executable()); a test binary passes
// itself, and runs the command when FLOWLAKE_BENCH_CHILD is set.
func benchCompact(ctx context.Context, exe, dir string, d compactDay, progress io.Writer) (compactBench, error) {
	r := compactBench{Day: d}
	if d.Records <= 0 || d.Batches <= 0 || d.Interfaces <= 0 || d.Batches < d.Interfaces {
		return r, fmt.Errorf("compaction benchmark: %d records, %d batches, %d interfaces: want positive, batches ≥ interfaces", d.Records, d.Batches, d.Interfaces)
	}
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1) // within the saved queries' last 7 days
	root := filepath.Join(dir, "lake")
	data := filepath.Join(root, pipeline.DefaultLakePrefix)
	fmt.Fprintf(progress, "ingesting a CloudWatch-like day: %d records in %d batches of %d interfaces ...\n", d.Records, d.Batches, d.Interfaces)
	t0 := time.Now()
	n, err := ingestCloudWatchDay(ctx, root, day, d)
	if err != nil {
		return r, err
	}
	r.Batches, r.Ingest = n, time.Since(t0)

	before := filepath.Join(dir, "before")
	if err := linkTree(data, before); err != nil {
		return r, err
	}
	st, err := lakeStats(data)
	if err != nil {
		return r, err
	}
	r.Partitions, r.ObjectsBefore, r.MaxPerHourBefore, r.BytesBefore = len(st.objects), st.total, st.max, st.bytes
	r.BeforeObjectsPerHour = float64(st.total) / float64(len(st.objects))
	largest, rows, sum, err := largestHour(ctx, data)
	if err != nil {
		return r, err
	}
	r.LargestHour = largest

	// Compact, as the Lambda would, with its memory limit (GOMEMLIMIT 85% of
	// 1 GiB), each run a `flowlake compact` child process whose peak RSS is
	// its own: the largest partition-hour alone first, then the rest.
	r.MemoryLimit = 1 << 30 * 85 / 100
	h, err := time.Parse("2006-01-02 15", largest)
	if err != nil {
		return r, err
	}
	fmt.Fprintf(progress, "compacting the largest partition-hour (%s) ...\n", largest)
	one, err := compactChild(ctx, exe, data, r.MemoryLimit, "--since", h.Format(time.RFC3339), "--before", h.Add(time.Hour).Format(time.RFC3339))
	if err != nil {
		return r, err
	}
	r.LargestCompact, r.LargestRSS, r.LargestRecords = one.elapsed, one.PeakRSS, one.LargestRecords
	fmt.Fprintln(progress, "compacting the rest of the day ...")
	rest, err := compactChild(ctx, exe, data, r.MemoryLimit, "--before", day.AddDate(0, 0, 2).Format(time.RFC3339))
	if err != nil {
		return r, err
	}
	r.Compact, r.Records, r.RestRSS = one.elapsed+rest.elapsed, one.Records+rest.Records, rest.PeakRSS

	st, err = lakeStats(data)
	if err != nil {
		return r, err
	}
	r.ObjectsAfter, r.MaxPerHour, r.BytesAfter = st.total, st.max, st.bytes
	r.AfterAvg = float64(st.total) / float64(len(st.objects))
	_, rowsAfter, sumAfter, err := largestHour(ctx, data)
	if err != nil {
		return r, err
	}
	if rowsAfter != rows || sumAfter != sum || r.Records != rows {
		return r, fmt.Errorf("after compaction the lake holds %d rows (hash %s), compaction wrote %d; before, %d rows (hash %s)", rowsAfter, sumAfter, r.Records, rows, sum)
	}
	r.RowsChecked = rows
	if r.BytesDuckDB, err = duckDBBytes(ctx, data, dir); err != nil {
		return r, err
	}

	q, _ := queries.Lookup("top-rejected-destination-ports")
	r.QueryName = q.Name
	runs := max(d.QueryRuns, 1)
	for i := range 2 * runs {
		lakeDir := before
		if i%2 == 1 {
			lakeDir = data
		}
		el, err := timeQuery(ctx, lakeDir, q.SQL)
		if err != nil {
			return r, err
		}
		best := &r.QueryBefore
		if i%2 == 1 {
			best = &r.QueryAfter
		}
		if *best == 0 || el < *best {
			*best = el
		}
	}
	return r, nil
}

// childResult is what a `flowlake compact --json` child printed, and how
// long it took.
type childResult struct {
	compact.Result
	PeakRSS int64 `json:"peak_rss_bytes"`
	elapsed time.Duration
}

// compactChild runs `exe compact --lake root --json args...` with
// GOMEMLIMIT set to limit bytes, and returns what it printed.
func compactChild(ctx context.Context, exe, root string, limit int64, args ...string) (childResult, error) {
	cmd := exec.CommandContext(ctx, exe, append([]string{"compact", "--lake", root, "--json"}, args...)...)
	cmd.Env = append(os.Environ(), "GOMEMLIMIT="+strconv.FormatInt(limit, 10), benchChildEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	r := childResult{elapsed: time.Since(t0)}
	if err != nil {
		return r, fmt.Errorf("flowlake compact %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return r, fmt.Errorf("flowlake compact --json: %w: %s", err, stdout.String())
	}
	if r.PeakRSS <= 0 || len(r.Failed) > 0 {
		return r, fmt.Errorf("flowlake compact %s: %s", strings.Join(args, " "), stdout.String())
	}
	return r, nil
}

// benchChildEnv marks a test binary's child that runs a flowlake command
// (see bench_compact_test.go).
const benchChildEnv = "FLOWLAKE_BENCH_CHILD"

// ingestCloudWatchDay runs the ingest-cwlogs handler on the day's batches
// and returns how many it took.
func ingestCloudWatchDay(ctx context.Context, root string, day time.Time, d compactDay) (int, error) {
	fm := flowgen.RichFormat()
	g := flowgen.NewGenerator(flowgen.Config{Seed: 20, Records: d.Records, Format: fm, Start: day, Span: 24 * time.Hour, Accounts: 1, ENIs: d.Interfaces})
	h := &pipeline.CloudWatchHandler{Format: fm, Pipeline: &pipeline.Pipeline{
		Store: lake.DirStore{Root: root}, Prefix: pipeline.DefaultLakePrefix,
		Enricher: &pipeline.LazyEnricher{}, EnrichGroups: []string{enrich.GroupRecord},
		Log: pipeline.NewLogger(io.Discard, slog.LevelWarn),
	}}
	perStream := d.Batches / d.Interfaces
	open := map[string]*events.CloudwatchLogsData{}
	var order []string
	batches, window := 0, 0
	send := func(b *events.CloudwatchLogsData) error {
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		zw.Write(raw)
		zw.Close()
		ev := events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(zb.Bytes())}}
		res, err := h.Handle(ctx, ev)
		if err != nil {
			return fmt.Errorf("cwlogs handler: %w", err)
		}
		if res.Records != int64(len(b.LogEvents)) || res.Rejected != 0 {
			return fmt.Errorf("cwlogs handler wrote %d records (%d rejected); want %d", res.Records, res.Rejected, len(b.LogEvents))
		}
		batches++
		return nil
	}
	flush := func() error {
		for _, id := range order {
			if err := send(open[id]); err != nil {
				return err
			}
		}
		clear(open)
		order = order[:0]
		return nil
	}
	var line []byte
	for i := range d.Records {
		// The stream's records of each 1/perStream of the day make one batch.
		if w := i * perStream / d.Records; w != window {
			if err := flush(); err != nil {
				return batches, err
			}
			window = w
		}
		rec := g.Next()
		b := open[rec.InterfaceID]
		if b == nil {
			b = &events.CloudwatchLogsData{MessageType: pipeline.MessageData, Owner: rec.AccountID, LogGroup: "/flowlake/vpc-flow-logs",
				LogStream: rec.InterfaceID + "-all", SubscriptionFilters: []string{"flowlake-ingest"}}
			open[rec.InterfaceID] = b
			order = append(order, rec.InterfaceID)
		}
		line = rec.AppendText(line[:0], fm)
		b.LogEvents = append(b.LogEvents, events.CloudwatchLogsLogEvent{
			ID: fmt.Sprintf("%056d", i), Timestamp: rec.End * 1000, Message: string(line),
		})
	}
	return batches, flush()
}

type stats struct {
	objects    map[string]int // per partition-hour folder
	total, max int
	bytes      int64
}

// lakeStats counts the Parquet objects of each partition-hour and their
// bytes.
func lakeStats(data string) (stats, error) {
	st := stats{objects: map[string]int{}}
	err := filepath.WalkDir(data, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		st.objects[filepath.Dir(p)]++
		st.total++
		st.bytes += fi.Size()
		return nil
	})
	for _, n := range st.objects {
		st.max = max(st.max, n)
	}
	if st.total == 0 && err == nil {
		err = fmt.Errorf("no Parquet object under %s", data)
	}
	return st, err
}

// largestHour returns the partition-hour holding the most rows ("yyyy-mm-dd
// hh"), and the lake's rows and the sum of a hash of each (every column).
func largestHour(ctx context.Context, data string) (string, int64, string, error) {
	db, err := lakesql.Open(ctx, data, nil)
	if err != nil {
		return "", 0, "", err
	}
	defer db.Close()
	var day, hour string
	if err := db.QueryRowContext(ctx, `SELECT "day", "hour" FROM flows GROUP BY ALL ORDER BY count(*) DESC, 1, 2 LIMIT 1`).Scan(&day, &hour); err != nil {
		return "", 0, "", fmt.Errorf("largest partition-hour: %w", err)
	}
	var rows int64
	var sum string
	if err := db.QueryRowContext(ctx, `SELECT count(*), CAST(sum(hash(flows)) AS VARCHAR) FROM flows`).Scan(&rows, &sum); err != nil {
		return "", 0, "", fmt.Errorf("rows: %w", err)
	}
	return day + " " + hour, rows, sum, nil
}

// duckDBBytes writes each compacted object's records (the table's
// columns, in the object's order) with DuckDB's COPY ... (FORMAT parquet,
// COMPRESSION zstd) and returns the bytes written.
func duckDBBytes(ctx context.Context, data, dir string) (int64, error) {
	db, err := lakesql.Open(ctx, data, nil)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	table := map[string]bool{}
	for _, c := range lake.TableSchema.Columns() {
		table[c.Name] = true
	}
	out := filepath.Join(dir, "duckdb")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	var objs []string
	filepath.WalkDir(data, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, ".parquet") {
			objs = append(objs, p)
		}
		return nil
	})
	slices.Sort(objs)
	var total int64
	for i, p := range objs {
		var cols []string
		rows, err := db.QueryContext(ctx, "SELECT name FROM parquet_schema("+sqlString(p)+")")
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return 0, err
			}
			if table[name] && !slices.Contains(cols, fmt.Sprintf("%q", name)) {
				cols = append(cols, fmt.Sprintf("%q", name))
			}
		}
		rows.Close()
		dst := filepath.Join(out, fmt.Sprintf("%04d.parquet", i))
		if _, err := db.ExecContext(ctx, fmt.Sprintf("COPY (SELECT %s FROM read_parquet(%s)) TO %s (FORMAT parquet, COMPRESSION zstd)",
			strings.Join(cols, ", "), sqlString(p), sqlString(dst))); err != nil {
			return 0, err
		}
		fi, err := os.Stat(dst)
		if err != nil {
			return 0, err
		}
		total += fi.Size()
	}
	return total, nil
}

// timeQuery opens the lake in DuckDB, as flowlake query does, and runs the
// query to its last row.
func timeQuery(ctx context.Context, lakeDir, sql string) (time.Duration, error) {
	t0 := time.Now()
	db, err := lakesql.Open(ctx, lakeDir, nil)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, sql)
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("the query returned no rows over %s", lakeDir)
	}
	return time.Since(t0), nil
}

// linkTree hard-links every file under src into the same place under dst.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		return os.Link(p, to)
	})
}

// print writes the benchmark's figures.
func (r compactBench) print(w io.Writer) {
	ratio := func(a, b int64) float64 { return float64(a) / float64(b) }
	fmt.Fprintf(w, "CloudWatch-like day: %d records, %d subscription batches of %d interfaces (ingest-cwlogs handler, enriched: record group), ingested in %s\n",
		r.Day.Records, r.Batches, r.Day.Interfaces, r.Ingest.Round(time.Millisecond))
	fmt.Fprintf(w, "partition-hours                    %d\n", r.Partitions)
	fmt.Fprintf(w, "objects per partition-hour         %.1f before (max %d), %.1f after (max %d); %d → %d objects\n",
		r.BeforeObjectsPerHour, r.MaxPerHourBefore, r.AfterAvg, r.MaxPerHour, r.ObjectsBefore, r.ObjectsAfter)
	fmt.Fprintf(w, "lake bytes                         %.1f MiB before, %.1f MiB after (%.3f×); DuckDB's COPY (zstd) of the same records %.1f MiB: after/DuckDB %.3f×\n",
		mib(r.BytesBefore), mib(r.BytesAfter), ratio(r.BytesAfter, r.BytesBefore), mib(r.BytesDuckDB), ratio(r.BytesAfter, r.BytesDuckDB))
	fmt.Fprintf(w, "%-34s %s before, %s after: %.1f× faster (DuckDB, open + query, fastest of %d each, in turns)\n",
		"query "+r.QueryName, r.QueryBefore.Round(time.Millisecond), r.QueryAfter.Round(time.Millisecond),
		float64(r.QueryBefore)/float64(r.QueryAfter), max(r.Day.QueryRuns, 1))
	fmt.Fprintf(w, "compaction                         %d records in %s: %.0f records/s (same rows before and after: %d, hash checked)\n",
		r.Records, r.Compact.Round(time.Millisecond), float64(r.Records)/r.Compact.Seconds(), r.RowsChecked)
	rss := fmt.Sprintf("%.0f MiB peak RSS (a flowlake compact process of its own, GOMEMLIMIT %.0f MiB as the Lambda sets it; fits 1 GiB: %v); the rest of the day's: %.0f MiB",
		mib(r.LargestRSS), mib(r.MemoryLimit), r.LargestRSS < 1<<30, mib(r.RestRSS))
	fmt.Fprintf(w, "largest partition-hour             %s: %d records in %s (%.0f records/s), %s\n",
		r.LargestHour, r.LargestRecords, r.LargestCompact.Round(time.Millisecond), float64(r.LargestRecords)/r.LargestCompact.Seconds(), rss)
}
