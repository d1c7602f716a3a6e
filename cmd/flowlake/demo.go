package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/lakesql"
	"github.com/flowlake/flowlake/shared/notify/email"
	"github.com/flowlake/flowlake/shared/notify/slack"
	"github.com/flowlake/flowlake/shared/pipeline"
	"github.com/flowlake/flowlake/shared/queries"
	"github.com/flowlake/flowlake/shared/why"
)

const demoUsage = `usage: flowlake demo [--dir DIR] [--records N] [--endpoint URL --bucket NAME]

Runs the whole pipeline on a generated day, with the code the Lambda
functions run:

  1. generates a day of flow logs for two accounts and their network
     interfaces, with every attack scenario injected (flowgen "all") and
     one broken connection (flowgen's why scenario reply-blocked), as
     VPC Flow Logs delivers them to S3: AWSLogs/<account>/vpcflowlogs/
     <region>/YYYY/MM/DD/<account>_vpcflowlogs_<region>_<fl-id>_
     <YYYYMMDDTHHmmZ>_<hash>.log.gz, one gzip file with its header line per
     account and 5 minutes;
  2. runs the ingest-s3 handler (pipeline.S3Handler) on them as SQS batches
     of S3 notifications, writing the enriched Parquet lake; then writes,
     with the same pipeline, the 14 days before for two interfaces (benign
     history, against which two more attacks on the day are unusual) and
     compacts them as the compact function does, with the hourly rollups
     the baseline rules read (kept when a rerun finds them);
  3. runs the scheduled detector's rules over the lake in DuckDB (the SQL
     Athena runs) and renders each finding as its email and Slack message;
  4. runs the saved queries (the Athena named queries) in DuckDB;
  5. answers, with flowlake why, the day's one broken connection (an
     instance whose PostgreSQL replies its subnet's network ACL rejects).

Everything goes under DIR (default ./flowlake-demo): raw/ (the raw bucket),
lake/ (the lake), findings.jsonl, email/ and slack/. With --endpoint, the
raw objects and the lake go to the bucket NAME of that S3-compatible server
(raw under AWSLogs/, the lake under flows/; credentials from the flags or
the AWS environment) and the lake is copied to DIR/lake for DuckDB. Running
it again gives the same lake and the same findings.

flags:`

// demoConfig is what one demo run does.
type demoConfig struct {
	dir      string
	records  int
	seed     uint64
	day      time.Time // the generated day (UTC midnight)
	region   string
	bucket   string
	endpoint string // "" for the local folder
	access   string
	secret   string
	shown    int              // findings whose email is printed
	rows     int              // rows shown per saved query
	now      func() time.Time // findings' detected_at
	bars     bool
}

// Demo defaults: two accounts of six interfaces each. A benign day of this
// size raises no finding (checked by TestDemo); much denser ones make the
// generator's background look like scans.
const (
	demoAccounts = 2
	demoENIs     = 6
	demoRecords  = 200_000
	demoBucket   = "flowlake-demo"
	demoPrefix   = "flows"
)

