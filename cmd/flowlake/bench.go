package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/events"
	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" driver

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// runBench implements `flowlake bench`.
func runBench(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	records := fs.Int("records", 2_000_000, "records to generate")
	dir := fs.String("dir", "", "work folder, made if missing and kept (default: a temporary folder, removed at the end)")
	input := fs.String("input", "", "use this flow-log file instead of generating one")
	runs := fs.Int("runs", 1, "time each path this many times and keep the fastest; the enrichment cost is also the median of the runs' pairs (the machine may be shared)")
	cwBatches := fs.Int("cw-batches", 20, "CloudWatch path: how many times to handle the 1 MiB subscription batch (0: skip)")
	var price costModel
	fs.Float64Var(&price.LambdaGBSecond, "lambda-price", lambdaARMPricePerGBSecond, "cost model: the Lambda arm64 price, USD per GB-second")
	fs.IntVar(&price.MemoryMB, "lambda-memory", ingestS3MemoryMB, "cost model: the ingest function's memory, MB")
	fs.Float64Var(&price.ParquetPerGB, "parquet-price", 0, "cost model: AWS's price for delivering flow logs to S3 as Parquet, USD per GB, beside ours (0: not shown)")
	fs.StringVar(&price.ParquetSource, "parquet-price-source", "", "cost model: where and when --parquet-price was read")
	compactMode := fs.Bool("compact", false, "instead: the compaction benchmark on a CloudWatch-like day (see --compact-*)")
	var day compactDay
	fs.IntVar(&day.Records, "compact-records", 2_000_000, "with --compact: records over the day")
	fs.IntVar(&day.Batches, "compact-batches", 5000, "with --compact: subscription batches over the day")
	fs.IntVar(&day.Interfaces, "compact-enis", 200, "with --compact: network interfaces (log streams)")
	fs.IntVar(&day.QueryRuns, "compact-query-runs", 5, "with --compact: timings of the query before and after, in turns")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: flowlake bench [--records N]\n\n"+
			"Generates N records (rich format, header, gzip), then converts the file to\n"+
			"Parquet (zstd) twice: with flowlake convert, in a child process whose peak\n"+
			"RSS is measured, and with DuckDB's COPY ... TO (FORMAT parquet) at 1 and 2\n"+
			"threads. Prints records/s for both, their ratio and our peak RSS, after\n"+
			"checking that both outputs hold every row. Then times the ingest-cwlogs\n"+
			"handler on a real-shaped CloudWatch Logs subscription batch of about 1 MiB\n"+
			"of messages (rich format), enriched and with every detection rule as the\n"+
			"function runs them, into a folder lake: ms per batch, records/s.\n\n"+
			"With --compact, instead: the ingest-cwlogs handler on a CloudWatch-like day\n"+
			"(--compact-batches subscription batches over 24 h of --compact-enis\n"+
			"interfaces), then the compact Lambda's compactor on it: objects per\n"+
			"partition-hour and lake bytes before and after and against DuckDB's COPY\n"+
			"(zstd) of the same records, the \"top rejected destination ports\" query\n"+
			"in DuckDB before and after (their ratio), compaction records/s and the peak\n"+
			"RSS on the largest partition-hour.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	if *compactMode {
		work, done, err := workDir(*dir, "flowlake-bench-compact-")
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake bench: %v\n", err)
			return 1
		}
		defer done()
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake bench: %v\n", err)
			return 1
		}
		r, err := benchCompact(ctx, exe, work, day, sio.err)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake bench --compact: %v\n", err)
			return 1
		}
		r.print(sio.out)
		return 0
	}
	if err := bench(ctx, sio, *records, *dir, *input, max(*runs, 1), *cwBatches, price); err != nil {
		fmt.Fprintf(sio.err, "flowlake bench: %v\n", err)
		return 1
	}
	return 0
}

