package integration

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	kgzip "github.com/klauspost/compress/gzip"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/lakesql"
)

const (
	rawBucket  = "raw"
	lakeBucket = "lake"
)

// flowKey returns an S3 delivery key of account, under a user prefix with
// characters S3 URL-encodes in events.
func flowKey(account, hash string) string {
	return fmt.Sprintf("vpc logs+team 100%%/AWSLogs/%s/vpcflowlogs/us-east-1/2026/11/24/%s_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60718_20261124T0005Z_%s.log.gz", account, account, hash)
}

// gen returns a gzip flow-log file of n records with its header.
func gen(t *testing.T, n int, fm *flowlog.Format, seed uint64) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := flowgen.Write(&b, flowgen.Config{Seed: seed, Records: n, Format: fm, Header: true, Gzip: true}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipText(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

type object struct{ key, etag string }

// s3Record is the S3 event record of an object put, with the key encoded
// as S3 encodes it.
func s3Record(o object, size int) events.S3EventRecord {
	return events.S3EventRecord{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: "us-east-1", EventName: "ObjectCreated:Put",
		EventTime: time.Date(2026, 11, 24, 0, 10, 0, 0, time.UTC),
		S3: events.S3Entity{SchemaVersion: "1.0", Bucket: events.S3Bucket{Name: rawBucket, Arn: "arn:aws:s3:::" + rawBucket},
			Object: events.S3Object{Key: url.QueryEscape(o.key), Size: int64(size), ETag: strings.Trim(o.etag, `"`)}},
	}
}

// sqsEvent wraps one S3 event per object in an SQS batch; message ids are
// "m0", "m1", ...
func sqsEvent(t *testing.T, bucket string, objs ...object) []byte {
	t.Helper()
	var ev events.SQSEvent
	for i, o := range objs {
		rec := s3Record(o, 1)
		rec.S3.Bucket.Name = bucket
		body, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: string(body),
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:raw-created", AWSRegion: "us-east-1"})
	}
	b, _ := json.Marshal(ev)
	return b
}

// sqsBodies wraps each body in an SQS message of one batch; message ids
// are "b0", "b1", ...
func sqsBodies(bodies ...[]byte) []byte {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("b%d", i), Body: string(b),
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:raw-created", AWSRegion: "us-east-1"})
	}
	b, _ := json.Marshal(ev)
	return b
}

// failures returns the batchItemFailures of an SQS response, failing the
// test on a handler error.
func failures(t *testing.T, body []byte) []string {
	t.Helper()
	var resp struct {
		events.SQSEventResponse
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.ErrorType != "" {
		t.Fatalf("response %s: %v", body, err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}

type env struct {
	s3       *stack.S3
	lakeDir  string
	ingestS3 *stack.Function
	ingestCW *stack.Function
}

func start(t *testing.T, extra ...string) *env {
	t.Helper()
	e := &env{s3: stack.StartS3(t)}
	e.s3.Bucket(t, rawBucket)
	e.lakeDir = e.s3.Bucket(t, lakeBucket)
	base := append(e.s3.Env(), "FLOWLAKE_LAKE_BUCKET="+lakeBucket, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256")
	base = append(base, extra...)
	e.ingestS3 = stack.StartFunction(t, stack.Bootstrap(t, "./functions/ingest-s3"), base...)
	e.ingestCW = stack.StartFunction(t, stack.Bootstrap(t, "./functions/ingest-cwlogs"),
		append(base, "FLOWLAKE_FLOW_LOG_FORMAT="+flowgen.RichFormatString)...)
	return e
}

func (e *env) put(t *testing.T, key string, body []byte) object {
	return object{key, e.s3.Put(t, rawBucket, key, bytes.NewReader(body))}
}

// count returns the rows of the lake for an account, read with DuckDB from
// the bucket's folder.
func (e *env) count(t *testing.T, account string) int64 {
	t.Helper()
	ctx := context.Background()
	db, err := lakesql.Open(ctx, filepath.Join(e.lakeDir, "flows"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM flows WHERE aws_account = ?", account).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// files returns the lake bucket's objects (relative paths), sorted.
func (e *env) files(t *testing.T) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(e.lakeDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(e.lakeDir, p)
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && rel != "." {
			return fs.SkipDir // versitygw's own metadata
		}
		if !d.IsDir() {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func TestIngest(t *testing.T) {
	e := start(t, "FLOWLAKE_MAX_OBJECT_BYTES=2000000", "FLOWLAKE_MAX_INFLATE_RATIO=20")

	t.Run("SQSRedeliveryNoDuplicates", func(t *testing.T) {
		a := e.put(t, flowKey("111111111111", "aaaa0001"), gen(t, 20000, flowgen.RichFormat(), 1))
		b := e.put(t, flowKey("111111111111", "aaaa0002"), gen(t, 15000, nil, 2))
		ev := sqsEvent(t, rawBucket, a, b)
		var first []string
		for i := range 3 {
			if f := failures(t, e.ingestS3.Invoke(t, ev)); len(f) != 0 {
				t.Fatalf("delivery %d: batchItemFailures %v", i+1, f)
			}
			if i == 0 {
				first = e.files(t)
			} else if got := e.files(t); !slices.Equal(got, first) {
				t.Fatalf("delivery %d changed the lake's objects:\n%v\nwant\n%v", i+1, got, first)
			}
		}
		if n := e.count(t, "111111111111"); n != 35000 {
			t.Errorf("rows = %d after 3 deliveries; want 35000", n)
		}
	})

	t.Run("PoisonFailsOnlyItsMessage", func(t *testing.T) {
		good := e.put(t, flowKey("222222222222", "bbbb0001"), gen(t, 5000, nil, 3))
		full := gen(t, 5000, nil, 4)
		damaged := e.put(t, flowKey("222222222222", "bbbb0002"), full[:len(full)/2]) // truncated gzip: keeps its first records
		hdr := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
		bomb := e.put(t, flowKey("222222222222", "bbbb0003"), gzipText(hdr+strings.Repeat("2 222222222222 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1795478400 1795478460 ACCEPT OK\n", 400000)))
		bigObj := gen(t, 120000, flowgen.RichFormat(), 5)
		if len(bigObj) <= 2000000 {
			t.Fatalf("the too-large object is %d bytes; want over the limit of 2000000", len(bigObj))
		}
		big := e.put(t, flowKey("222222222222", "bbbb0004"), bigObj)
		body := e.ingestS3.Invoke(t, sqsEvent(t, rawBucket, good, damaged, bomb, big))
		if f := failures(t, body); !slices.Equal(f, []string{"m2", "m3"}) {
			t.Fatalf("batchItemFailures = %v; want [m2 m3] (bomb, too large: the damaged object succeeds)", f)
		}
		logs := e.ingestS3.Logs.String()
		for _, want := range []string{"object damaged", "corrupt compressed stream at byte " + strconv.Itoa(len(full)/2), "decompression bomb", "over the limit of 2000000"} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs lack %q", want)
			}
		}
		// The damaged object's whole lines before the cut, as the same
		// inflater reads them, less the header.
		zr, _ := kgzip.NewReader(bytes.NewReader(full[:len(full)/2]))
		text, _ := io.ReadAll(zr)
		kept := int64(bytes.Count(text, []byte("\n")) - 1)
		if n := e.count(t, "222222222222"); n != 5000+kept || kept < 1000 {
			t.Errorf("rows = %d; want the good object's 5000 and the %d before the damage", n, kept)
		}
	})

	t.Run("BadLinesKeepGoodRows", func(t *testing.T) {
		hdr := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
		text := hdr +
			"2 333333333333 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1795478400 1795478460 ACCEPT OK\n" +
			"2 333333333333 eni-1 10.0.0.1 10.0.0.999 1 2 6 1 1 1795478400 1795478460 ACCEPT OK\n" +
			"2 333333333333 eni-1 10.0.0.1 10.0.0.3 1 2 6 1 1 1795478400 1795478460 ACCEPT OK\n" +
			"garbage\n" +
			"2 333333333333 eni-1 - - - - - - - 1795478400 1795478460 - NODATA\n"
		o := e.put(t, flowKey("333333333333", "cccc0001"), gzipText(text))
		for range 2 {
			if f := failures(t, e.ingestS3.Invoke(t, sqsEvent(t, rawBucket, o))); len(f) != 0 {
				t.Fatalf("batchItemFailures %v", f)
			}
		}
		if n := e.count(t, "333333333333"); n != 3 {
			t.Errorf("rows = %d; want 3 good rows", n)
		}
		// The function enriches: the record-derived columns are there.
		db, err := lakesql.Open(context.Background(), filepath.Join(e.lakeDir, "flows"), lake.TableSchema)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var tcp int
		if err := db.QueryRow("SELECT count(*) FROM flows WHERE aws_account = '333333333333' AND protocol_name = 'tcp'").Scan(&tcp); err != nil || tcp != 2 {
			t.Errorf("tcp rows by protocol_name = %d, %v; want 2", tcp, err)
		}
		var rejects []string
		for _, f := range e.files(t) {
			if strings.HasPrefix(f, "rejects/") {
				b, _ := os.ReadFile(filepath.Join(e.lakeDir, f))
				if strings.Contains(string(b), "333333333333") {
					rejects = append(rejects, string(b))
				}
			}
		}
		if len(rejects) != 1 || !strings.Contains(rejects[0], `"line":3`) || !strings.Contains(rejects[0], `"line":5`) {
			t.Errorf("rejects samples = %q; want one with lines 3 and 5", rejects)
		}
	})

	t.Run("OwnOutputAndOtherShapes", func(t *testing.T) {
		before := e.files(t)
		var own []object
		for _, f := range before[:2] {
			own = append(own, object{key: f})
		}
		if f := failures(t, e.ingestS3.Invoke(t, sqsEvent(t, lakeBucket, own...))); len(f) != 0 {
			t.Fatalf("own output: batchItemFailures %v", f)
		}
		// The shapes the deployed function takes in a message body: an S3
		// event of the lake's own output (skipped), an EventBridge "Object
		// Created" event (an EventBridge rule targeting the queue), and
		// S3's s3:TestEvent. The binary's handler is SQS only
		// (pipeline.S3Handler.HandleSQS), as the stack wires it.
		rec := s3Record(object{key: before[0]}, 1)
		rec.S3.Bucket.Name = lakeBucket
		direct, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
		if f := failures(t, e.ingestS3.Invoke(t, sqsBodies(direct))); len(f) != 0 {
			t.Fatalf("S3 event of own output: batchItemFailures %v", f)
		}
		if got := e.files(t); !slices.Equal(got, before) {
			t.Fatalf("the function read its own output: objects went from %d to %d", len(before), len(got))
		}
		if !strings.Contains(e.ingestS3.Logs.String(), "the lake's own output") {
			t.Error("no logged reason for skipping the lake's output")
		}

		o := e.put(t, flowKey("444444444444", "dddd0001"), gen(t, 1000, nil, 6))
		eb, _ := json.Marshal(map[string]any{"version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3",
			"account": "123456789012", "time": "2026-11-24T00:10:00Z", "region": "us-east-1", "resources": []string{"arn:aws:s3:::raw"},
			"detail": map[string]any{"version": "0", "bucket": map[string]any{"name": rawBucket},
				"object": map[string]any{"key": o.key, "size": 1, "etag": strings.Trim(o.etag, `"`)}, "reason": "PutObject"}})
		test, _ := os.ReadFile(filepath.Join(stack.RepoRoot(t), "events", "s3-test-event.json"))
		if f := failures(t, e.ingestS3.Invoke(t, sqsBodies(eb, test))); len(f) != 0 {
			t.Fatalf("EventBridge and s3:TestEvent bodies: batchItemFailures %v", f)
		}
		// A direct S3 event is not what the function takes: it fails, and
		// says so, rather than being guessed at.
		if body := e.ingestS3.Invoke(t, direct); !bytes.Contains(body, []byte("batchItemFailures")) && !bytes.Contains(body, []byte("errorType")) {
			t.Errorf("a direct S3 event: %s; want it refused", body)
		}
		if n := e.count(t, "444444444444"); n != 1000 {
			t.Errorf("EventBridge rows = %d; want 1000", n)
		}
	})

	t.Run("CloudWatchControlWritesNothing", func(t *testing.T) {
		before := e.files(t)
		ctl, _ := os.ReadFile(filepath.Join(stack.RepoRoot(t), "events", "cwlogs-control.json"))
		if body := e.ingestCW.Invoke(t, ctl); bytes.Contains(body, []byte("errorType")) || !bytes.Contains(body, []byte("CONTROL_MESSAGE")) {
			t.Fatalf("control message: %s", body)
		}
		if got := e.files(t); !slices.Equal(got, before) {
			t.Errorf("a control message wrote objects")
		}
	})

	t.Run("CloudWatchRetriesOverwrite", func(t *testing.T) {
		g := flowgen.NewGenerator(flowgen.Config{Seed: 7, Format: flowgen.RichFormat(), Accounts: 1})
		fm := flowgen.RichFormat()
		data := events.CloudwatchLogsData{MessageType: "DATA_MESSAGE", Owner: "555555555555", LogGroup: "/flowlake/flows",
			LogStream: "eni-0123456789abcdef0-all", SubscriptionFilters: []string{"flowlake"}}
		var line []byte
		for i := range 3000 {
			rec := g.Next()
			line = rec.AppendText(line[:0], fm)
			data.LogEvents = append(data.LogEvents, events.CloudwatchLogsLogEvent{
				ID: fmt.Sprintf("38195194023612818273457920139581329419509254320%09d", i), Timestamp: rec.Start * 1000, Message: string(line)})
		}
		data.LogEvents = append(data.LogEvents, events.CloudwatchLogsLogEvent{ID: "38195194023612818273457920139581329419509254329999999999", Timestamp: 1795478400000, Message: "5 not a record"})
		js, _ := json.Marshal(data)
		ev, _ := json.Marshal(events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(gzipText(string(js)))}})
		for range 3 {
			body := e.ingestCW.Invoke(t, ev)
			if bytes.Contains(body, []byte("errorType")) || !bytes.Contains(body, []byte(`"records":3000`)) || !bytes.Contains(body, []byte(`"rejected":1`)) {
				t.Fatalf("cwlogs: %s", body)
			}
		}
		if n := e.count(t, "555555555555"); n != 3000 {
			t.Errorf("rows = %d after 3 deliveries; want 3000", n)
		}
	})
}

// TestLambdasHaveNoDuckDB keeps the 70 MB cgo DuckDB out of the functions.
func TestLambdasHaveNoDuckDB(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./functions/...")
	cmd.Dir = stack.RepoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(strings.ToLower(p), "duckdb") {
			t.Errorf("a Lambda function depends on %s", p)
		}
	}
}