// runDemo implements `flowlake demo`.
func runDemo(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	c := demoConfig{shown: 2, rows: 8, now: time.Now}
	fs.StringVar(&c.dir, "dir", "flowlake-demo", "the demo's folder")
	fs.IntVar(&c.records, "records", demoRecords, "background records in the day (attacks are added)")
	fs.Uint64Var(&c.seed, "seed", 1, "generator seed")
	day := fs.String("day", "", "the day to generate, YYYY-MM-DD (default: yesterday, UTC, so the saved queries' last-7-days filter sees it)")
	fs.StringVar(&c.region, "region", "us-east-1", "the flow logs' region (and the endpoint's signing region)")
	fs.StringVar(&c.endpoint, "endpoint", "", "an S3-compatible endpoint URL (path style) for the raw objects and the lake")
	fs.StringVar(&c.bucket, "bucket", demoBucket, "with --endpoint: the bucket (created if missing)")
	fs.StringVar(&c.access, "access-key", "", "with --endpoint: access key (default: the AWS environment)")
	fs.StringVar(&c.secret, "secret-key", "", "with --endpoint: secret key (default: the AWS environment)")
	quiet := fs.Bool("no-progress", false, "plain progress lines even on a terminal")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, demoUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || c.records <= 0 || c.dir == "" {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	c.day = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	if *day != "" {
		t, err := time.Parse(time.DateOnly, *day)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake demo: --day: %v\n", err)
			return 2
		}
		c.day = t
	}
	if f, ok := sio.err.(*os.File); ok && !*quiet && term.IsTerminal(int(f.Fd())) {
		c.bars = true
	}
	if err := demo(ctx, sio, c); err != nil {
		fmt.Fprintf(sio.err, "flowlake demo: %v\n", err)
		return 1
	}
	return 0
}

// demoObject is one generated flow-log file.
type demoObject struct {
	key     string
	etag    string // MD5 of the content, as S3 gives a single-part put
	size    int64
	records int
}

// demoState is what the last run generated; a run with other parameters
// starts from an empty folder, so that its lake holds only its own rows.
type demoState struct {
	Day     string `json:"day"`
	Records int    `json:"records"`
	Seed    uint64 `json:"seed"`
	Region  string `json:"region"`
	Target  string `json:"target"`
}

