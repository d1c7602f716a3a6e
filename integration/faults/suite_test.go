package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	kgzip "github.com/klauspost/compress/gzip"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/integration/standin"
	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/enrichtest"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lakesql"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/pipeline"
)

const (
	rawBucket  = "raw"
	lakeBucket = "lake"
	dedupTable = "flowlake-dedup"
	secretID   = "flowlake/slack-webhook" // cdk.json's flowlake:slackSecretName
	stackName  = "Flowlake"               // cdk.json's flowlake:stackName
	accountID  = "111122223333"           // the stack's account
	queueName  = "flowlake-ingest"
	dlqName    = "flowlake-ingest-dlq"
)

// suite is the deployed loop on loopback, as the template wires it.
type suite struct {
	top      *testing.T // TestFaults: what outlives a case is started on it
	tpl      *stack.Template
	fns      map[string]stack.FunctionDef
	s3       *stack.S3
	lakeRoot string
	lakeDir  string
	ddb      *stack.DynamoDB
	sns      *goawsServer
	topicARN string
	sub      *subscriber
	hook     *stack.SlackWebhook
	sqs      *standin.SQS
	sqsc     *sqs.Client
	queueURL string
	batch    int // the event source mapping's batch size
	receives int // the queue's maxReceiveCount
	env      map[string][]string
	cliEnv   []string

	mu     sync.Mutex
	ingest *stack.Function
	slack  *stack.Function

	cli     func(t *testing.T) string // the flowlake binary, once built
	hour    time.Time                 // the first hour of the cases' records
	closing []row                     // the closing table
}

// row is one line of the closing table.
type row struct {
	fault, did                                        string
	rowsLost, rowsDoubled, findingsLost, findingsDups int64
}