type benchRow struct {
	name    string
	elapsed time.Duration
	rows    int64
	rss     int64 // bytes, 0 if not measured
	cpu     time.Duration
	out     int64 // output bytes
}

// workDir returns the bench's work folder: dir, made if it does not
// exist (and kept), or, if dir is empty, a new temporary folder that done
// removes.
func workDir(dir, pattern string) (string, func(), error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, fmt.Errorf("work folder: %w", err)
		}
		return dir, func() {}, nil
	}
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, fmt.Errorf("work folder: %w", err)
	}
	return d, func() { os.RemoveAll(d) }, nil
}

func bench(ctx context.Context, sio stdio, records int, dir, input string, runs, cwBatches int, price costModel) error {
	dir, done, err := workDir(dir, "flowlake-bench-")
	if err != nil {
		return err
	}
	defer done()
	src := input
	if src == "" {
		src = filepath.Join(dir, "flows.log.gz")
		fmt.Fprintf(sio.err, "generating %d records (rich format, gzip) ...\n", records)
		f, err := os.Create(src)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		n, err := flowgen.Write(bw, flowgen.Config{Seed: 1, Records: records, Format: flowgen.RichFormat(), Header: true, Gzip: true})
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		records = n
	}
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // SET threads applies to the connection

	// Ours, in a child process so its peak RSS is its own; then DuckDB, same
	// file, same run, at 1 and 2 threads. With runs > 1 the paths take
	// turns, and each keeps its fastest run.
	ranges := filepath.Join(dir, "ip-ranges.json")
	if err := writeBenchRanges(ranges); err != nil {
		return err
	}
	results := make([]benchRow, 4)
	// The enrichment cost is also taken from each run's pair of converts,
	// run back to back (in turns, first one then the other), so that a
	// machine whose speed drifts between runs skews it less.
	var timeRatios, cpuRatios []float64
	var perCore [2]benchRow
	for run := range runs {
		var pair [2]benchRow
		for k := range 2 {
			i := k ^ run&1
			args := [][]string{{"--no-enrich"}, {"--ip-ranges", ranges}}[i]
			fmt.Fprintf(sio.err, "run %d/%d: flowlake convert %s ...\n", run+1, runs, strings.Join(args, " "))
			r, err := benchOurs(ctx, src, filepath.Join(dir, fmt.Sprintf("ours-%d", i)), nil, args...)
			if err != nil {
				return err
			}
			if run == 0 || r.elapsed < results[i].elapsed {
				results[i] = r
			}
			pair[i] = r
		}
		// Per core: the same two paths with GOMAXPROCS=1, as one vCPU
		// runs them; CPU-seconds is what a Lambda's duration bills.
		for k := range 2 {
			i := k ^ run&1
			args := [][]string{{"--no-enrich"}, {"--ip-ranges", ranges}}[i]
			fmt.Fprintf(sio.err, "run %d/%d: GOMAXPROCS=1 flowlake convert %s ...\n", run+1, runs, strings.Join(args, " "))
			r, err := benchOurs(ctx, src, filepath.Join(dir, fmt.Sprintf("core-%d", i)), []string{"GOMAXPROCS=1"}, args...)
			if err != nil {
				return err
			}
			r.name += ", GOMAXPROCS=1"
			if run == 0 || r.cpu < perCore[i].cpu {
				perCore[i] = r
			}
		}
		timeRatios = append(timeRatios, pair[1].elapsed.Seconds()/pair[0].elapsed.Seconds())
		cpuRatios = append(cpuRatios, pair[1].cpu.Seconds()/pair[0].cpu.Seconds())
		for i, threads := range []int{1, 2} {
			fmt.Fprintf(sio.err, "run %d/%d: DuckDB, %d thread(s) ...\n", run+1, runs, threads)
			r, err := benchDuckDB(ctx, db, src, filepath.Join(dir, fmt.Sprintf("duckdb-%d.parquet", threads)), threads)
			if err != nil {
				return err
			}
			if run == 0 || r.elapsed < results[2+i].elapsed {
				results[2+i] = r
			}
		}
	}
	for i := range 2 {
		ours := &results[i]
		lakeDir := filepath.Join(dir, fmt.Sprintf("ours-%d", i))
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+sqlString(filepath.Join(lakeDir, "**", "*.parquet"))+")").Scan(&ours.rows); err != nil {
			return fmt.Errorf("count our rows: %w", err)
		}
		if ours.out, err = treeSize(lakeDir); err != nil {
			return err
		}
	}
	for i := range perCore {
		core := filepath.Join(dir, fmt.Sprintf("core-%d", i))
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+sqlString(filepath.Join(core, "**", "*.parquet"))+")").Scan(&perCore[i].rows); err != nil {
			return fmt.Errorf("count our rows: %w", err)
		}
	}
	ours, enriched := &results[0], &results[1]
	if input != "" {
		records = int(ours.rows)
	}
	best := 2
	if results[3].elapsed < results[2].elapsed {
		best = 3
	}

	var cw benchRow
	var cwGzip int
	if cwBatches > 0 {
		fmt.Fprintf(sio.err, "CloudWatch path: %d batches of 1 MiB ...\n", cwBatches)
		if cw, cwGzip, err = benchCloudWatch(ctx, dir, cwBatches); err != nil {
			return err
		}
	}

	tw := tabwriter.NewWriter(sio.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(sio.out, "input: %s, %d records, %.1f MiB gzip, GOMAXPROCS=%d, best of %d run(s)\n\n", filepath.Base(src), records, mib(fi.Size()), runtime.GOMAXPROCS(0), runs)
	fmt.Fprintln(tw, "path\tseconds\trecords/s\tCPU s\tpeak RSS MiB\toutput MiB\trows\t")
	for _, r := range results {
		rss := "-"
		if r.rss > 0 {
			rss = fmt.Sprintf("%.0f", mib(r.rss))
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.0f\t%.2f\t%s\t%.1f\t%d\t\n", r.name, r.elapsed.Seconds(), float64(r.rows)/r.elapsed.Seconds(),
			r.cpu.Seconds(), rss, mib(r.out), r.rows)
	}
	if cw.rows > 0 {
		fmt.Fprintf(tw, "%s\t%.3f\t%.0f\t%.3f\t%s\t%.2f\t%d\t\n", cw.name, cw.elapsed.Seconds(), float64(cw.rows)/cw.elapsed.Seconds(),
			cw.cpu.Seconds(), "-", mib(cw.out), cw.rows)
	}
	tw.Flush()
	if cw.rows > 0 {
		fmt.Fprintf(sio.out, "\ncwlogs: %.1f ms per subscription batch (%d messages, %.0f KiB gzip+base64 payload), %.0f records/s; mean of %d batches\n",
			float64(cw.elapsed.Microseconds())/1000, cw.rows, float64(cwGzip)*4/3/1024, float64(cw.rows)/cw.elapsed.Seconds(), cwBatches)
	}
	ratio := results[best].elapsed.Seconds() / ours.elapsed.Seconds()
	fmt.Fprintf(sio.out, "\nflowlake / best DuckDB (%s): %.2fx records/s; peak RSS %.0f MiB\n", results[best].name, ratio, mib(ours.rss))
	fmt.Fprintf(sio.out, "enriched / best DuckDB: %.2fx records/s; peak RSS %.0f MiB\n", results[best].elapsed.Seconds()/enriched.elapsed.Seconds(), mib(enriched.rss))
	fmt.Fprintf(sio.out, "enrichment cost: %+.0f%% time, %+.0f%% CPU over the unenriched path (median of %d paired runs; best against best: %+.0f%%, %+.0f%%)\n",
		100*(median(timeRatios)-1), 100*(median(cpuRatios)-1), runs,
		100*(enriched.elapsed.Seconds()/ours.elapsed.Seconds()-1), 100*(enriched.cpu.Seconds()/ours.cpu.Seconds()-1))
	for _, r := range results {
		if r.rows != int64(records) {
			return fmt.Errorf("%s wrote %d rows; want %d", r.name, r.rows, records)
		}
	}
	// Per core, and what a user pays.
	duck1 := results[2]
	perCPU := func(r benchRow) float64 { return float64(records) / r.cpu.Seconds() }
	fmt.Fprintf(sio.out, "\nper core: records per CPU-second (ours GOMAXPROCS=1, DuckDB threads=1)\n")
	for _, r := range perCore {
		fmt.Fprintf(sio.out, "  %s: %.0f (%.2f CPU-s, %.2f s): %.2fx DuckDB's %.0f\n", r.name, perCPU(r), r.cpu.Seconds(), r.elapsed.Seconds(), perCPU(r)/perCPU(duck1), perCPU(duck1))
	}
	fmt.Fprintf(sio.out, "both cores: enriched %.2fx, unenriched %.2fx DuckDB's best (%s) records/s\n",
		results[best].elapsed.Seconds()/enriched.elapsed.Seconds(), results[best].elapsed.Seconds()/ours.elapsed.Seconds(), results[best].name)
	raw, err := gunzippedSize(src)
	if err != nil {
		return err
	}
	price.print(sio.out, perCore[1].cpu.Seconds()/float64(records), float64(raw)/float64(records))
	for _, r := range perCore {
		if r.rows != int64(records) {
			return fmt.Errorf("%s wrote %d rows; want %d", r.name, r.rows, records)
		}
	}
	fmt.Fprintf(sio.out, "row counts: all %d\n", records)
	return nil
}