func demo(ctx context.Context, sio stdio, c demoConfig) error {
	t0 := time.Now()
	out := sio.out
	step := func(n int, format string, a ...any) {
		fmt.Fprintf(out, "\n== %d. %s\n", n, fmt.Sprintf(format, a...))
	}
	rawDir := filepath.Join(c.dir, "raw")
	lakeDir := filepath.Join(c.dir, "lake")
	target := "folder " + c.dir
	if c.endpoint != "" {
		target = c.endpoint + "/" + c.bucket
	}
	if err := demoReset(c, demoState{Day: c.day.Format(time.DateOnly), Records: c.records, Seed: c.seed, Region: c.region, Target: target}, sio.err); err != nil {
		return err
	}
	var client *s3.Client
	if c.endpoint != "" {
		var err error
		if client, err = demoClient(ctx, c); err != nil {
			return err
		}
	}

	// 1. Generate.
	step(1, "generating %s: %d background records for %d accounts × %d interfaces, with every attack scenario", c.day.Format(time.DateOnly), c.records, demoAccounts, demoENIs)
	g0 := time.Now()
	objs, est, broken, err := demoGenerate(ctx, c, rawDir, client, sio.err)
	if err != nil {
		return err
	}
	var generated int64
	var rawBytes int64
	accounts := map[string]bool{}
	for _, o := range objs {
		generated += int64(o.records)
		rawBytes += o.size
		accounts[strings.Split(o.key, "/")[1]] = true
	}
	fmt.Fprintf(out, "%d records in %d gzip files (%.1f MiB), %d accounts, %d interfaces, in %s\n", generated, len(objs), mib(rawBytes),
		len(accounts), len(est.ENIs), time.Since(g0).Round(time.Millisecond))
	fmt.Fprintf(out, "e.g. s3://%s/%s\n", c.bucket, objs[0].key)
	fmt.Fprintf(out, "and one broken connection: %s cannot reach %s on port %d from %s\n", broken.Src, broken.Dst, broken.Port,
		c.day.Add(demoWhyAt).Format("15:04Z"))

	// 2. Ingest.
	step(2, "ingesting with the ingest-s3 handler (pipeline.S3Handler), %d SQS batches of S3 notifications", (len(objs)+9)/10)
	i0 := time.Now()
	p, err := demoPipeline(c, lakeDir, client, sio.err)
	if err != nil {
		return err
	}
	ingested, rejected, parts, err := demoIngest(ctx, c, p, objs, client, sio.err)
	if err != nil {
		return err
	}
	it := time.Since(i0)
	hist, err := demoHistory(ctx, c, p, est, lakeDir, client)
	if err != nil {
		return err
	}
	if c.endpoint != "" { // the flows, and the rollups beside them
		for _, prefix := range []string{demoPrefix, compact.RollupPrefix} {
			if err := demoMirror(ctx, client, c.bucket, prefix, filepath.Join(lakeDir, prefix)); err != nil {
				return err
			}
		}
	}
	db, err := lakesql.Open(ctx, lakeDir, nil)
	if err != nil {
		return err
	}
	var rows int64
	// The day's records end on it; the history's end before it.
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM flows WHERE "end" >= ?`, c.day.Unix()).Scan(&rows)
	var peers string
	if err == nil {
		peers, err = demoPeers(ctx, db)
	}
	db.Close()
	if err != nil {
		return fmt.Errorf("count lake rows: %w", err)
	}
	fmt.Fprintf(out, "%d records ingested, %d rejected, %d partitions, in %s (%.0f records/s)\n", ingested, rejected, parts,
		it.Round(time.Millisecond), float64(ingested)/it.Seconds())
	if hist.kept > 0 {
		fmt.Fprintf(out, "history: the %d days before, for %s, already in the lake (%d rollups), kept\n",
			flowgen.BaselineDays, strings.Join(hist.interfaces, " and "), hist.kept)
	} else {
		fmt.Fprintf(out, "history: the %d days before, for %s: %d benign records through the same pipeline, then compacted as the compact function does (%d partition-hours, one rollup each for the baseline rules), in %s\n",
			flowgen.BaselineDays, strings.Join(hist.interfaces, " and "), hist.records, hist.compacted.Compacted, hist.elapsed.Round(time.Millisecond))
	}
	where := lakeDir
	if c.endpoint != "" {
		where = fmt.Sprintf("s3://%s/%s/ (copied to %s)", c.bucket, demoPrefix, lakeDir)
	}
	fmt.Fprintf(out, "lake %s: %d rows of the day", where, rows)
	if rows == generated-rejected {
		fmt.Fprintln(out, ", one per record: a rerun overwrites its objects, it never adds rows")
	} else {
		fmt.Fprintf(out, "; want %d\n", generated-rejected)
		return fmt.Errorf("the lake holds %d rows for %d records", rows, generated-rejected)
	}
	fmt.Fprint(out, peers)

	// 3. Detect and render.
	step(3, "scheduled detection: %d rules as SQL over the lake (DuckDB here, Athena in AWS)", len(detect.Rules))
	// The generator's demo threat list, as flowlake threat-list import
	// writes it: the threat_lists table beside the flows.
	if _, err := importThreatListText(ctx, lakeDir, flowgen.DemoThreatListName, "flowgen demo list",
		[]byte(flowgen.DemoThreatList()), out, sio.err); err != nil {
		return err
	}
	if client != nil { // and in the bucket, where Athena and ingest read it
		if _, err := writeThreatList(ctx, &lake.S3Store{Client: client, Bucket: c.bucket}, "s3://"+c.bucket, flowgen.DemoThreatListName,
			"flowgen demo list", []byte(flowgen.DemoThreatList()), out, sio.err); err != nil {
			return err
		}
	}
	d0 := time.Now()
	set, err := detect.Compile(detect.Config{InternalPrefixes: []netip.Prefix{flowgen.EstateIPv6Prefix}, Now: c.now})
	if err != nil {
		return err
	}
	fs, err := duck.Detect(ctx, lakeDir, set, c.day, c.day.Add(24*time.Hour))
	if err != nil {
		return err
	}
	dt := time.Since(d0)
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		if d := b.Severity.Rank() - a.Severity.Rank(); d != 0 {
			return d
		}
		return a.WindowStart.Compare(b.WindowStart)
	})
	files, err := demoRender(c.dir, fs)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d findings in %s:\n", len(fs), dt.Round(time.Millisecond))
	for _, f := range fs {
		fmt.Fprintf(out, "  %-8s %-21s %s  %s\n", strings.ToUpper(string(f.Severity)), f.Rule, f.WindowStart.Format("15:04Z"), f.Entity)
	}
	for _, i := range demoShow(fs, c.shown) {
		f := &fs[i]
		fmt.Fprintf(out, "\n--- the email of finding %d (SNS email subscription) ---\nSubject: %s\n\n%s\n", i+1, email.Subject(f), strings.TrimRight(email.Render(f), "\n"))
	}
	fmt.Fprintf(out, "\nSlack messages (the notify-slack webhook's JSON): %s/slack/ (%d files); emails: %s/email/; findings: %s\n",
		c.dir, files, c.dir, filepath.Join(c.dir, "findings.jsonl"))

	// 4. Saved queries.
	qs := queries.All()
	step(4, "the %d saved queries (Athena named queries), in DuckDB; first %d rows each", len(qs), c.rows)
	db, err = lakesql.Open(ctx, lakeDir, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	limit := regexp.MustCompile(`LIMIT \d+\s*$`)
	for _, q := range qs {
		fmt.Fprintf(out, "\n-- %s: %s\n", q.Name, q.Description)
		rs, err := db.QueryContext(ctx, limit.ReplaceAllString(q.SQL, fmt.Sprintf("LIMIT %d", c.rows)))
		if err != nil {
			return fmt.Errorf("query %s: %w", q.Name, err)
		}
		err = printTable(out, rs)
		rs.Close()
		if err != nil {
			return fmt.Errorf("query %s: %w", q.Name, err)
		}
	}

	// 5. Why.
	step(5, "the broken connection: flowlake why %s %s %d, over the lake in DuckDB", broken.Src, broken.Dst, broken.Port)
	w0 := time.Now()
	// As flowlake why --lake asks it: the default window, from the lake's
	// newest records of the two addresses, with Parquet footers cached.
	q := why.Question{Src: broken.Src, Dst: broken.Dst, Port: int(broken.Port), Lookback: -1, Newest: newestHour(lakeDir)}
	if _, err := db.ExecContext(ctx, "SET parquet_metadata_cache = true"); err != nil {
		return err
	}
	answer, err := why.Ask(ctx, duck.Querier{DB: db}, q)
	if err != nil {
		return err
	}
	wt := time.Since(w0)
	if err := why.Render(out, answer); err != nil {
		return err
	}
	fmt.Fprintf(out, "answered in %s\n", wt.Round(time.Millisecond))

	// Summary.
	byRule := map[string]int{}
	for _, f := range fs {
		byRule[f.Rule]++
	}
	var rules []string
	for r, n := range byRule {
		rules = append(rules, fmt.Sprintf("%s ×%d", r, n))
	}
	sort.Strings(rules)
	fmt.Fprintf(out, "\n== done in %s\n", time.Since(t0).Round(100*time.Millisecond))
	fmt.Fprintf(out, "%d flow-log files → %d lake rows (%d rejected) → %d findings (%s)\n", len(objs), rows, rejected, len(fs), strings.Join(rules, ", "))
	fmt.Fprintf(out, "\nnext:\n")
	fmt.Fprintf(out, "  go run ./cmd/flowlake query --lake %s \"SELECT action, count(*) AS flows, sum(bytes) AS bytes FROM flows GROUP BY action\"\n", lakeDir)
	fmt.Fprintf(out, "  go run ./cmd/flowlake detect --lake %s --internal %s --min-severity high\n", lakeDir, flowgen.EstateIPv6Prefix)
	fmt.Fprintf(out, "  go run ./cmd/flowlake notify --render slack %s\n", filepath.Join(c.dir, "findings.jsonl"))
	fmt.Fprintf(out, "  go run ./cmd/flowlake why --lake %s %s %s %d\n", lakeDir, broken.Src, broken.Dst, broken.Port)
	fmt.Fprintf(out, "  go run ./cmd/flowlake detect --sql --since %s --until %s   (the Athena SQL)\n",
		c.day.Format(time.RFC3339), c.day.Add(time.Hour).Format(time.RFC3339))
	return nil
}

// demoShow picks up to n findings to show in full: the first, then the
// first of each other severity.
func demoShow(fs []finding.Finding, n int) []int {
	var out []int
	seen := map[finding.Severity]bool{}
	for i, f := range fs {
		if len(out) < n && !seen[f.Severity] {
			seen[f.Severity] = true
			out = append(out, i)
		}
	}
	return out
}

// demoReset empties the demo's folders when the last run generated
// something else (another day, size, seed or target), and records st.
func demoReset(c demoConfig, st demoState, w io.Writer) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(c.dir, "demo.json")
	var prev demoState
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &prev) == nil && prev != st {
		fmt.Fprintf(w, "the last demo in %s generated %s (%d records); starting afresh\n", c.dir, prev.Day, prev.Records)
		for _, sub := range []string{"raw", "lake", "slack", "email", "findings.jsonl"} {
			if err := os.RemoveAll(filepath.Join(c.dir, sub)); err != nil {
				return err
			}
		}
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// demoClient returns the S3 client of --endpoint and creates the bucket.
func demoClient(ctx context.Context, c demoConfig) (*s3.Client, error) {
	cfg, err := awsConfig(ctx, c.region, c.access, c.secret)
	if err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(cfg, s3At(c.endpoint))
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.bucket)}); err != nil {
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(c.bucket)}); err != nil {
			return nil, fmt.Errorf("create bucket %s at %s: %w", c.bucket, c.endpoint, err)
		}
	}
	return client, nil
}

// demoPeers lists the lake's busiest internet peers with their country and
// autonomous system, the enrichment of flowlake's GeoIP and ASN databases.
func demoPeers(ctx context.Context, db *sql.DB) (string, error) {
	rs, err := db.QueryContext(ctx, `SELECT peer, country, asn, org, count(*) AS n FROM (
	SELECT srcaddr AS peer, src_country AS country, src_asn AS asn, src_as_org AS org FROM flows WHERE src_ip_class = 'public'
	UNION ALL
	SELECT dstaddr, dst_country, dst_asn, dst_as_org FROM flows WHERE dst_ip_class = 'public'
) GROUP BY ALL ORDER BY n DESC, peer LIMIT 5`)
	if err != nil {
		return "", err
	}
	defer rs.Close()
	var b strings.Builder
	b.WriteString("busiest internet peers (country and AS from flowlake's open GeoIP and ASN databases):\n")
	for rs.Next() {
		var peer string
		var country, org sql.NullString
		var asn sql.NullInt64
		var n int64
		if err := rs.Scan(&peer, &country, &asn, &org, &n); err != nil {
			return "", err
		}
		as := "AS ?"
		if asn.Valid {
			as = fmt.Sprintf("AS%d %s", asn.Int64, org.String)
		}
		fmt.Fprintf(&b, "  %-22s %-2s  %-40s %d records\n", peer, cmp.Or(country.String, "?"), as, n)
	}
	return b.String(), rs.Err()
}

// demoBar returns a progress bar on a terminal, or nil.
func demoBar(c demoConfig, w io.Writer, total int64, what string) *progressbar.ProgressBar {
	if !c.bars {
		return nil
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
}

// demoFile is a flow-log file being written.
type demoFile struct {
	path    string
	key     string
	f       *os.File
	zw      *gzip.Writer
	bw      *bufio.Writer
	h       interface{ Sum([]byte) []byte } // MD5 of the gzip bytes
	size    int64
	records int
}

// The demo's broken connection: the why scenario injected into its day,
// and when its attempts start.
const (
	demoWhy   = "reply-blocked"
	demoWhyAt = 20 * time.Hour
)

// demoGenerate writes the day's files under rawDir/<bucket>/ (and puts
// them to the endpoint's bucket with client) and returns them in key
// order, with the estate and the broken connection's pair.
func demoGenerate(ctx context.Context, c demoConfig, rawDir string, client *s3.Client, progress io.Writer) ([]demoObject, *flowgen.Estate, flowgen.WhyQuestion, error) {
	fm := flowgen.RichFormat()
	sc, broken, err := flowgen.NewWhyScenarioOver(flowgen.Config{
		Seed: c.seed, Records: c.records, Format: fm, Start: c.day, Span: 24 * time.Hour,
		Accounts: demoAccounts, ENIs: demoENIs, Region: c.region,
	}, "all", demoWhy, c.day.Add(demoWhyAt))
	if err != nil {
		return nil, nil, broken, err
	}
	est := sc.Estate()
	sc.Background().AddBaselineAttacks(c.day.Add(demoBaselineAt), demoHistoryENIs[0], demoHistoryENIs[1])
	bar := demoBar(c, progress, int64(sc.Len()), "generating")
	if bar == nil {
		fmt.Fprintf(progress, "generating %d records ...\n", sc.Len())
	}
	const slot = 5 * 60
	type fileKey struct {
		account string
		slot    int64
	}
	open := map[fileKey]*demoFile{}
	var objs []demoObject
	var mu sync.Mutex
	finish := func(df *demoFile) error {
		if err := df.bw.Flush(); err != nil {
			return err
		}
		if err := df.zw.Close(); err != nil {
			return err
		}
		fi, err := df.f.Stat()
		if err != nil {
			return err
		}
		if err := df.f.Close(); err != nil {
			return err
		}
		o := demoObject{key: df.key, etag: hex.EncodeToString(df.h.Sum(nil)), size: fi.Size(), records: df.records}
		if client != nil {
			f, err := os.Open(df.path)
			if err != nil {
				return err
			}
			put, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(df.key), Body: f})
			f.Close()
			if err != nil {
				return fmt.Errorf("put s3://%s/%s: %w", c.bucket, df.key, err)
			}
			if e := strings.Trim(aws.ToString(put.ETag), `"`); e != "" {
				o.etag = e
			}
		}
		mu.Lock()
		objs = append(objs, o)
		mu.Unlock()
		return nil
	}
	header := fm.Header() + "\n"
	var line []byte
	latest := int64(0)
	for n := 0; ; n++ {
		rec, ok := sc.Next()
		if !ok {
			break
		}
		if bar != nil && n%4096 == 0 {
			bar.Set(n)
		}
		s := rec.End - rec.End%slot
		if s < latest-slot {
			s = latest // a late record goes to the current file, as AWS delivers it
		}
		latest = max(latest, s)
		k := fileKey{rec.AccountID, s}
		df := open[k]
		if df == nil {
			if df, err = demoCreate(rawDir, c.bucket, c.region, rec.AccountID, time.Unix(s, 0).UTC(), header); err != nil {
				return nil, nil, broken, err
			}
			open[k] = df
			// Files more than one interval old are complete.
			for ok, of := range open {
				if ok.slot < s-slot {
					if err := finish(of); err != nil {
						return nil, nil, broken, err
					}
					delete(open, ok)
				}
			}
		}
		line = rec.AppendText(line[:0], fm)
		line = append(line, '\n')
		if _, err := df.bw.Write(line); err != nil {
			return nil, nil, broken, err
		}
		df.records++
	}
	for _, df := range open {
		if err := finish(df); err != nil {
			return nil, nil, broken, err
		}
	}
	if bar != nil {
		bar.Finish()
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].key < objs[j].key })
	return objs, est, broken, nil
}

