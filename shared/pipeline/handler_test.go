package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

const rawBucket = "flowlake-raw-123456789012"

// decode reads events/name into an event of type T, as the Lambda runtime
// does for a typed handler.
func decode[T any](t *testing.T, name string) T {
	t.Helper()
	var ev T
	if err := json.Unmarshal(loadEvent(t, name), &ev); err != nil {
		t.Fatalf("events/%s: %v", name, err)
	}
	return ev
}

// loadEvent reads events/name.
func loadEvent(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type testLake struct {
	dir     string
	p       *Pipeline
	logs    bytes.Buffer
	metrics bytes.Buffer
}

func newTestLake(t *testing.T) *testLake {
	t.Helper()
	tl := &testLake{dir: t.TempDir()}
	tl.p = &Pipeline{
		Store:   lake.DirStore{Root: tl.dir},
		Prefix:  "flows",
		Log:     NewLogger(&tl.logs, 0),
		Metrics: &Metrics{W: &tl.metrics, Function: "test"},
	}
	return tl
}

func (tl *testLake) s3Handler() *S3Handler {
	return &S3Handler{Pipeline: tl.p, S3: DirObjects(filepath.Join("..", "..", "events", "raw"))}
}

// files returns the lake's files, relative, sorted.
func (tl *testLake) files(t *testing.T) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(tl.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(tl.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// rows counts the Parquet rows in the lake.
func (tl *testLake) rows(t *testing.T) int64 {
	t.Helper()
	var n int64
	for _, f := range tl.files(t) {
		if !strings.HasSuffix(f, ".parquet") {
			continue
		}
		fh, err := os.Open(filepath.Join(tl.dir, f))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := fh.Stat()
		pf, err := parquet.OpenFile(fh, st.Size())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n += pf.NumRows()
		fh.Close()
	}
	return n
}

func TestCloudWatchData(t *testing.T) {
	tl := newTestLake(t)
	h := &CloudWatchHandler{Pipeline: tl.p}
	var ev events.CloudwatchLogsEvent
	if err := json.Unmarshal(loadEvent(t, "cwlogs-data.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	var first []string
	for i := range 3 { // CloudWatch retries the same batch: no duplicates
		out, err := h.Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if out.Records != 4 || out.Rejected != 1 || out.Events != 5 || out.RejectsKey == "" {
			t.Fatalf("Handle = %+v; want 4 records, 1 rejected of 5 events", out)
		}
		if i == 0 {
			first = tl.files(t)
		} else if got := tl.files(t); !slices.Equal(got, first) {
			t.Fatalf("retry %d wrote %v; want %v", i, got, first)
		}
	}
	if n := tl.rows(t); n != 4 {
		t.Errorf("lake rows = %d; want 4", n)
	}
	for _, f := range first {
		if !strings.HasPrefix(f, "flows/aws_account=123456789012/aws_region=unknown/day=2026-11-24/hour=00/") && !strings.HasPrefix(f, "rejects/") {
			t.Errorf("unexpected object %s", f)
		}
	}
	rj := readRejects(t, filepath.Join(tl.dir, filepath.FromSlash(first[len(first)-1])))
	if len(rj) != 1 || rj[0].Line != 5 || rj[0].Field != "dstport" || rj[0].Rejected != 1 {
		t.Errorf("rejects = %+v; want line 5 dstport", rj)
	}
	if !strings.Contains(tl.logs.String(), `"requestId":"req-1"`) {
		t.Errorf("logs lack the request id:\n%s", tl.logs.String())
	}
	var emf map[string]any
	line, _, _ := strings.Cut(tl.metrics.String(), "\n")
	if err := json.Unmarshal([]byte(line), &emf); err != nil {
		t.Fatal(err)
	}
	if emf["Records"] != 4.0 || emf["RejectedLines"] != 1.0 || emf["NoDataRecords"] != 1.0 || emf["DeliveryLag"] == nil || emf["_aws"] == nil {
		t.Errorf("EMF line = %s", line)
	}
}

func readRejects(t *testing.T, path string) []Reject {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []Reject
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r Reject
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, r)
	}
	return out
}

func TestCloudWatchControlWritesNothing(t *testing.T) {
	tl := newTestLake(t)
	h := &CloudWatchHandler{Pipeline: tl.p}
	var ev events.CloudwatchLogsEvent
	json.Unmarshal(loadEvent(t, "cwlogs-control.json"), &ev)
	out, err := h.Handle(context.Background(), ev)
	if err != nil || out.MessageType != MessageControl || out.Ignored == "" {
		t.Fatalf("Handle(control) = %+v, %v", out, err)
	}
	if f := tl.files(t); len(f) != 0 {
		t.Errorf("control message wrote %v", f)
	}
}

func TestCloudWatchFormat(t *testing.T) {
	tl := newTestLake(t)
	fm := flowlog.MustParseFormat("${srcaddr} ${dstaddr} ${start} ${end}")
	h := &CloudWatchHandler{Pipeline: tl.p, Format: fm}
	ev := cwEvent(t, "10.0.0.1 10.0.0.2 1795478400 1795478460", "account-id", "10.0.0.3 10.0.0.4 1795478400 1795478460")
	out, err := h.Handle(context.Background(), ev)
	if err != nil || out.Records != 2 || out.Rejected != 1 {
		t.Fatalf("Handle = %+v, %v; want 2 records, 1 rejected", out, err)
	}
}

// TestCloudWatchPartitions: a batch whose format has neither region nor
// times lands under the log group owner, the function's own region and the
// batch's time, never under aws_region=unknown or day=1970-01-01, which
// Athena's partition projection would never read; a record's own region
// still wins.
func TestCloudWatchPartitions(t *testing.T) {
	for _, tc := range []struct {
		format, msg, want string
	}{
		{"${srcaddr} ${dstaddr}", "10.0.0.1 10.0.0.2", "flows/aws_account=123456789012/aws_region=eu-west-3/day=2026-11-24/hour=00/"},
		{"${srcaddr} ${dstaddr} ${region}", "10.0.0.1 10.0.0.2 ap-south-2", "flows/aws_account=123456789012/aws_region=ap-south-2/day=2026-11-24/hour=00/"},
		{"${srcaddr} ${dstaddr} ${region}", "10.0.0.1 10.0.0.2 -", "flows/aws_account=123456789012/aws_region=eu-west-3/day=2026-11-24/hour=00/"},
	} {
		tl := newTestLake(t)
		h := &CloudWatchHandler{Pipeline: tl.p, Format: flowlog.MustParseFormat(tc.format), Region: "eu-west-3"}
		out, err := h.Handle(context.Background(), cwEvent(t, tc.msg))
		if err != nil || out.Records != 1 || len(out.Keys) != 1 || !strings.HasPrefix(out.Keys[0], tc.want) {
			t.Errorf("%q: Handle = %v, %v; want one object under %s", tc.msg, out.Keys, err, tc.want)
		}
	}
}

// cwEvent builds a subscription event with the messages.
func cwEvent(t *testing.T, msgs ...string) events.CloudwatchLogsEvent {
	t.Helper()
	d := events.CloudwatchLogsData{MessageType: MessageData, Owner: "123456789012", LogGroup: "g", LogStream: "s"}
	for i, m := range msgs {
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{ID: strings.Repeat("7", 50) + string(rune('0'+i)), Timestamp: 1795478400000, Message: m})
	}
	js, _ := json.Marshal(d)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(js)
	zw.Close()
	var ev events.CloudwatchLogsEvent
	ev.AWSLogs.Data = base64Std(b.Bytes())
	return ev
}

func TestS3PutURLDecodedKey(t *testing.T) {
	tl := newTestLake(t)
	o, err := tl.s3Handler().HandleS3(context.Background(), decode[events.S3Event](t, "s3-put.json"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Shape != "s3" || len(o.Objects) != 1 {
		t.Fatalf("outcome = %+v", o)
	}
	r := o.Objects[0]
	if !strings.HasPrefix(r.Key, "flow logs+dev 100%/AWSLogs/") || r.Records != 6 || r.Error != "" {
		t.Fatalf("object = %+v; want the decoded key and 6 records", r)
	}
	if r.Result.NoData != 1 || r.Result.SkipData != 1 || r.Result.InputBytes == 0 || r.Result.TextBytes <= r.Result.InputBytes {
		t.Errorf("result = %+v", r.Result)
	}
	for _, k := range r.Keys {
		if !strings.HasPrefix(k, "flows/aws_account=123456789012/aws_region=us-east-1/day=2026-11-24/") {
			t.Errorf("key %s: want the account and region of the S3 key", k)
		}
	}
}

// The batch's third object is damaged (a gzip file cut short): its records
// before the cut land, the damage goes to its rejects sample, and its
// message succeeds, since a retry would read the same bytes.
func TestSQSBatchDamagedObject(t *testing.T) {
	tl := newTestLake(t)
	h := tl.s3Handler()
	var want []string
	for i := range 3 { // SQS redelivers: the same objects, no duplicates
		resp, err := h.HandleSQS(context.Background(), decode[events.SQSEvent](t, "sqs-s3.json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.BatchItemFailures; len(got) != 0 {
			t.Fatalf("batchItemFailures = %+v; want none (the damaged object keeps its good records)", got)
		}
		if i == 0 {
			want = tl.files(t)
		} else if f := tl.files(t); !slices.Equal(f, want) {
			t.Fatalf("delivery %d: files %v; want %v", i+1, f, want)
		}
	}
	// A: 6 rows, B: 3 good rows of 5 lines, C: the 5 records before the
	// cut (its 7th line, cut short, is dropped: never parsed).
	if n := tl.rows(t); n != 14 {
		t.Errorf("lake rows = %d; want 14", n)
	}
	var rejects [][]Reject
	for _, f := range want {
		if strings.HasPrefix(f, "rejects/") {
			rejects = append(rejects, readRejects(t, filepath.Join(tl.dir, f)))
		}
	}
	var lines, damage []Reject
	for _, rj := range rejects {
		if len(rj) > 0 && rj[len(rj)-1].Damaged {
			damage = rj
		} else {
			lines = rj
		}
	}
	if len(rejects) != 2 || len(lines) != 2 || lines[0].Line != 4 || lines[0].Field != "dstaddr" || lines[1].Line != 5 {
		t.Fatalf("rejects = %+v; want B's lines 4 (dstaddr) and 5, and C's damage", rejects)
	}
	d := damage[0]
	if len(damage) != 1 || d.Line != 7 || d.Offset == nil || *d.Offset != 331 || d.TextOffset == nil || *d.TextOffset == 0 ||
		!strings.Contains(d.Reason, "corrupt compressed stream") || !strings.Contains(d.Source, "deadbeef") {
		t.Errorf("damage = %+v; want line 7 (the header, 5 records, then the line cut short) at byte 331, the object's length", damage)
	}
	logs := tl.logs.String()
	if !strings.Contains(logs, "object damaged") || !strings.Contains(logs, `"offset":331`) {
		t.Errorf("the damage is not logged with its offset:\n%s", logs)
	}
	if n, m := strings.Count(tl.metrics.String(), `"DamagedObjects":1`), strings.Count(tl.metrics.String(), `"DamagedObjects":0`); n != 3 || m != 6 {
		t.Errorf("DamagedObjects: %d lines of 1 and %d of 0; want 3 (one per delivery) and 6", n, m)
	}
}

// A read that fails (the connection reset, or fewer bytes than the
// object's length) fails its message, so that SQS retries it, and
// commits nothing of that object.
func TestSQSBatchTransientReadFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		body func(b []byte) io.Reader
		want string
	}{
		{"reset", func(b []byte) io.Reader {
			return io.MultiReader(bytes.NewReader(b[:len(b)/2]), iotest.ErrReader(fmt.Errorf("read tcp 127.0.0.1:1->127.0.0.1:2: %w", syscall.ECONNRESET)))
		}, "connection reset"},
		{"short", func(b []byte) io.Reader { return bytes.NewReader(b[:len(b)/2]) }, "short of its length"},
		{"cut by the network", func(b []byte) io.Reader { // net/http's body of a response cut short
			return io.MultiReader(bytes.NewReader(b[:len(b)/2]), iotest.ErrReader(io.ErrUnexpectedEOF))
		}, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTestLake(t)
			h := tl.s3Handler()
			dir := DirObjects(filepath.Join("..", "..", "events", "raw"))
			h.S3 = GetObjectFunc(func(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
				out, err := dir(ctx, in, opts...)
				if err != nil || !strings.Contains(aws.ToString(in.Key), "_fe123456") {
					return out, err
				}
				b, _ := io.ReadAll(out.Body)
				out.Body.Close()
				out.Body = io.NopCloser(tc.body(b))
				return out, nil // ContentLength stays the object's
			})
			resp, err := h.HandleSQS(context.Background(), decode[events.SQSEvent](t, "sqs-s3.json"))
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.BatchItemFailures; len(got) != 1 || got[0].ItemIdentifier != "0c7a4f2e-1111-4a4b-9c1d-2f3e4a5b6c7d" {
				t.Fatalf("batchItemFailures = %+v; want only the message whose read failed", got)
			}
			if n := tl.rows(t); n != 8 {
				t.Errorf("lake rows = %d; want B's 3 and C's 5, none of A's", n)
			}
			if logs := tl.logs.String(); !strings.Contains(logs, "object failed") || !strings.Contains(logs, tc.want) {
				t.Errorf("logs lack the failure (%q):\n%s", tc.want, logs)
			}
			if strings.Contains(tl.logs.String(), "_fe123456.log.gz: damaged") {
				t.Error("a failed read was taken for damage")
			}
		})
	}
}

func TestEventBridgeAndTestEvent(t *testing.T) {
	tl := newTestLake(t)
	h := tl.s3Handler()
	o, err := h.HandleEventBridge(context.Background(), decode[events.EventBridgeEvent](t, "eventbridge-object-created.json"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Shape != "eventbridge" || len(o.Objects) != 1 || o.Objects[0].Records != 3 || o.Objects[0].Rejected != 2 {
		t.Fatalf("outcome = %+v", o)
	}
	// The CLI's Process takes any shape, S3's test event included.
	o, err = h.Process(context.Background(), loadEvent(t, "s3-test-event.json"))
	if err != nil || o.Shape != "s3:TestEvent" {
		t.Fatalf("Process(test event) = %+v, %v", o, err)
	}
	// So does SQS: the test event as a message body is acknowledged.
	o, err = h.Process(context.Background(), loadEvent(t, "sqs-s3.json"))
	if err != nil || o.Shape != "sqs" || !o.Messages[3].TestEvent {
		t.Fatalf("Process(sqs) = %+v, %v; want the fourth message acknowledged as the test event", o, err)
	}
}

func TestDirectS3FailureIsAnError(t *testing.T) {
	tl := newTestLake(t)
	h := tl.s3Handler()
	h.S3 = GetObjectFunc(DirObjects(t.TempDir())) // nothing there: skipped, not failed
	if _, err := h.HandleS3(context.Background(), decode[events.S3Event](t, "s3-put.json")); err != nil {
		t.Fatalf("missing object: %v; want a skip", err)
	}
	tl.p.Limits.MaxObjectBytes = 100
	h = tl.s3Handler()
	_, err := h.HandleS3(context.Background(), decode[events.S3Event](t, "s3-put.json"))
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("Handle = %v; want too large", err)
	}
}

func TestSkips(t *testing.T) {
	tl := newTestLake(t)
	h := tl.s3Handler()
	h.LakeBucket = "lake"
	h.RawPrefix = "AWSLogs"
	for _, tc := range []struct{ bucket, key, want string }{
		{"lake", "flows/aws_account=1/aws_region=r/day=2026-11-24/hour=00/x-0000.parquet", "own output"},
		{"lake", "rejects/abc.jsonl", "own output"},
		{rawBucket, "AWSLogs/1/vpcflowlogs/us-east-1/2026/11/24/x.log.parquet", "Parquet"},
		{rawBucket, "other/x.log.gz", "outside the raw prefix"},
		{rawBucket, "AWSLogs/", "folder"},
	} {
		r := h.object(context.Background(), objectRef{bucket: tc.bucket, key: tc.key, event: "ObjectCreated:Put", size: 10})
		if !strings.Contains(r.Skipped, tc.want) || r.Error != "" {
			t.Errorf("object(%s/%s) = %+v; want skipped: %s", tc.bucket, tc.key, r, tc.want)
		}
	}
	h.RawPrefix = ""
	tl.p.Prefix = ""
	if r := h.object(context.Background(), objectRef{bucket: "lake", key: "AWSLogs/x.log.gz", event: "ObjectCreated:Put"}); r.Skipped == "" {
		t.Errorf("a lake at the root of its bucket must never read that bucket: %+v", r)
	}
	if f := tl.files(t); len(f) != 0 {
		t.Errorf("skips wrote %v", f)
	}
	if n := strings.Count(tl.metrics.String(), `"ObjectsSkipped":1`); n != 6 {
		t.Errorf("ObjectsSkipped lines = %d; want 6", n)
	}
}

func gzipBytes(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func TestProcessObjectLimits(t *testing.T) {
	const hdr = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	const line = "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1795478400 1795478460 ACCEPT OK\n"
	bomb := gzipBytes(hdr + strings.Repeat(line, 1<<18)) // 22 MB of text, 60 KB of gzip
	tl := newTestLake(t)
	tl.p.Limits.MaxInflateRatio = 10 // 10 MiB for an object under 1 MiB
	src := lake.S3Source("b", "bomb.log.gz", "e", "")
	_, err := tl.p.ProcessObject(context.Background(), src, bytes.NewReader(bomb), int64(len(bomb)))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "decompression bomb") {
		t.Fatalf("ProcessObject(bomb of %d bytes) = %v; want ErrTooLarge", len(bomb), err)
	}
	if f := tl.files(t); len(f) != 0 {
		t.Errorf("a bomb left %v", f)
	}

	_, err = tl.p.ProcessObject(context.Background(), src, strings.NewReader("hello world\n"), 12)
	if !errors.Is(err, ErrNotFlowLog) {
		t.Errorf("ProcessObject(not a flow log) = %v; want ErrNotFlowLog", err)
	}
	res, err := tl.p.ProcessObject(context.Background(), src, strings.NewReader(hdr+line), -1)
	if err != nil || res.Records != 1 {
		t.Errorf("ProcessObject(plain text) = %+v, %v", res, err)
	}
}

func TestDetectAndPublishSeam(t *testing.T) {
	tl := newTestLake(t)
	var saw int
	tl.p.Detector = DetectFunc(func(_ context.Context, recs []flowlog.Record, enr []enrich.Fields) ([]finding.Finding, error) {
		saw += len(recs)
		if len(enr) != len(recs) {
			t.Errorf("enrichment of %d records for %d", len(enr), len(recs))
		}
		return []finding.Finding{{Rule: "test", Entity: recs[0].InterfaceID}}, nil
	})
	var published []finding.Finding
	tl.p.Publisher = PublishFunc(func(_ context.Context, src lake.Source, fs []finding.Finding) error {
		published = append(published, fs...)
		return nil
	})
	e, err := enrich.New(context.Background(), enrich.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tl.p.Enricher = e
	var schemaSaw *Enrichment
	tl.p.Schema = func(en *Enrichment) *lake.Schema { schemaSaw = en; return nil }
	h := &CloudWatchHandler{Pipeline: tl.p}
	var ev events.CloudwatchLogsEvent
	json.Unmarshal(loadEvent(t, "cwlogs-data.json"), &ev)
	out, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if saw != 4 || len(published) != 1 || out.Result.Findings != 1 || out.Result.Enrichment.Records != 4 {
		t.Errorf("detector saw %d records, published %d, result %+v", saw, len(published), out.Result)
	}
	if schemaSaw == nil || schemaSaw.At(0).Set == 0 {
		t.Errorf("the schema's enrichment does not see the last group's fields")
	}

	tl.p.Publisher = PublishFunc(func(context.Context, lake.Source, []finding.Finding) error { return errors.New("sns down") })
	if _, err := h.Handle(context.Background(), ev); err == nil || !strings.Contains(err.Error(), "sns down") {
		t.Errorf("a publish failure must fail the batch (for a retry): %v", err)
	}
}

func TestDefaultEnrichedSchema(t *testing.T) {
	tl := newTestLake(t)
	e, err := enrich.New(context.Background(), enrich.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tl.p.Enricher = e
	tl.p.EnrichGroups = []string{enrich.GroupRecord}
	h := &CloudWatchHandler{Pipeline: tl.p}
	var ev events.CloudwatchLogsEvent
	json.Unmarshal(loadEvent(t, "cwlogs-data.json"), &ev)
	out, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(tl.dir, filepath.FromSlash(out.Keys[0])))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pf.Schema().Lookup("protocol_name"); !ok {
		t.Errorf("schema %v lacks protocol_name", pf.Schema())
	}
	if _, ok := pf.Schema().Lookup("src_aws_service"); ok {
		t.Errorf("schema has ip-ranges columns, a group left out")
	}
}

func TestKeyTime(t *testing.T) {
	def := time.Unix(1, 0)
	k := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz"
	if got := KeyTime(k, def); !got.Equal(time.Date(2018, 6, 20, 16, 20, 0, 0, time.UTC)) {
		t.Errorf("KeyTime(%q) = %v", k, got)
	}
	if got := KeyTime("x.log.gz", def); !got.Equal(def) {
		t.Errorf("KeyTime(x.log.gz) = %v; want the default", got)
	}
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