// The cost model's defaults.
const (
	// lambdaARMPricePerGBSecond is AWS Lambda's arm64 duration price in
	// us-east-1 for the first 7.5 billion GB-seconds a month, USD.
	lambdaARMPricePerGBSecond = 0.0000133334
	// ingestS3MemoryMB is the stack's ingest-s3 memory (infra/flowlake,
	// addIngestS3).
	ingestS3MemoryMB = 2048
)

// costModel prices ingest: the measured CPU-seconds per record, billed as
// the duration of a function with MemoryMB at LambdaGBSecond. It is a
// model, not a bill: it assumes the duration is the CPU time of one vCPU
// (what GOMAXPROCS=1 measures; a 2048 MB function has a little over one)
// and leaves out requests, S3, SQS and the start of each environment.
type costModel struct {
	LambdaGBSecond float64
	MemoryMB       int
	ParquetPerGB   float64 // AWS's Parquet delivery price per GB; 0: unknown
	ParquetSource  string
}

// perGB returns the modelled USD per GiB of uncompressed flow-log text,
// for cpuPerRecord CPU-seconds and bytesPerRecord bytes of text a record.
func (m costModel) perGB(cpuPerRecord, bytesPerRecord float64) float64 {
	records := float64(1<<30) / bytesPerRecord
	return records * cpuPerRecord * float64(m.MemoryMB) / 1024 * m.LambdaGBSecond
}

