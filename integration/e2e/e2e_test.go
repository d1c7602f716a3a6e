package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	goaws "github.com/Admiral-Piett/goaws/app"
	goawsrouter "github.com/Admiral-Piett/goaws/app/router"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/klauspost/compress/gzip"
	"github.com/sirupsen/logrus"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/lakesql"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/notify/slack"
	"github.com/flowlake/flowlake/shared/pipeline"
	"github.com/flowlake/flowlake/shared/queries"
)

const (
	rawBucket  = "raw"
	lakeBucket = "lake"
	dedupTable = "flowlake-dedup"
	secretID   = "flowlake/slack-webhook"
	hookPath   = "/services/T0FLOW/B0LAKE/e2e"
)

// startGoaws runs goaws in-process on loopback (its state is global: one
// per test binary, which this package is) and returns its URL.
func startGoaws(t *testing.T) string {
	t.Helper()
	logrus.SetOutput(io.Discard)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	goaws.CurrentEnvironment.Host = "127.0.0.1"
	goaws.CurrentEnvironment.Port = port
	goaws.CurrentEnvironment.Region = stack.Region
	goaws.CurrentEnvironment.AccountID = "111122223333"
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: goawsrouter.New()}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// subscriber is the topic's HTTP subscriber: it confirms the subscription
// and keeps every notification.
type subscriber struct {
	mu            sync.Mutex
	notifications []delivered
}

// delivered is an SNS HTTP notification, as SNS documents its JSON.
type delivered struct {
	Type, MessageId, TopicArn, Subject, Message string
}

func (s *subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	switch r.Header.Get("x-amz-sns-message-type") {
	case "SubscriptionConfirmation":
		var m struct{ SubscribeURL string }
		json.Unmarshal(b, &m)
		go func() { // confirm as a subscriber does, after answering
			if resp, err := http.Get(m.SubscribeURL); err == nil {
				resp.Body.Close()
			}
		}()
	case "Notification":
		var n delivered
		if err := json.Unmarshal(b, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.notifications = append(s.notifications, n)
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (s *subscriber) all() []delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notifications)
}

// hook is the loopback Slack webhook: it records each payload.
type hook struct {
	mu       sync.Mutex
	payloads []slack.Message
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != hookPath {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	var m slack.Message
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.payloads = append(h.payloads, m)
	h.mu.Unlock()
	io.WriteString(w, "ok")
}

// secrets is a loopback Secrets Manager (JSON protocol) holding the
// webhook URL.
func secrets(t *testing.T, value string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != secretID {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"no such secret"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:" + secretID, "Name": secretID, "SecretString": value})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// startDynalite runs dynalite (npm) on loopback, as shared/dedup's tests
// do, and returns its URL.
func startDynalite(t *testing.T) string {
	t.Helper()
	root := stack.RepoRoot(t)
	cli := filepath.Join(root, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	addr := stack.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("node", cli, "--port", port, "--host", "127.0.0.1", "--createTableMs", "0")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dynalite: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dynalite did not listen on %s:\n%s", addr, logs.String())
		}
	}
	return "http://" + addr
}

// rawObject is one generated flow-log file.
type rawObject struct {
	key, etag string
	size      int
}

// corpus is the generated day: files per account and hour in the AWS S3
// layout, with bad lines in the first file.
type corpus struct {
	files   map[string][]byte
	records int64 // good records
	bad     int64 // lines that cannot parse
}

// generate writes the "all" scenario (a benign day with every attack) for
// two accounts, one gzip file with its header per account and hour.
func generate(t *testing.T, day time.Time) corpus {
	t.Helper()
	fm := flowgen.RichFormat()
	sc, err := flowgen.NewScenario(flowgen.Config{Seed: 5, Records: 20000, Format: fm, Start: day, Span: 24 * time.Hour, Accounts: 2, ENIs: 6}, "all")
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]*bytes.Buffer{}
	c := corpus{files: map[string][]byte{}}
	var line []byte
	for {
		rec, ok := sc.Next()
		if !ok {
			break
		}
		h := time.Unix(rec.End, 0).UTC().Truncate(time.Hour)
		key := fmt.Sprintf("AWSLogs/%s/vpcflowlogs/us-east-1/%s/%s_vpcflowlogs_us-east-1_fl-0e2e0e2e0e2e0e2e0_%s_%08x.log.gz",
			rec.AccountID, h.Format("2006/01/02"), rec.AccountID, h.Format("20060102T1504Z"), h.Unix())
		b := texts[key]
		if b == nil {
			b = bytes.NewBufferString(fm.Header() + "\n")
			texts[key] = b
			if len(texts) == 1 { // lines a reader must reject, counted and sampled
				b.WriteString("2 not-an-account eni-0 x y\n2 123456789012 eni-1 10.0.0.1 10.0.0.2 99999 80 6 1 40 1 2 ACCEPT OK\nbroken\n")
				c.bad += 3
			}
		}
		line = rec.AppendText(line[:0], fm)
		b.Write(append(line, '\n'))
		c.records++
	}
	for k, b := range texts {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b.Bytes())
		zw.Close()
		c.files[k] = z.Bytes()
	}
	return c
}

// sqsBatches wraps one S3 notification per object in SQS batches of ten.
func sqsBatches(objs []rawObject) [][]byte {
	var out [][]byte
	for i := 0; i < len(objs); i += 10 {
		var ev events.SQSEvent
		for j, o := range objs[i:min(i+10, len(objs))] {
			rec := events.S3EventRecord{
				EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: stack.Region, EventName: "ObjectCreated:Put", EventTime: time.Now().UTC(),
				S3: events.S3Entity{SchemaVersion: "1.0", Bucket: events.S3Bucket{Name: rawBucket, Arn: "arn:aws:s3:::" + rawBucket},
					Object: events.S3Object{Key: url.QueryEscape(o.key), Size: int64(o.size), ETag: strings.Trim(o.etag, `"`)}},
			}
			body, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i+j), Body: string(body), EventSource: "aws:sqs",
				EventSourceARN: "arn:aws:sqs:us-east-1:111122223333:flowlake-raw", AWSRegion: stack.Region})
		}
		b, _ := json.Marshal(ev)
		out = append(out, b)
	}
	return out
}

