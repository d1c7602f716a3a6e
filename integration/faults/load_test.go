package faults

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lakesql"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// Load sizes: bounded, so the whole suite stays in minutes on 2 cores.
const (
	loadObjects       = 32     // concurrent ingest-s3 invocations, one object each, one partition-hour
	loadObjectRecords = 25_000 // records per object
	loadBatches       = 1000   // CloudWatch Logs subscription batches, in a burst
	loadBatchEvents   = 200    // log events per batch
	loadConcurrency   = 32     // batches handled at once
	loadAttempts      = 3      // a failed invocation's attempts: Lambda retries an asynchronous one twice
	loadS3Account     = "100000000009"
	loadCWAccount     = "100000000010"
)

// loadResult is what a load child reports.
type loadResult struct {
	Invocations int        `json:"invocations"`
	Failed      []string   `json:"failed"`  // the invocations' whose last attempt failed
	Retried     []string   `json:"retried"` // the errors of attempts that were retried
	Records     int64      `json:"records"`
	Seconds     float64    `json:"seconds"`
	Keys        [][]string `json:"keys"` // per invocation
	PeakRSS     int64      `json:"peak_rss"`
}

// load runs both load tests, each in a child process (this test binary,
// runLoad) with the function's environment, so that its peak RSS is
// the handler's own.
func (s *suite) load(t *testing.T) {
	// 32 objects of one partition-hour, delivered at once.
	hour := s.hour.Add(time.Hour)
	var msgs []string
	var lines [][]byte
	for i := range loadObjects {
		text, l := generate(t, flowgen.Config{Seed: uint64(900 + i), Records: loadObjectRecords, Start: hour, Span: time.Hour, Accounts: 1, ENIs: 8}, "benign")
		o := &object{key: key(loadS3Account, hour, fmt.Sprintf("load%02d", i)), gz: gzipped(t, text)}
		o.etag = s.s3.Put(t, rawBucket, o.key, bytes.NewReader(o.gz))
		rec := events.S3EventRecord{EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: stack.Region, EventName: "ObjectCreated:Put", EventTime: time.Now().UTC(),
			S3: events.S3Entity{Bucket: events.S3Bucket{Name: rawBucket}, Object: events.S3Object{Key: url.QueryEscape(o.key), Size: int64(len(o.gz)), ETag: o.etag}}}
		b, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
		msgs = append(msgs, string(b))
		lines = append(lines, l)
	}
	res := s.loadChild(t, "ingest-s3", msgs)
	lost, doubled, got := s.rows(t, loadS3Account, writeLines(t, "load.lines", bytes.Join(lines, nil)))
	s.checkKeys(t, loadS3Account, res)
	if got != loadObjects*loadObjectRecords {
		t.Errorf("the lake holds %d rows of the %d objects; want %d", got, loadObjects, loadObjects*loadObjectRecords)
	}
	s.record(t, row{fault: fmt.Sprintf("load: %d concurrent ingest-s3 invocations, objects of one partition-hour", loadObjects),
		did: fmt.Sprintf("%d records in %.2f s: %.0f records/s, peak RSS %s; %d objects written, names unique, none lost or overwritten%s",
			res.Records, res.Seconds, float64(res.Records)/res.Seconds, mib(res.PeakRSS), countKeys(res), retried(t, res)),
		rowsLost: lost, rowsDoubled: doubled})

	res = s.loadChild(t, "ingest-cwlogs", nil)
	s.checkKeys(t, loadCWAccount, res)
	got = s.count(t, loadCWAccount)
	want := int64(loadBatches * loadBatchEvents)
	if res.Records != want {
		t.Errorf("the handlers ingested %d records; want %d", res.Records, want)
	}
	var lostCW, dupCW int64
	if got < want {
		lostCW = want - got
	} else {
		dupCW = got - want
	}
	s.record(t, row{fault: fmt.Sprintf("load: %d CloudWatch Logs batches in a burst (%d at once)", loadBatches, loadConcurrency),
		did: fmt.Sprintf("%d records in %.2f s: %.0f records/s, peak RSS %s; %d objects, names unique, none lost or overwritten; %d rows%s",
			res.Records, res.Seconds, float64(res.Records)/res.Seconds, mib(res.PeakRSS), countKeys(res), got, retried(t, res)),
		rowsLost: lostCW, rowsDoubled: dupCW})
}