func (m costModel) print(w io.Writer, cpuPerRecord, bytesPerRecord float64) {
	fmt.Fprintf(w, "modelled ingest cost (a model, not a bill): %.3f µs CPU a record (enriched, GOMAXPROCS=1), %.0f bytes of text a record, %d MB at $%.10f per GB-second: $%.5f per GB of raw flow logs\n",
		cpuPerRecord*1e6, bytesPerRecord, m.MemoryMB, m.LambdaGBSecond, m.perGB(cpuPerRecord, bytesPerRecord))
	if m.ParquetPerGB > 0 {
		fmt.Fprintf(w, "  beside AWS's Parquet delivery, $%.4f per GB (%s): %.1fx cheaper\n", m.ParquetPerGB, m.ParquetSource, m.ParquetPerGB/m.perGB(cpuPerRecord, bytesPerRecord))
	}
}

// gunzippedSize returns the uncompressed size of a gzip file.
func gunzippedSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("gunzip %s: %w", path, err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		return 0, fmt.Errorf("gunzip %s: %w", path, err)
	}
	return n, nil
}

// benchDuckDB times DuckDB's own gzip CSV to Parquet path on src.
func benchDuckDB(ctx context.Context, db *sql.DB, src, out string, threads int) (benchRow, error) {
	if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", threads)); err != nil {
		return benchRow{}, err
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	t0 := time.Now()
	q := fmt.Sprintf("COPY (SELECT * FROM read_csv(%s, delim = ' ', header = true, nullstr = '-', compression = 'gzip')) TO %s (FORMAT parquet, COMPRESSION zstd)",
		sqlString(src), sqlString(out))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return benchRow{}, fmt.Errorf("duckdb copy: %w", err)
	}
	r := benchRow{name: fmt.Sprintf("duckdb COPY, threads=%d", threads), elapsed: time.Since(t0)}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	r.cpu = cpuTime(&ru1) - cpuTime(&ru0)
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+sqlString(out)+")").Scan(&r.rows); err != nil {
		return benchRow{}, fmt.Errorf("count duckdb rows: %w", err)
	}
	if st, err := os.Stat(out); err == nil {
		r.out = st.Size()
	}
	return r, nil
}