// demoCreate opens the file of account's interval at t, as VPC Flow Logs
// names it, and writes the header line.
func demoCreate(rawDir, bucket, region, account string, t time.Time, header string) (*demoFile, error) {
	id := sha256.Sum256([]byte("flow log of " + account))
	flID := "fl-" + hex.EncodeToString(id[:])[:17]
	stamp := t.Format("20060102T1504Z")
	h := sha256.Sum256([]byte(account + stamp))
	key := fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_%s_%s_%s.log.gz",
		account, region, t.Format("2006/01/02"), account, region, flID, stamp, hex.EncodeToString(h[:4]))
	path := filepath.Join(rawDir, bucket, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	md := md5.New()
	zw, _ := gzip.NewWriterLevel(io.MultiWriter(f, md), gzip.DefaultCompression)
	bw := bufio.NewWriterSize(zw, 64<<10)
	bw.WriteString(header)
	return &demoFile{path: path, key: key, f: f, zw: zw, bw: bw, h: md}, nil
}

// demoPipeline returns the ingest functions' pipeline, writing the lake
// under lakeDir, or to the endpoint's bucket with client.
func demoPipeline(c demoConfig, lakeDir string, client *s3.Client, progress io.Writer) (*pipeline.Pipeline, error) {
	ranges := filepath.Join(c.dir, "ip-ranges.json")
	if err := writeBenchRanges(ranges); err != nil {
		return nil, err
	}
	// Country and AS from flowlake's open databases, as the ingest
	// functions have them (built on the first run).
	cfg := enrich.Config{IPRanges: enrich.FileSource{Path: ranges}}
	groups := []string{enrich.GroupRecord, enrich.GroupIPRanges}
	if dbs, err := defaultDatabases(progress); err != nil {
		fmt.Fprintf(progress, "warning: country and ASN columns are NULL: %v\n", err)
	} else {
		cfg.GeoIPPath, cfg.ASNPath = dbs.GeoIP, dbs.ASN
		groups = append(groups, enrich.GroupGeoIP, enrich.GroupASN)
	}
	p := &pipeline.Pipeline{
		Prefix:       demoPrefix,
		Enricher:     &pipeline.LazyEnricher{Config: cfg},
		EnrichGroups: groups,
		Log:          pipeline.NewLogger(io.Discard, 0),
	}
	if client != nil {
		p.Store = &lake.S3Store{Client: client, Bucket: c.bucket}
	} else {
		p.Store = lake.DirStore{Root: lakeDir}
	}
	return p, nil
}