// retried logs the errors of the attempts the load retried and returns
// how many there were, for the closing table.
func retried(t *testing.T, r loadResult) string {
	t.Helper()
	if len(r.Retried) == 0 {
		return ""
	}
	t.Logf("%d attempts failed and were retried; the first: %s", len(r.Retried), r.Retried[0])
	return fmt.Sprintf(" (%d failed attempts retried, as Lambda retries them)", len(r.Retried))
}

// count returns the lake's rows of account.
func (s *suite) count(t *testing.T, account string) int64 {
	t.Helper()
	db, err := lakesql.Open(context.Background(), s.lakeDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM flows WHERE aws_account = ?", account).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func countKeys(r loadResult) int {
	n := 0
	for _, ks := range r.Keys {
		n += len(ks)
	}
	return n
}

// checkKeys asserts that every invocation succeeded, that no two wrote the
// same object (names unique: nothing overwritten), and that the lake's
// objects of account are exactly those they reported (nothing lost).
func (s *suite) checkKeys(t *testing.T, account string, r loadResult) {
	t.Helper()
	if len(r.Failed) != 0 {
		t.Errorf("%d of %d invocations failed: %v", len(r.Failed), r.Invocations, r.Failed[:min(3, len(r.Failed))])
	}
	seen := map[string]bool{}
	for _, ks := range r.Keys {
		for _, k := range ks {
			if seen[k] {
				t.Errorf("object %s written by two invocations", k)
			}
			seen[k] = true
		}
	}
	var onDisk []string
	root := filepath.Join(s.lakeRoot, pipeline.DefaultLakePrefix, "aws_account="+account)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			rel, _ := filepath.Rel(s.lakeRoot, p)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return nil
	})
	var reported []string
	for k := range seen {
		reported = append(reported, k)
	}
	slices.Sort(onDisk)
	slices.Sort(reported)
	if !slices.Equal(onDisk, reported) {
		t.Errorf("the lake holds %d objects of %s; the invocations reported %d", len(onDisk), account, len(reported))
	}
}