// start brings the loop up: the synthesized template, its servers and
// bootstraps.
func start(t *testing.T) *suite {
	t0 := time.Now()
	ctx := context.Background()
	s := &suite{top: t, hour: time.Now().UTC().Truncate(time.Hour).Add(-6 * time.Hour), env: map[string][]string{}}
	s.cli = buildCLI(t)

	cdkContext := stack.CDKContext(t)
	cdkContext["flowlake:detectInternalCidrs"] = []string{flowgen.EstateIPv6Prefix.String()}
	s.tpl = stack.Synth(t, stackName, cdkContext)
	s.fns = s.tpl.Functions(t)
	t.Logf("synth: %d functions in %s", len(s.fns), time.Since(t0).Round(time.Millisecond))

	s.s3 = stack.StartS3(t)
	s.s3.Bucket(t, rawBucket)
	s.lakeRoot = s.s3.Bucket(t, lakeBucket)
	s.lakeDir = filepath.Join(s.lakeRoot, pipeline.DefaultLakePrefix)
	s.sns = startGoaws(t)
	s.ddb = stack.StartDynamoDBServer(t, t.TempDir())
	if err := dedup.EnsureTable(ctx, s.ddb.Client, dedupTable); err != nil {
		t.Fatal(err)
	}
	creds := credentials.NewStaticCredentialsProvider(stack.AccessKey, stack.SecretKey, "")
	snsClient := sns.New(sns.Options{Region: stack.Region, BaseEndpoint: aws.String(s.sns.URL), Credentials: creds, RetryMaxAttempts: 1})
	topic, err := snsClient.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("flowlake-findings")})
	if err != nil {
		t.Fatal(err)
	}
	s.topicARN = aws.ToString(topic.TopicArn)
	s.sub = &subscriber{}
	subSrv := httptest.NewServer(s.sub)
	t.Cleanup(subSrv.Close)
	if _, err := snsClient.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(subSrv.URL + "/sns")}); err != nil {
		t.Fatal(err)
	}
	s.hook = stack.ServeSlackWebhook(t, "/services/T0FLOW/B0LAKE/faults")
	smURL := stack.ServeSecret(t, secretID, s.hook.URL)
	ec2 := enrichtest.NewEC2Server(enrich.ENI{ID: "eni-0fa17fa17fa17fa17", Type: "interface", Addrs: []netip.Addr{netip.MustParseAddr("10.9.9.9")}})
	t.Cleanup(ec2.Close)
	rangesURL, caFile := stack.ServeIPRanges(t, &enrich.IPRanges{SyncToken: "1", CreateDate: "2026-11-01-00-00-00",
		Prefixes: []enrich.IPPrefix{{IPPrefix: "52.216.0.0/15", Region: "us-east-1", Service: "S3", NetworkBorderGroup: "us-east-1"}}}, `"faults-1"`)

	// The ingest queue as the template declares it: its DLQ, its
	// maxReceiveCount, and the event source mapping's batch size.
	s.receives, s.batch = 0, 0
	for _, id := range s.tpl.OfType("AWS::SQS::Queue") {
		if rp, ok := s.tpl.Resources[id].Properties["RedrivePolicy"].(map[string]any); ok && strings.HasPrefix(id, "IngestS3Queue") {
			n, _ := rp["maxReceiveCount"].(float64)
			s.receives = int(n)
		}
	}
	for _, id := range s.tpl.OfType("AWS::Lambda::EventSourceMapping") {
		if n, ok := s.tpl.Resources[id].Properties["BatchSize"].(float64); ok {
			s.batch = int(n)
		}
	}
	// What the operator gives flowlake redrive and replay-findings: the
	// stack's outputs name the ingest DLQ and the dedup table.
	for name, want := range map[string]string{"IngestS3DLQArn": "IngestS3DLQ", "DedupTable": "Dedup"} {
		if o, ok := s.tpl.Outputs[name]; !ok || !strings.Contains(fmt.Sprint(o.Value), want) {
			t.Errorf("the template's output %s = %v; want a reference to %s*", name, o.Value, want)
		}
	}
	if s.receives < 2 || s.batch < 1 {
		t.Fatalf("the template's ingest queue: maxReceiveCount %d, batch size %d", s.receives, s.batch)
	}
	s.sqs = standin.StartSQS(t, accountID, stack.Region)
	s.sqsc = sqs.New(sqs.Options{Region: stack.Region, BaseEndpoint: aws.String(s.sqs.URL), Credentials: creds})
	if _, err := s.sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(dlqName)}); err != nil {
		t.Fatal(err)
	}
	q, err := s.sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queueName), Attributes: map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, s.sqs.ARN(dlqName), s.receives),
	}})
	if err != nil {
		t.Fatal(err)
	}
	s.queueURL = aws.ToString(q.QueueUrl)

	loc := stack.Locals{
		"AWS::AccountId": accountID, "AWS::Region": stack.Region, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
		"StorageLake": lakeBucket, "StorageRaw": rawBucket, "FindingsTopic": s.topicARN, "Dedup": dedupTable,
	}
	plumbing := append(s.s3.Env(),
		"AWS_ENDPOINT_URL_SNS="+s.sns.URL, "AWS_ENDPOINT_URL_DYNAMODB="+s.ddb.URL, "AWS_ENDPOINT_URL_EC2="+ec2.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER="+smURL, notify.EnvSNSSingle+"=true", // goaws has no PublishBatch
		"AWS_MAX_ATTEMPTS=2", "SSL_CERT_FILE="+caFile)
	for _, name := range []string{"ingest-s3", "ingest-cwlogs", "notify-slack"} {
		f, ok := s.fns[name]
		if !ok {
			t.Fatalf("the template deploys no %s function", name)
		}
		env, m := s.tpl.Env(t, f, loc)
		if m[pipeline.EnvIPRanges] == enrich.AWSIPRangesURL {
			env = append(env, pipeline.EnvIPRanges+"="+rangesURL)
		}
		env = append(env, plumbing...)
		env = append(env, "AWS_LAMBDA_FUNCTION_NAME="+stackName+"-"+name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(f.MemoryMB),
			"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(f.TimeoutS))
		s.env[name] = env
	}
	s.ingest = stack.StartFunction(t, s.fns["ingest-s3"].Bootstrap, s.env["ingest-s3"]...)
	s.slack = stack.StartFunction(t, s.fns["notify-slack"].Bootstrap, s.env["notify-slack"]...)
	s.cliEnv = append(os.Environ(), "AWS_ACCESS_KEY_ID="+stack.AccessKey, "AWS_SECRET_ACCESS_KEY="+stack.SecretKey, "AWS_REGION="+stack.Region,
		"AWS_ENDPOINT_URL_SNS="+s.sns.URL, "AWS_ENDPOINT_URL_DYNAMODB="+s.ddb.URL, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	t.Logf("stack up in %s", time.Since(t0).Round(time.Millisecond))
	return s
}

// buildCLI builds cmd/flowlake in the background and returns a function
// that waits for it and returns the binary.
func buildCLI(t *testing.T) func(*testing.T) string {
	root := stack.RepoRoot(t)
	exe := filepath.Join(t.TempDir(), "flowlake")
	var out []byte
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		cmd := exec.Command("go", "build", "-o", exe, "./cmd/flowlake")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		out, err = cmd.CombinedOutput()
	}()
	return func(t *testing.T) string {
		<-done
		if err != nil {
			t.Fatalf("go build ./cmd/flowlake: %v\n%s", err, out)
		}
		return exe
	}
}