// benchOurs runs `flowlake convert [args]` on src in a child process.
func benchOurs(ctx context.Context, src, lakeDir string, env []string, args ...string) (benchRow, error) {
	exe, err := os.Executable()
	if err != nil {
		return benchRow{}, err
	}
	os.RemoveAll(lakeDir)
	cmd := exec.CommandContext(ctx, exe, append(append([]string{"convert", "--lake", lakeDir}, args...), src)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return benchRow{}, fmt.Errorf("flowlake convert: %w: %s", err, stderr.String())
	}
	name := "flowlake convert"
	if len(args) > 0 && args[0] == "--no-enrich" {
		name += " (unenriched)"
	} else {
		name += " (enriched)"
	}
	r := benchRow{name: name, elapsed: time.Since(t0)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = cpuTime(ru)
	}
	// The child's own high-water mark (VmHWM), from its summary. Its
	// ru_maxrss would include this process's (DuckDB's) peak, which Linux
	// carries across exec.
	for _, line := range strings.Split(stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "peak RSS"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " KiB"), 10, 64)
			r.rss = kb << 10
		}
	}
	if r.rss == 0 {
		return benchRow{}, fmt.Errorf("flowlake convert did not report its peak RSS:\n%s", stdout.String())
	}
	return r, nil
}

func cpuTime(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func treeSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

// median returns the median of xs (the mean of the middle two for an even
// count); xs is reordered.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// writeBenchRanges writes an ip-ranges.json of the real file's size (about
// 8,000 IPv4 and 3,000 IPv6 prefixes), with the S3 ranges the generated
// corpus talks to, so the enriched path looks every address up for real.
func writeBenchRanges(path string) error {
	doc := &enrich.IPRanges{SyncToken: "1", CreateDate: "2026-11-01-00-00-00"}
	services := []string{"AMAZON", "EC2", "S3", "CLOUDFRONT", "ROUTE53", "DYNAMODB"}
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "GLOBAL"}
	for i := range 8000 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(3 + i%50), byte(i / 50 % 256), byte(i * 7 % 256), 0}), 24)
		doc.Prefixes = append(doc.Prefixes, enrich.IPPrefix{IPPrefix: p.String(), Region: regions[i%len(regions)], Service: services[i%len(services)]})
	}
	for i := range 3000 {
		p := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x26, 0x00, 0x1f, byte(i % 256), byte(i / 256), 0x10}), 40)
		doc.IPv6Prefixes = append(doc.IPv6Prefixes, enrich.IPv6Prefix{IPv6Prefix: p.String(), Region: regions[i%len(regions)], Service: services[i%len(services)]})
	}
	doc.Prefixes = append(doc.Prefixes,
		enrich.IPPrefix{IPPrefix: "52.216.0.0/15", Region: "us-east-1", Service: "S3"},
		enrich.IPPrefix{IPPrefix: "3.5.0.0/19", Region: "us-east-1", Service: "S3"})
	return enrich.WriteIPRangesFile(path, doc)
}