// loadChild runs runLoad in a child process with fn's environment
// and returns its result.
func (s *suite) loadChild(t *testing.T, fn string, msgs []string) loadResult {
	t.Helper()
	in := filepath.Join(t.TempDir(), "load.json")
	b, _ := json.Marshal(msgs)
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// In the function's folder, as Lambda runs it (/var/task): the files
	// its environment names relative to it are there.
	root := filepath.Dir(s.fns[fn].Bootstrap)
	cmd := exec.Command(exe)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), s.env[fn]...)
	cmd.Env = append(cmd.Env, "LAMBDA_TASK_ROOT="+root)
	cmd.Env = append(cmd.Env, "FAULTS_LOAD_CHILD="+fn, "FAULTS_LOAD_INPUT="+in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("load child %s: %v\n%s\n%s", fn, err, out.String(), lastLines(errb.String(), 20))
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if js, ok := strings.CutPrefix(l, "LOAD-RESULT "); ok {
			var r loadResult
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("load child %s: no result\n%s\n%s", fn, out.String(), lastLines(errb.String(), 20))
	return loadResult{}
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}

// TestMain runs the load child instead of the tests when this test binary
// is one (see loadChild).
func TestMain(m *testing.M) {
	if fn := os.Getenv("FAULTS_LOAD_CHILD"); fn != "" {
		if err := runLoad(fn); err != nil {
			fmt.Fprintf(os.Stderr, "load child %s: %v\n", fn, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runLoad is the load child: it wires the handler as the function's
// main.go does, from this process's environment (the function's), runs
// the load, and prints the result.
func runLoad(fn string) error {
	ctx := context.Background()
	pipeline.SetMemoryLimit(os.Getenv)
	env, err := pipeline.LoadEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("the function's environment: %w", err)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, env.S3Options)
	p, err := env.Pipeline(pipeline.Clients{S3: client, EC2: ec2.NewFromConfig(awsCfg, env.EC2Options),
		SNS: sns.NewFromConfig(awsCfg), DynamoDB: dynamodb.NewFromConfig(awsCfg)}, fn, os.Stderr, &bytes.Buffer{})
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	var res loadResult
	var mu sync.Mutex
	var t0 time.Time
	switch fn {
	case "ingest-s3":
		b, err := os.ReadFile(os.Getenv("FAULTS_LOAD_INPUT"))
		if err != nil {
			return fmt.Errorf("the messages: %w", err)
		}
		var msgs []string
		if err := json.Unmarshal(b, &msgs); err != nil {
			return fmt.Errorf("the messages: %w", err)
		}
		h := &pipeline.S3Handler{Pipeline: p, S3: client, LakeBucket: env.LakeBucket, RawPrefix: env.RawPrefix}
		var wg sync.WaitGroup
		t0 = time.Now()
		for i, m := range msgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "load-" + strconv.Itoa(i), Body: m, EventSource: "aws:sqs"}}}
				// A failed message is received again (SQS), up to the
				// attempts Lambda's retries give it; its last attempt counts.
				var errs []string
				var records int64
				var keys [][]string
				for attempt := 1; attempt <= loadAttempts; attempt++ {
					errs, records, keys = nil, 0, nil
					o, err := h.Process(ctx, mustJSON(ev))
					if err != nil {
						errs = append(errs, err.Error())
					}
					for _, mr := range o.Messages {
						if mr.Error != "" {
							errs = append(errs, mr.Error)
						}
						for _, r := range mr.Objects {
							records += r.Records
							keys = append(keys, r.Keys)
						}
					}
					if len(errs) == 0 {
						break
					}
					mu.Lock()
					res.Retried = append(res.Retried, errs...)
					mu.Unlock()
				}
				mu.Lock()
				defer mu.Unlock()
				res.Invocations++
				res.Failed = append(res.Failed, errs...)
				res.Records += records
				res.Keys = append(res.Keys, keys...)
			}()
		}
		wg.Wait()
	case "ingest-cwlogs":
		payloads := cwPayloads(env.Format)
		h := &pipeline.CloudWatchHandler{Pipeline: p, Format: env.Format, Region: env.Region}
		work := make(chan []byte)
		var wg sync.WaitGroup
		t0 = time.Now()
		for range loadConcurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for pl := range work {
					var ev events.CloudwatchLogsEvent
					json.Unmarshal(pl, &ev)
					// A failed asynchronous invocation is retried by
					// Lambda (twice); its last attempt counts.
					var r pipeline.CloudWatchResult
					var err error
					for attempt := 1; attempt <= loadAttempts; attempt++ {
						if r, err = h.Handle(ctx, ev); err == nil {
							break
						}
						mu.Lock()
						res.Retried = append(res.Retried, err.Error())
						mu.Unlock()
					}
					mu.Lock()
					res.Invocations++
					if err != nil {
						res.Failed = append(res.Failed, err.Error())
					} else {
						res.Records += r.Records
						res.Keys = append(res.Keys, r.Keys)
					}
					mu.Unlock()
				}
			}()
		}
		for _, pl := range payloads {
			work <- pl
		}
		close(work)
		wg.Wait()
	default:
		return fmt.Errorf("no load for %s", fn)
	}
	res.Seconds = time.Since(t0).Seconds()
	res.PeakRSS, _ = stack.PeakRSS(os.Getpid())
	fmt.Printf("LOAD-RESULT %s\n", mustJSON(res))
	return nil
}

// cwPayloads returns the subscription payloads of the CloudWatch load: one
// stream per interface of an estate in loadCWAccount, loadBatchEvents log
// events a batch, in the flow log's format.
func cwPayloads(fm *flowlog.Format) [][]byte {
	g := flowgen.NewGenerator(flowgen.Config{Seed: 1000, Format: fm, Accounts: 1, ENIs: 16, Start: time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)})
	var out [][]byte
	var line []byte
	id := 0
	for b := range loadBatches {
		d := events.CloudwatchLogsData{Owner: loadCWAccount, LogGroup: stackName + "-FlowLogsLogGroup", LogStream: fmt.Sprintf("eni-%017x-all", b%16),
			SubscriptionFilters: []string{stackName + "-FlowLogsSubscription"}, MessageType: pipeline.MessageData}
		for range loadBatchEvents {
			rec := g.Next()
			line = rec.AppendText(line[:0], fm)
			id++
			d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{ID: fmt.Sprintf("%056d", id), Timestamp: rec.Start * 1000, Message: string(line)})
		}
		js, _ := json.Marshal(d)
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(js)
		zw.Close()
		out = append(out, mustJSON(events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(z.Bytes())}}))
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