// flowlake runs the CLI and returns its output; it fails the test unless
// the exit status is want.
func (s *suite) flowlake(t *testing.T, want int, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.cli(t), args...)
	cmd.Env = s.cliEnv
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Fatalf("flowlake %s: exit %d; want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String() + errb.String()
}

func (s *suite) ingestFn() *stack.Function {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ingest
}

// restartIngest starts a new ingest-s3 environment (the old one was
// killed), as Lambda does for the next invocation. It is started on the
// suite's test, not the case's, so that it outlives the case.
func (s *suite) restartIngest() {
	f := stack.StartFunction(s.top, s.fns["ingest-s3"].Bootstrap, s.env["ingest-s3"]...)
	s.mu.Lock()
	s.ingest = f
	s.mu.Unlock()
}

// object is one flow-log file of a case.
type object struct {
	key   string
	etag  string // once delivered
	gz    []byte
	lines []byte // the records that must land, one line each, no header
	text  []byte // the file's text, header first
}

// generate returns the text of a scenario (benign or an attack) over cfg,
// header first, and its records' lines.
func generate(t *testing.T, cfg flowgen.Config, scenario string) (text, lines []byte) {
	t.Helper()
	sc, err := flowgen.NewScenario(cfg, scenario)
	if err != nil {
		t.Fatal(err)
	}
	fm := flowlog.MustParseFormat(flowlog.DefaultFormat)
	var b bytes.Buffer
	b.Grow(cfg.Records * 110)
	b.WriteString(fm.Header() + "\n")
	var line []byte
	for {
		rec, ok := sc.Next()
		if !ok {
			break
		}
		line = rec.AppendText(line[:0], fm)
		b.Write(line)
		b.WriteByte('\n')
	}
	text = b.Bytes()
	return text, text[bytes.IndexByte(text, '\n')+1:]
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw, _ := kgzip.NewWriterLevel(&z, kgzip.BestSpeed)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return z.Bytes()
}

// key returns an S3 delivery key of account for hour, tagged.
func key(account string, hour time.Time, tag string) string {
	return fmt.Sprintf("AWSLogs/%s/vpcflowlogs/us-east-1/%s/%s_vpcflowlogs_us-east-1_fl-0fa17fa17fa17fa17_%s_%s.log.gz",
		account, hour.Format("2006/01/02"), account, hour.Format("20060102T1504Z"), tag)
}

// deliver puts the objects in the raw bucket and sends one S3
// notification each to the ingest queue, as the raw bucket does.
func (s *suite) deliver(t *testing.T, objs ...*object) {
	t.Helper()
	for _, o := range objs {
		o.etag = s.s3.Put(t, rawBucket, o.key, bytes.NewReader(o.gz))
		s.notify(t, o.key, o.etag, len(o.gz))
	}
}

// notify sends the S3 notification of one object to the ingest queue.
func (s *suite) notify(t *testing.T, key, etag string, size int) {
	t.Helper()
	rec := events.S3EventRecord{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: stack.Region, EventName: "ObjectCreated:Put", EventTime: time.Now().UTC(),
		S3: events.S3Entity{SchemaVersion: "1.0", Bucket: events.S3Bucket{Name: rawBucket, Arn: "arn:aws:s3:::" + rawBucket},
			Object: events.S3Object{Key: url.QueryEscape(key), Size: int64(size), ETag: strings.Trim(etag, `"`)}},
	}
	body, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
	if _, err := s.sqsc.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(s.queueURL), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
}