// benchCloudWatch times the ingest-cwlogs handler (pipeline.CloudWatchHandler)
// on one real-shaped subscription batch of about 1 MiB of messages in the
// rich format (one interface's log stream, base64 of gzip of JSON, as
// CloudWatch Logs invokes the function), enriched as the function enriches,
// into a DirStore under dir. It runs the batch batches times and returns
// the mean per batch and the batch's size.
func benchCloudWatch(ctx context.Context, dir string, batches int) (benchRow, int, error) {
	// The collector's setting ingest-cwlogs runs with.
	defer pipeline.SetCloudWatchGC(os.Getenv)()
	fm := flowgen.RichFormat()
	g := flowgen.NewGenerator(flowgen.Config{Seed: 3, Records: 1 << 20, Format: fm, Accounts: 1, ENIs: 1})
	data := events.CloudwatchLogsData{
		MessageType: pipeline.MessageData, Owner: g.Estate().ENIs[0].AccountID, LogGroup: "/flowlake/vpc-flow-logs",
		LogStream: g.Estate().ENIs[0].ID + "-all", SubscriptionFilters: []string{"flowlake-ingest"},
	}
	var line []byte
	text := 0
	for text < 1<<20 {
		rec := g.Next()
		line = rec.AppendText(line[:0], fm)
		text += len(line)
		data.LogEvents = append(data.LogEvents, events.CloudwatchLogsLogEvent{
			ID: fmt.Sprintf("3%055d", len(data.LogEvents)), Timestamp: rec.End * 1000, Message: string(line),
		})
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return benchRow{}, 0, err
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(raw)
	zw.Close()
	ev := events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(zb.Bytes())}}

	root := filepath.Join(dir, "cwlogs")
	h := &pipeline.CloudWatchHandler{Format: fm, Pipeline: &pipeline.Pipeline{
		Store: lake.DirStore{Root: root}, Prefix: pipeline.DefaultLakePrefix,
		Enricher: &pipeline.LazyEnricher{}, EnrichGroups: []string{enrich.GroupRecord},
		// Detection as the function runs it: the batch engine with every
		// rule, over each source (nothing to publish to here).
		NewDetector: pipeline.BatchDetectors(detect.MustCompile(detect.Config{})),
		Log:         pipeline.NewLogger(io.Discard, slog.LevelWarn),
	}}
	if _, err := h.Handle(ctx, ev); err != nil { // warm up: enricher, pools
		return benchRow{}, 0, fmt.Errorf("cwlogs handler: %w", err)
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	t0 := time.Now()
	var res pipeline.CloudWatchResult
	for range batches {
		if res, err = h.Handle(ctx, ev); err != nil {
			return benchRow{}, 0, fmt.Errorf("cwlogs handler: %w", err)
		}
	}
	el := time.Since(t0)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	if res.Records != int64(len(data.LogEvents)) || res.Rejected != 0 {
		return benchRow{}, 0, fmt.Errorf("cwlogs handler wrote %d records (%d rejected); want %d", res.Records, res.Rejected, len(data.LogEvents))
	}
	out, err := treeSize(root)
	if err != nil {
		return benchRow{}, 0, err
	}
	n := time.Duration(batches)
	return benchRow{
		name: fmt.Sprintf("cwlogs handler, %.1f MiB batch (enriched)", mib(int64(text))), elapsed: el / n,
		rows: res.Records, cpu: (cpuTime(&ru1) - cpuTime(&ru0)) / n, out: out,
	}, zb.Len(), nil
}