// checkSQSResponse fails the test on a handler error or a failed message.
func checkSQSResponse(t *testing.T, body []byte) {
	t.Helper()
	var resp struct {
		events.SQSEventResponse
		ErrorType string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.ErrorType != "" || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("ingest response %s: %v", body, err)
	}
}

// expected returns the rule of every finding the day must raise: each
// injected scenario's rules, once per scenario; the benign background
// adds none.
func expected() []string {
	var want []string
	for _, sc := range flowgen.Scenarios {
		want = append(want, sc.Expect...)
	}
	slices.Sort(want)
	return want
}

// TestEndToEnd: raw objects → ingest-s3 under RIE (with detection at
// ingest) → lake → scheduled detection → dedup → SNS → HTTP subscriber →
// notify-slack under RIE → Slack; then the saved queries. Ingest and
// detect+publish both run twice.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t0 := time.Now()
	// The day before today, so that the saved queries' last-7-days
	// predicate keeps it and the dedup state has not expired.
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)

	s3 := stack.StartS3(t)
	s3.Bucket(t, rawBucket)
	lakeDir := filepath.Join(s3.Bucket(t, lakeBucket), pipeline.DefaultLakePrefix)
	snsURL := startGoaws(t)
	ddbURL := startDynalite(t)
	creds := credentials.NewStaticCredentialsProvider(stack.AccessKey, stack.SecretKey, "")
	snsClient := sns.New(sns.Options{Region: stack.Region, BaseEndpoint: aws.String(snsURL), Credentials: creds, RetryMaxAttempts: 1})
	ddb := dynamodb.New(dynamodb.Options{Region: stack.Region, BaseEndpoint: aws.String(ddbURL), Credentials: creds})
	if err := dedup.EnsureTable(ctx, ddb, dedupTable); err != nil {
		t.Fatal(err)
	}
	topic, err := snsClient.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("flowlake-findings")})
	if err != nil {
		t.Fatal(err)
	}
	topicARN := aws.ToString(topic.TopicArn)
	sub := &subscriber{}
	subSrv := httptest.NewServer(sub)
	t.Cleanup(subSrv.Close)
	if _, err := snsClient.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(subSrv.URL + "/sns")}); err != nil {
		t.Fatal(err)
	}
	hk := &hook{}
	hookSrv := httptest.NewServer(hk)
	t.Cleanup(hookSrv.Close)
	smURL := secrets(t, hookSrv.URL+hookPath)

	internal := flowgen.EstateIPv6Prefix.String()
	// Detection at ingest leaves some rules to the schedule, so that both
	// paths publish.
	scheduledOnly := []string{"large-egress", "crypto-mining-port", "log-gap"}
	ingest := stack.StartFunction(t, stack.Bootstrap(t, "./functions/ingest-s3"), append(s3.Env(),
		"FLOWLAKE_LAKE_BUCKET="+lakeBucket, "FLOWLAKE_RAW_PREFIX=AWSLogs", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		notify.EnvTopicARN+"="+topicARN, notify.EnvDedupTable+"="+dedupTable, notify.EnvSNSSingle+"=true",
		pipeline.EnvDetectInternal+"="+internal, pipeline.EnvDetectDisabled+"="+strings.Join(scheduledOnly, ","), "AWS_ENDPOINT_URL_SNS="+snsURL, "AWS_ENDPOINT_URL_DYNAMODB="+ddbURL)...)
	notifySlack := stack.StartFunction(t, stack.Bootstrap(t, "./functions/notify-slack"),
		"SLACK_WEBHOOK_SECRET="+secretID, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+smURL, "AWS_REGION="+stack.Region,
		"AWS_ACCESS_KEY_ID="+stack.AccessKey, "AWS_SECRET_ACCESS_KEY="+stack.SecretKey)
	t.Logf("stack up in %s", time.Since(t0).Round(time.Millisecond))

	// Raw objects, as VPC Flow Logs delivers them.
	c := generate(t, day)
	var objs []rawObject
	for k, b := range c.files {
		objs = append(objs, rawObject{key: k, etag: s3.Put(t, rawBucket, k, bytes.NewReader(b)), size: len(b)})
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].key < objs[j].key })

	// Hop 1: ingest, twice (SQS redelivers at least once).
	rows := func() int64 {
		db, err := lakesql.Open(ctx, lakeDir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM flows").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	batches := sqsBatches(objs)
	for round := 1; round <= 2; round++ {
		for _, b := range batches {
			checkSQSResponse(t, ingest.Invoke(t, b))
		}
		if n := rows(); n != c.records {
			t.Fatalf("ingest round %d: the lake holds %d rows; want %d (the generated records less the %d rejected lines)", round, n, c.records, c.bad)
		}
	}
	var rejected int64
	rejectFiles, _ := filepath.Glob(filepath.Join(filepath.Dir(lakeDir), pipeline.DefaultRejectsPrefix, "*.jsonl"))
	for _, f := range rejectFiles {
		b, _ := os.ReadFile(f)
		sc := bufio.NewScanner(bytes.NewReader(b))
		if sc.Scan() {
			var rj pipeline.Reject
			json.Unmarshal(sc.Bytes(), &rj)
			rejected += rj.Rejected
		}
	}
	if len(rejectFiles) != 1 || rejected != c.bad {
		t.Errorf("%d rejects samples counting %d lines; want 1 counting %d", len(rejectFiles), rejected, c.bad)
	}
	atIngest := len(sub.all())
	wantAtIngest := 0
	for _, r := range expected() {
		if !slices.Contains(scheduledOnly, r) {
			wantAtIngest++
		}
	}
	if atIngest != wantAtIngest {
		t.Errorf("ingest ×2 published %d findings; want %d, once each (the batch engine, through the dedup table)", atIngest, wantAtIngest)
	}
	t.Logf("ingest ×2 of %d objects (%d records): %s; %d findings published at ingest", len(objs), c.records, time.Since(t0).Round(time.Millisecond), atIngest)

	// Hop 2: scheduled detection. In AWS, functions/detect runs these
	// rules as SQL in Athena; no Athena engine runs here, so the same SQL
	// runs in DuckDB over the lake bucket's folder (versitygw keeps objects
	// as plain files).
	set := detect.MustCompile(detect.Config{InternalPrefixes: []netip.Prefix{flowgen.EstateIPv6Prefix}})
	fs, err := duck.Detect(ctx, lakeDir, set, day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range fs {
		rules = append(rules, f.Rule)
	}
	slices.Sort(rules)
	if want := expected(); !slices.Equal(rules, want) {
		t.Fatalf("scheduled detection raised %v; want %v (each scenario's rules once, nothing from benign traffic)", rules, want)
	}

	// Hop 3: publish through the dedup store, twice (the next schedule
	// finds the same problems again).
	pub := &notify.Notifier{
		Dedup:     &dedup.Store{Client: ddb, Table: dedupTable},
		Publisher: &notify.SNS{Client: snsClient, TopicARN: topicARN, Single: true, DeadLetter: &notify.DirDeadLetter{Dir: t.TempDir()}},
	}
	for round := 1; round <= 2; round++ {
		if err := pub.Publish(ctx, fs); err != nil {
			t.Fatalf("publish round %d: %v", round, err)
		}
	}

	// Hop 4: one SNS delivery per finding, whichever engine published it
	// first; the dedup table remembers each.
	got := sub.all()
	perID := map[string]int{}
	var snsEvents [][]byte
	for _, n := range got {
		// goaws delivers the whole MessageStructure=json object where SNS
		// would deliver its "default" (see integration/notify_test.go).
		var perProtocol map[string]string
		if err := json.Unmarshal([]byte(n.Message), &perProtocol); err != nil {
			t.Fatalf("notification %s: %v", n.MessageId, err)
		}
		f, err := finding.Unmarshal([]byte(perProtocol["default"]))
		if err != nil {
			t.Fatalf("notification %s: %v", n.MessageId, err)
		}
		perID[f.ID]++
		ev, _ := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", EventVersion: "1.0",
			SNS: events.SNSEntity{Type: n.Type, MessageID: n.MessageId, TopicArn: n.TopicArn, Subject: n.Subject, Message: perProtocol["lambda"]}}}})
		snsEvents = append(snsEvents, ev)
	}
	for _, f := range fs {
		if st, ok, err := pub.Dedup.(*dedup.Store).Get(ctx, f.ID); err != nil || !ok || st.Rule != f.Rule {
			t.Errorf("dedup state of %s = %+v, %v, %v", f.ID, st, ok, err)
		}
		if perID[f.ID] != 1 {
			t.Errorf("finding %s (%s %s): %d SNS deliveries; want 1", f.ID, f.Rule, f.Entity, perID[f.ID])
		}
		delete(perID, f.ID)
	}
	for id, n := range perID {
		t.Errorf("finding %s delivered %d times, but the scheduled detection did not raise it", id, n)
	}

	// Hop 5: the notify-slack function on each delivery, as SNS invokes it.
	for _, ev := range snsEvents {
		body := notifySlack.Invoke(t, ev)
		if bytes.Contains(body, []byte("errorType")) {
			t.Fatalf("notify-slack: %s", body)
		}
	}
	hk.mu.Lock()
	posts := slices.Clone(hk.payloads)
	hk.mu.Unlock()
	if len(posts) != len(fs) {
		t.Fatalf("%d Slack posts; want %d, one per finding", len(posts), len(fs))
	}
	postedRules := map[string]int{}
	for _, m := range posts {
		for _, r := range detect.Rules {
			if strings.Contains(m.Blocks[0].Text.Text, r.ID) {
				postedRules[r.ID]++
			}
		}
	}
	for _, r := range expected() {
		postedRules[r]--
	}
	for r, n := range postedRules {
		if n != 0 {
			t.Errorf("Slack posts for %s: %+d against the findings", r, n)
		}
	}

	// Hop 6: the saved queries run on the lake.
	db, err := lakesql.Open(ctx, lakeDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range queries.All() {
		rs, err := db.QueryContext(ctx, q.SQL)
		if err != nil {
			t.Fatalf("query %s: %v", q.Name, err)
		}
		n := 0
		for rs.Next() {
			n++
		}
		rs.Close()
		if n == 0 {
			t.Errorf("query %s returned no rows over a day of flows", q.Name)
		}
	}
	t.Logf("end to end: %d objects, %d rows, %d findings (%d at ingest), %d SNS deliveries, %d Slack posts in %s",
		len(objs), c.records, len(fs), atIngest, len(got), len(posts), time.Since(t0).Round(time.Millisecond))
}