// demoIngest runs the S3 handler of p on SQS batches of ten
// notifications, two at a time (as concurrent Lambda invocations would),
// and returns the records ingested, rejected and the partitions written.
func demoIngest(ctx context.Context, c demoConfig, p *pipeline.Pipeline, objs []demoObject, client *s3.Client, progress io.Writer) (records, rejected int64, parts int, err error) {
	h := &pipeline.S3Handler{Pipeline: p, RawPrefix: "AWSLogs"}
	if client != nil {
		h.S3, h.LakeBucket = client, c.bucket
	} else {
		h.S3 = pipeline.DirObjects(filepath.Join(c.dir, "raw"))
	}
	var batches [][]byte
	for i := 0; i < len(objs); i += 10 {
		batches = append(batches, demoSQSEvent(c, objs[i:min(i+10, len(objs))], i))
	}
	bar := demoBar(c, progress, int64(len(objs)), "ingesting")
	if bar == nil {
		fmt.Fprintf(progress, "ingesting %d objects ...\n", len(objs))
	}
	var mu sync.Mutex
	partitions := map[string]bool{}
	var errs []error
	work := make(chan []byte)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for payload := range work {
				o, err := h.Process(ctx, payload)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for _, r := range o.All() {
					switch {
					case r.Error != "":
						errs = append(errs, fmt.Errorf("s3://%s/%s: %s", r.Bucket, r.Key, r.Error))
					case r.Skipped != "":
						errs = append(errs, fmt.Errorf("s3://%s/%s skipped: %s", r.Bucket, r.Key, r.Skipped))
					default:
						records += r.Records
						rejected += r.Rejected
						for _, pt := range r.Result.Partitions {
							partitions[pt] = true
						}
					}
					if bar != nil {
						bar.Add(1)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, b := range batches {
		work <- b
	}
	close(work)
	wg.Wait()
	if bar != nil {
		bar.Finish()
	}
	if len(errs) > 0 {
		return records, rejected, 0, fmt.Errorf("ingest: %w", errors.Join(errs...))
	}
	return records, rejected, len(partitions), nil
}

// demoSQSEvent is the SQS batch (one S3 notification per message) of objs,
// as the raw bucket's notifications reach the ingest function.
func demoSQSEvent(c demoConfig, objs []demoObject, first int) []byte {
	var ev events.SQSEvent
	for i, o := range objs {
		t := pipeline.KeyTime(o.key, time.Time{}).Add(10 * time.Minute)
		rec := events.S3EventRecord{
			EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: c.region, EventName: "ObjectCreated:Put", EventTime: t,
			S3: events.S3Entity{SchemaVersion: "1.0", Bucket: events.S3Bucket{Name: c.bucket, Arn: "arn:aws:s3:::" + c.bucket},
				Object: events.S3Object{Key: url.QueryEscape(o.key), Size: o.size, ETag: o.etag}},
		}
		body, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("demo-%05d", first+i), Body: string(body), EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:" + c.region + ":111122223333:flowlake-raw-events", AWSRegion: c.region,
		})
	}
	b, _ := json.Marshal(ev)
	return b
}

// demoRender writes findings.jsonl, one Slack message and one email per
// finding, replacing the previous run's, and returns how many messages.
func demoRender(dir string, fs []finding.Finding) (int, error) {
	for _, sub := range []string{"slack", "email"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return 0, err
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return 0, err
		}
	}
	var jl strings.Builder
	for i := range fs {
		f := &fs[i]
		b, err := json.Marshal(f)
		if err != nil {
			return 0, err
		}
		jl.Write(b)
		jl.WriteByte('\n')
		name := fmt.Sprintf("%02d-%s-%s", i+1, f.Rule, f.ID)
		sb, err := json.MarshalIndent(slack.Render(f), "", "  ")
		if err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, "slack", name+".json"), append(sb, '\n'), 0o644); err != nil {
			return 0, err
		}
		text := "Subject: " + email.Subject(f) + "\n\n" + email.Render(f)
		if err := os.WriteFile(filepath.Join(dir, "email", name+".txt"), []byte(text), 0o644); err != nil {
			return 0, err
		}
	}
	return len(fs), os.WriteFile(filepath.Join(dir, "findings.jsonl"), []byte(jl.String()), 0o644)
}

// demoMirror copies the lake's objects under prefix in bucket (Parquet,
// rollups and the compactor's manifests) to dir, for DuckDB (which cannot
// reach S3 offline), replacing what dir held.
func demoMirror(ctx context.Context, client *s3.Client, bucket, prefix, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	pg := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/")})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s/: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			rel := strings.TrimPrefix(key, prefix+"/")
			if !filepath.IsLocal(filepath.FromSlash(rel)) {
				continue
			}
			obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
			}
			path := filepath.Join(dir, filepath.FromSlash(rel))
			err = os.MkdirAll(filepath.Dir(path), 0o755)
			var f *os.File
			if err == nil {
				f, err = os.Create(path)
			}
			if err == nil {
				_, err = io.Copy(f, obj.Body)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			obj.Body.Close()
			if err != nil {
				return fmt.Errorf("copy s3://%s/%s: %w", bucket, key, err)
			}
		}
	}
	return nil
}