// drained is what the event source mapping did.
type drained struct {
	invocations int
	failed      int // messages reported failed, or in a failed invocation
	errors      []string
}

// drain runs the event source mapping as Lambda runs it for the stack's
// queue (the template's batch size, ReportBatchItemFailures): it receives
// a batch, invokes ingest-s3 with it, and deletes the messages the
// response does not report as failed; a failed invocation (a function
// error, or the function killed) deletes none, and they come back after
// the visibility timeout, until the queue's redrive policy moves them to
// the DLQ. after, if set, runs after each invocation. It returns when the
// queue is empty.
func (s *suite) drain(t *testing.T, timeout time.Duration, after func(inv int, failed int, err error)) drained {
	t.Helper()
	ctx := context.Background()
	var d drained
	deadline := time.Now().Add(timeout)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("the ingest queue did not drain in %s: %+v", timeout, d)
		}
		out, err := s.sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queueURL), MaxNumberOfMessages: int32(s.batch),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			if v, f := s.sqs.Depth(queueName); v+f == 0 {
				return d
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		var ev events.SQSEvent
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes, EventSource: "aws:sqs",
				EventSourceARN: s.sqs.ARN(queueName), AWSRegion: stack.Region})
		}
		payload, _ := json.Marshal(ev)
		d.invocations++
		body, err := s.ingestFn().Post(payload)
		failed := map[string]bool{}
		switch {
		case err != nil:
			err = fmt.Errorf("invoke ingest-s3: %v: %w", err, errKilled)
		case stack.ErrorType(body) != "":
			err = errors.New(stack.ErrorType(body))
		default:
			var resp events.SQSEventResponse
			if jerr := json.Unmarshal(body, &resp); jerr != nil {
				err = fmt.Errorf("response %s: %w", body, jerr)
			}
			for _, f := range resp.BatchItemFailures {
				failed[f.ItemIdentifier] = true
			}
		}
		for _, m := range out.Messages {
			if err != nil || failed[aws.ToString(m.MessageId)] {
				d.failed++
				continue
			}
			if _, derr := s.sqsc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queueURL), ReceiptHandle: m.ReceiptHandle}); derr != nil {
				t.Fatal(derr)
			}
		}
		if err != nil {
			d.errors = append(d.errors, err.Error())
		}
		if after != nil {
			after(d.invocations, d.failed, err)
		}
	}
}

// rows compares the lake's rows of account with the lines of the files
// want, as multisets: the rows lost (wanted more often than the lake
// holds them), the rows doubled (held more often than wanted, or not
// wanted at all), and the lake's rows.
func (s *suite) rows(t *testing.T, account string, want ...string) (lost, doubled, got int64) {
	t.Helper()
	ctx := context.Background()
	db, err := lakesql.Open(ctx, s.lakeDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var files []string
	for _, f := range want {
		files = append(files, "'"+strings.ReplaceAll(f, "'", "''")+"'")
	}
	cols := []string{"CAST(version AS VARCHAR)", "account_id", "interface_id", "srcaddr", "dstaddr", "CAST(srcport AS VARCHAR)",
		"CAST(dstport AS VARCHAR)", "CAST(protocol AS VARCHAR)", "CAST(packets AS VARCHAR)", "CAST(bytes AS VARCHAR)",
		`CAST("start" AS VARCHAR)`, `CAST("end" AS VARCHAR)`, "action", "log_status"}
	for i, c := range cols {
		cols[i] = "coalesce(" + c + ", '-')"
	}
	q := `WITH want AS (
		SELECT line, count(*) AS n FROM read_csv([` + strings.Join(files, ", ") + `], columns = {'line': 'VARCHAR'}, header = false,
			delim = '\t', quote = '', escape = '', auto_detect = false) GROUP BY line),
	got AS (SELECT concat_ws(' ', ` + strings.Join(cols, ", ") + `) AS line, count(*) AS n FROM flows WHERE aws_account = ? GROUP BY line)
	SELECT coalesce(sum(greatest(coalesce(want.n, 0) - coalesce(got.n, 0), 0)), 0),
		coalesce(sum(greatest(coalesce(got.n, 0) - coalesce(want.n, 0), 0)), 0),
		coalesce(sum(got.n), 0)
	FROM want FULL OUTER JOIN got USING (line)`
	if err := db.QueryRowContext(ctx, q, account).Scan(&lost, &doubled, &got); err != nil {
		t.Fatalf("rows of %s: %v", account, err)
	}
	return lost, doubled, got
}

// writeLines writes lines to a file of the test's and returns its path.
func writeLines(t *testing.T, name string, lines []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, lines, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// deliveries counts the subscriber's deliveries per finding ID, of those
// after the first skip.
func (s *suite) deliveries(skip int) map[string]int {
	n := map[string]int{}
	for _, d := range s.sub.all()[skip:] {
		n[d.Finding.ID]++
	}
	return n
}

// findingCounts returns how many of the rules were never delivered
// (lost) and how many deliveries came beyond each finding's first
// (doubled), over the deliveries after skip; want is the rules the case's
// objects raise, one finding each.
func (s *suite) findingCounts(t *testing.T, skip int, want []string) (lost, doubled int64) {
	t.Helper()
	perID, ruleOf := map[string]int{}, map[string]string{}
	for _, d := range s.sub.all()[skip:] {
		perID[d.Finding.ID]++
		ruleOf[d.Finding.ID] = d.Finding.Rule
	}
	perRule := map[string]int{}
	for id, n := range perID {
		doubled += int64(n - 1)
		perRule[ruleOf[id]]++
	}
	for _, r := range want {
		if perRule[r] == 0 {
			lost++
			t.Errorf("no finding of rule %s was delivered", r)
			continue
		}
		perRule[r]--
	}
	for r, n := range perRule {
		if n > 0 {
			t.Errorf("%d findings of rule %s delivered beyond the case's", n, r)
		}
	}
	return lost, doubled
}

// deadLetters returns the keys of the dead letters in the lake bucket.
func (s *suite) deadLetters(t *testing.T) []string {
	t.Helper()
	out, err := s.s3.Client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(lakeBucket), Prefix: aws.String(notify.DefaultDeadLetterPrefix + "/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// record adds a row to the closing table, and fails the test for anything
// lost or doubled.
func (s *suite) record(t *testing.T, r row) {
	t.Helper()
	s.mu.Lock()
	s.closing = append(s.closing, r)
	s.mu.Unlock()
	if r.rowsLost+r.rowsDoubled+r.findingsLost+r.findingsDups != 0 {
		t.Errorf("%s: rows lost %d, doubled %d; findings lost %d, doubled %d; want all 0", r.fault, r.rowsLost, r.rowsDoubled, r.findingsLost, r.findingsDups)
	}
	t.Logf("%s: %s", r.fault, r.did)
}

// table renders the closing table.
func (s *suite) table() string {
	var b strings.Builder
	b.WriteString("| fault | what it did | rows lost | rows doubled | findings lost | findings doubled |\n|---|---|---|---|---|---|\n")
	for _, r := range s.closing {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d |\n", r.fault, r.did, r.rowsLost, r.rowsDoubled, r.findingsLost, r.findingsDups)
	}
	return b.String()
}

// wholeLines returns the records of text before its damage, as the
// ingest path's inflater reads them: the whole lines inflated before the
// error, less the header.
func wholeLines(t *testing.T, gz []byte) []byte {
	t.Helper()
	zr, err := kgzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil // damaged in its header: nothing
	}
	text, _ := io.ReadAll(zr)
	text = text[:bytes.LastIndexByte(text, '\n')+1]
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		return text[i+1:]
	}
	return nil
}

// emfCount sums the values of metric name in the EMF lines of logs.
func emfCount(logs, name string) (lines int, sum float64) {
	for _, l := range strings.Split(logs, "\n") {
		if !strings.Contains(l, `"_aws"`) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(l[strings.IndexByte(l, '{'):]), &m) != nil {
			continue
		}
		if v, ok := m[name].(float64); ok {
			lines++
			sum += v
		}
	}
	return lines, sum
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
