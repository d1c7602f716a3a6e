package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/klauspost/compress/gzip"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/integration/standin"
	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/detect"
	detectathena "github.com/flowlake/flowlake/shared/detect/athena"
	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/emf"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/enrichtest"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/lakesql"
	"github.com/flowlake/flowlake/shared/pipeline"
	"github.com/flowlake/flowlake/shared/schedule"
	"github.com/flowlake/flowlake/shared/threatlist"
)

const (
	rawBucket  = "raw"
	lakeBucket = "lake"
	dedupTable = "flowlake-dedup"
	secretID   = "flowlake/slack-webhook" // cdk.json's flowlake:slackSecretName
	hookPath   = "/services/T0FLOW/B0LAKE/e2e"
	stackName  = "Flowlake" // cdk.json's flowlake:stackName
)

// cwHours are the hours of the day whose records come through CloudWatch
// Logs (the flow log's log group and its subscription) instead of S3: the
// host sweep's and the exposed database's. CloudWatch delivers a stream
// in small batches, cwBatch log events here, so no batch holds a whole
// sweep: only the scheduled detector, reading the lake, can see it.
var cwHours = []int{10, 14}

const cwBatch = 20

// corpus is the generated day, split as the two delivery paths carry it.
type corpus struct {
	s3      map[string][]byte // key in the raw bucket → gzip text with its header
	cw      [][]byte          // subscription payloads, {"awslogs":{"data":...}}
	cwHour  []int             // the hour of each payload's first record
	records int64             // good records, both paths
	cwRecs  int64
	bad     int64 // lines that cannot parse (in the first S3 file)
	estate  *flowgen.Estate
}

// generate writes the "all" scenario (a benign day with every attack) for
// one account, the stack's (flowgen.Estate's first), in the format the template gives the flow log
// (FLOWLAKE_FLOW_LOG_FORMAT): one gzip file with its header per account
// and hour in the S3 layout, but for cwHours, whose records become
// CloudWatch Logs subscription batches, one stream per interface.
func generate(t *testing.T, day time.Time, fm *flowlog.Format, logGroup string) corpus {
	t.Helper()
	sc, err := flowgen.NewScenario(flowgen.Config{Seed: 5, Records: 20000, Format: fm, Start: day, Span: 24 * time.Hour, Accounts: 1, ENIs: 12}, "all")
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]*bytes.Buffer{}
	type stream struct{ owner, eni string }
	streams := map[stream][]events.CloudwatchLogsLogEvent{}
	var order []stream
	c := corpus{s3: map[string][]byte{}, estate: sc.Estate()}
	var line []byte
	eventID := 0
	for {
		rec, ok := sc.Next()
		if !ok {
			break
		}
		line = rec.AppendText(line[:0], fm)
		c.records++
		if slices.Contains(cwHours, time.Unix(rec.Start, 0).UTC().Hour()) {
			st := stream{rec.AccountID, rec.InterfaceID}
			if streams[st] == nil {
				order = append(order, st)
			}
			eventID++
			// CloudWatch's timestamp is the record's start (ms); ids are
			// 56-digit decimal strings.
			streams[st] = append(streams[st], events.CloudwatchLogsLogEvent{ID: fmt.Sprintf("%056d", eventID), Timestamp: rec.Start * 1000, Message: string(line)})
			c.cwRecs++
			continue
		}
		key := deliveryKey(rec, stack.Region, "fl-0e2e0e2e0e2e0e2e0")
		b := texts[key]
		if b == nil {
			b = bytes.NewBufferString(fm.Header() + "\n")
			texts[key] = b
			if len(texts) == 1 { // lines a reader must reject, counted and sampled
				b.WriteString("2 not-an-account eni-0 x y\n2 123456789012 eni-1 10.0.0.1 10.0.0.2 99999 80 6 1 40 1 2 ACCEPT OK\nbroken\n")
				c.bad += 3
			}
		}
		b.Write(append(line, '\n'))
	}
	for k, b := range texts {
		c.s3[k] = gzipped(b.Bytes())
	}
	for _, st := range order {
		evs := streams[st]
		for i := 0; i < len(evs); i += cwBatch {
			d := events.CloudwatchLogsData{Owner: st.owner, LogGroup: logGroup, LogStream: st.eni + "-all",
				SubscriptionFilters: []string{stackName + "-FlowLogsSubscription"}, MessageType: pipeline.MessageData,
				LogEvents: evs[i:min(i+cwBatch, len(evs))]}
			js, _ := json.Marshal(d)
			ev, _ := json.Marshal(events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(gzipped(js))}})
			c.cw = append(c.cw, ev)
			c.cwHour = append(c.cwHour, time.UnixMilli(evs[i].Timestamp).UTC().Hour())
		}
	}
	return c
}

// deliveryKey is the key VPC Flow Logs gives, in the raw bucket, the file
// of flow log flowLogID holding rec: one file an account and hour.
func deliveryKey(rec flowlog.Record, region, flowLogID string) string {
	h := time.Unix(rec.End, 0).UTC().Truncate(time.Hour)
	return fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_%s_%s_%08x.log.gz",
		rec.AccountID, region, h.Format("2006/01/02"), rec.AccountID, region, flowLogID, h.Format("20060102T1504Z"), h.Unix())
}

// gzipped returns b gzipped, as VPC Flow Logs and CloudWatch Logs deliver.
func gzipped(b []byte) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	return z.Bytes()
}

// rawObject is one flow-log file in the raw bucket.
type rawObject struct {
	key, etag string
	size      int
}

// sqsBatches wraps one S3 notification per object in SQS batches of ten,
// as the stack's queue delivers them to ingest-s3 (BatchSize 10).
func sqsBatches(accountID, bucket string, objs []rawObject) [][]byte {
	var out [][]byte
	for i := 0; i < len(objs); i += 10 {
		var ev events.SQSEvent
		for j, o := range objs[i:min(i+10, len(objs))] {
			rec := events.S3EventRecord{
				EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: stack.Region, EventName: "ObjectCreated:Put", EventTime: time.Now().UTC(),
				S3: events.S3Entity{SchemaVersion: "1.0", Bucket: events.S3Bucket{Name: bucket, Arn: "arn:aws:s3:::" + bucket},
					Object: events.S3Object{Key: url.QueryEscape(o.key), Size: int64(o.size), ETag: strings.Trim(o.etag, `"`)}},
			}
			body, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i+j), Body: string(body), EventSource: "aws:sqs",
				EventSourceARN: "arn:aws:sqs:us-east-1:" + accountID + ":flowlake-raw", AWSRegion: stack.Region})
		}
		b, _ := json.Marshal(ev)
		out = append(out, b)
	}
	return out
}

// readmeQuery matches the SQL of a `flowlake query ... "SQL"` example.
var readmeQuery = regexp.MustCompile(`flowlake query [^"\n]*"(SELECT [^"]+)"`)

// scheduledEvent is the EventBridge event of the detect schedule's rule
// in accountID firing at at.
func scheduledEvent(accountID string, at time.Time) []byte {
	b, _ := json.Marshal(events.EventBridgeEvent{
		Version: "0", ID: fmt.Sprintf("e2e-%d", at.Unix()), DetailType: "Scheduled Event", Source: "aws.events",
		AccountID: accountID, Time: at, Region: stack.Region, Resources: []string{"arn:aws:events:us-east-1:" + accountID + ":rule/" + stackName + "-DetectSchedule"},
		Detail: json.RawMessage(`{}`),
	})
	return b
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

// TestEndToEnd runs what AWS runs, as the synthesized template wires it:
//
//	raw objects ─▶ SQS-shaped S3 notifications ─▶ ingest-s3 ─┐
//	subscription payloads ─▶ ingest-cwlogs ──────────────────┴▶ lake bucket (Parquet)
//	EventBridge schedule ─▶ detect ─▶ Athena (the stand-in: DuckDB over the lake bucket)
//	ingest and detect ─▶ dedup table ─▶ SNS topic ─▶ HTTP subscriber
//	                                              └▶ SNS event ─▶ notify-slack ─▶ Slack webhook
//	the stack's saved queries ─▶ Athena
//
// Each function is the bootstrap `cdk synth` built, under the Lambda
// Runtime Interface Emulator, with the environment the template gives it
// and only its references replaced by the loopback servers. Every ingest
// event is delivered twice and every hourly schedule fires twice; each
// injected attack must still reach the subscriber and Slack exactly once,
// and the benign traffic nothing.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	t0 := time.Now()
	// The day before today, so that the saved queries' last-7-days
	// predicate keeps it and the dedup state has not expired.
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)

	// The stack, as `npx cdk synth` makes it from cdk.json, with the
	// estate's IPv6 block declared ours (flowlake:detectInternalCidrs), as
	// a user with IPv6 VPCs configures it.
	cdkContext := stack.CDKContext(t)
	cdkContext["flowlake:detectInternalCidrs"] = []string{flowgen.EstateIPv6Prefix.String()}
	tpl := stack.Synth(t, stackName, cdkContext)
	fns := tpl.Functions(t)
	for _, name := range []string{"ingest-s3", "ingest-cwlogs", "detect", "notify-slack", "compact"} {
		if _, ok := fns[name]; !ok {
			t.Fatalf("the template deploys no %s function (it has %v)", name, fns)
		}
	}
	t.Logf("synth: %d functions from %s in %s", len(fns), tpl.Dir, time.Since(t0).Round(time.Millisecond))

	// Loopback servers for what the template references.
	lb := startLoopback(ctx, t, rawBucket, "flowlake-findings")
	s3, lakeRoot, lakeDir, creds, ddb, topicARN, sub := lb.s3, lb.lakeRoot, lb.lakeDir, lb.creds, lb.ddb, lb.topicARN, lb.sub
	hk := stack.ServeSlackWebhook(t, hookPath)
	smURL := stack.ServeSecret(t, secretID, hk.URL)

	// The flow logs, in the format the template gives the flow log.
	_, cwEnv := tpl.Env(t, fns["ingest-cwlogs"], stack.Locals{"AWS::AccountId": "0", "AWS::Region": stack.Region, "AWS::Partition": "aws",
		"AWS::URLSuffix": "amazonaws.com", "StorageLake": lakeBucket, "FindingsTopic": "arn", "Dedup": dedupTable})
	fm, err := flowlog.ParseFormat(cwEnv[pipeline.EnvFormat])
	if err != nil {
		t.Fatalf("the template's %s: %v", pipeline.EnvFormat, err)
	}
	c := generate(t, day, fm, stackName+"-FlowLogsLogGroup")
	accountID := c.estate.ENIs[0].AccountID // the stack's own

	loc := stack.Locals{
		"AWS::AccountId": accountID, "AWS::Region": stack.Region, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
		"StorageLake": lakeBucket, "StorageRaw": rawBucket, "FindingsTopic": topicARN, "Dedup": dedupTable,
	}
	envOf := func(name string) ([]string, map[string]string) { return tpl.Env(t, fns[name], loc) }
	_, detectEnv := envOf("detect")
	athenaSrv := standin.StartAthena(t, lakeDir, detectEnv[schedule.EnvWorkgroup], detectEnv[schedule.EnvDatabase], 7)
	// The generator's demo threat list in the lake bucket's reference/, as
	// flowlake threat-list import writes it: the threat-list-match
	// scenario's Tor exit is on it.
	athenaSrv.ReferenceDir = filepath.Join(lakeRoot, strings.TrimSuffix(lake.ReferencePrefix, "/"))
	putDemoThreatList(t, s3)
	// The Glue table's projection, as the stack creates it: an injected key
	// would make Athena reject every query that does not name it.
	tables := tpl.OfType("AWS::Glue::Table")
	if len(tables) != 4 {
		t.Fatalf("the template has %d Glue tables; want 4 (flows, threat_lists, flows_rollup and the view flows_ocsf)", len(tables))
	}
	flowsTable := tables[0]
	for _, id := range tables {
		if tpl.Resources[id].Properties["TableInput"].(map[string]any)["Name"] == lake.TableName {
			flowsTable = id
		}
	}
	params, _ := tpl.Resources[flowsTable].Properties["TableInput"].(map[string]any)["Parameters"].(map[string]any)
	for k, v := range params {
		if key, ok := strings.CutSuffix(strings.TrimPrefix(k, "projection."), ".type"); ok && v == "injected" {
			athenaSrv.Injected = append(athenaSrv.Injected, key)
		}
	}
	var enis []enrich.ENI
	for _, e := range c.estate.ENIs {
		enis = append(enis, enrich.ENI{ID: e.ID, InstanceID: e.InstanceID, Type: "interface", VPCID: e.VPCID, SubnetID: e.SubnetID,
			SecurityGroupIDs: []string{"sg-0e2e0e2e0e2e0e2e0"}, Tags: map[string]string{"Name": "e2e-" + e.ID}, Addrs: []netip.Addr{e.Addr, e.Addr6}})
	}
	ec2 := enrichtest.NewEC2Server(enis...)
	t.Cleanup(ec2.Close)
	rangesURL, caFile := stack.ServeIPRanges(t, &enrich.IPRanges{SyncToken: "1", CreateDate: "2026-11-01-00-00-00",
		Prefixes: []enrich.IPPrefix{{IPPrefix: "52.216.0.0/15", Region: "us-east-1", Service: "S3", NetworkBorderGroup: "us-east-1"}}}, `"e2e-1"`)

	// start runs a function's bootstrap with the template's environment
	// and, for the plumbing only, the loopback endpoints and credentials.
	start := func(name string) *stack.Function {
		env, m := envOf(name)
		if m[pipeline.EnvIPRanges] == enrich.AWSIPRangesURL {
			env = append(env, pipeline.EnvIPRanges+"="+rangesURL, "SSL_CERT_FILE="+caFile)
		}
		return lb.start(t, fns[name], env, "AWS_ENDPOINT_URL_ATHENA="+athenaSrv.URL,
			"AWS_ENDPOINT_URL_EC2="+ec2.URL, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+smURL)
	}
	ingestS3, ingestCW, detectFn, notifySlack := start("ingest-s3"), start("ingest-cwlogs"), start("detect"), start("notify-slack")
	compactFn := start("compact")
	t.Logf("stack up in %s", time.Since(t0).Round(time.Millisecond))

	// The raw objects, as VPC Flow Logs delivers them.
	var objs []rawObject
	for k, b := range c.s3 {
		objs = append(objs, rawObject{key: k, etag: s3.Put(t, rawBucket, k, bytes.NewReader(b)), size: len(b)})
	}
	// And an object that is not a flow-log file: skipped, and counted.
	junk := fmt.Sprintf("AWSLogs/%s/vpcflowlogs/us-east-1/%s/README.txt", accountID, day.Format("2006/01/02"))
	objs = append(objs, rawObject{key: junk, etag: s3.Put(t, rawBucket, junk, strings.NewReader("not a flow log\n")), size: 15})
	sort.Slice(objs, func(i, j int) bool { return objs[i].key < objs[j].key })
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

	// Hop 1 and 2: both ingest paths, every event twice (SQS and
	// CloudWatch Logs redeliver).
	batches := sqsBatches(accountID, rawBucket, objs)
	for round := 1; round <= 2; round++ {
		t1 := time.Now()
		for _, b := range batches {
			body := ingestS3.Invoke(t, b)
			var resp events.SQSEventResponse
			if et := stack.ErrorType(body); et != "" || json.Unmarshal(body, &resp) != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("ingest-s3: %s", body)
			}
		}
		t.Logf("hop ingest-s3 (%s), round %d: %d SQS batches of %d objects in %s", fns["ingest-s3"].Bootstrap, round, len(batches), len(objs), time.Since(t1).Round(time.Millisecond))
		t1 = time.Now()
		for _, p := range c.cw {
			body := ingestCW.Invoke(t, p)
			var res pipeline.CloudWatchResult
			if et := stack.ErrorType(body); et != "" || json.Unmarshal(body, &res) != nil || res.Rejected != 0 || res.Records == 0 {
				t.Fatalf("ingest-cwlogs: %s", body)
			}
			for _, k := range res.Keys {
				if !strings.Contains(k, "/aws_region=us-east-1/") || strings.Contains(k, "day=1970") {
					t.Errorf("ingest-cwlogs wrote %s: outside the projected partitions", k)
				}
			}
		}
		t.Logf("hop ingest-cwlogs (%s), round %d: %d subscription batches (%d records) in %s", fns["ingest-cwlogs"].Bootstrap, round, len(c.cw), c.cwRecs, time.Since(t1).Round(time.Millisecond))
		if n := rows(); n != c.records {
			t.Fatalf("ingest round %d: the lake holds %d rows; want %d (the generated records less the %d rejected lines)", round, n, c.records, c.bad)
		}
	}
	var rejected int64
	rejectFiles, _ := filepath.Glob(filepath.Join(lakeRoot, pipeline.DefaultRejectsPrefix, "*.jsonl"))
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
	// The enrichment the template turns on reached the lake: ip-ranges
	// (from the replaced URL) and the ENI metadata (from EC2).
	db, err := lakesql.Open(ctx, lakeDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var withENI, withClass int64
	if err := db.QueryRowContext(ctx, "SELECT count(eni_instance_id), count(dst_ip_class) FROM flows").Scan(&withENI, &withClass); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if withENI == 0 || withClass == 0 {
		t.Errorf("enrichment: %d rows with eni_instance_id, %d with dst_ip_class; want both set", withENI, withClass)
	}
	// And the GeoIP and ASN databases the template ships with the function.
	_, s3Env := envOf("ingest-s3")
	checkPublicPeers(t, ctx, lakeDir, fns["ingest-s3"].Bootstrap, s3Env)
	atIngest := len(sub.all())
	t.Logf("ingest ×2: %d records, %d findings published at ingest, in %s", c.records, atIngest, time.Since(t0).Round(time.Millisecond))

	// Hop 3: the schedule, every hour of the day and once more after it
	// (cron(20 * * * ? *): the run at HH:20 covers the hour before HH),
	// each firing twice.
	t1 := time.Now()
	lakeFindings := map[string]finding.Finding{}
	published := 0
	for h := 1; h <= 24; h++ {
		at := day.Add(time.Duration(h)*time.Hour + 20*time.Minute)
		for round := 1; round <= 2; round++ {
			// SNS is down for the first run over the host sweep's hour: the
			// run fails, its finding is kept as a dead letter, and the
			// retry publishes it.
			fault := h == cwHours[0]+1 && round == 1
			snsDown.Store(fault)
			body := detectFn.Invoke(t, scheduledEvent(accountID, at))
			snsDown.Store(false)
			if fault {
				if et := stack.ErrorType(body); !strings.Contains(et, "publish") {
					t.Fatalf("detect at %s with SNS down: %s; want the run to fail on publishing", at.Format(time.RFC3339), body)
				}
				continue
			}
			var res schedule.Result
			if et := stack.ErrorType(body); et != "" || json.Unmarshal(body, &res) != nil {
				t.Fatalf("detect at %s: %s", at.Format(time.RFC3339), body)
			}
			for _, f := range res.Findings {
				lakeFindings[f.ID] = f
			}
			if len(res.Findings) > 0 && res.Published {
				published++
			}
		}
	}
	deadLetters, _ := filepath.Glob(filepath.Join(lakeRoot, "dead-letter", "notify", "*", "*", "*", "*.json"))
	if len(deadLetters) == 0 {
		t.Error("SNS was down for a run, but no finding was dead-lettered in the lake bucket")
	}
	var rules []string
	for _, f := range lakeFindings {
		rules = append(rules, f.Rule)
	}
	slices.Sort(rules)
	if want := expected(); !slices.Equal(rules, want) {
		t.Fatalf("scheduled detection raised %v; want %v (each scenario's rules once, nothing from benign traffic)", rules, want)
	}
	t.Logf("hop detect (%s): 48 scheduled events (one with SNS down: %d dead letters), %d Athena queries, %d findings, %d runs published, in %s",
		fns["detect"].Bootstrap, len(deadLetters), len(athenaSrv.Queries()), len(lakeFindings), published, time.Since(t1).Round(time.Millisecond))

	// Hop 3b: the compactor's schedule, once the day's hours are closed,
	// then once more after every event was delivered again (a redelivery
	// after compaction): the rows stay the same, every column of every row
	// as a multiset, one object per partition-hour, and the detector finds
	// the same findings over the compacted lake.
	t1 = time.Now()
	snapshot := lakeRows(ctx, t, lakeDir)
	objsBefore := objectsPerHour(t, lakeDir)
	// The detector's rules, with the template's settings, over the day in
	// DuckDB (the deployed detector never reads a compacted hour again,
	// and a repeat would count as one for dedup's escalation).
	detectCfg, err := detect.ConfigFromEnv(func(k string) string { return detectEnv[k] })
	if err != nil {
		t.Fatal(err)
	}
	detectSet, err := detect.Compile(detectCfg)
	if err != nil {
		t.Fatal(err)
	}
	findingsOf := func() map[string]bool {
		t.Helper()
		// The lake bucket's flows/, with its reference/ (the threat lists)
		// beside it, as the Athena stand-in reads them.
		db, err := lakesql.OpenWithReference(ctx, lakeDir, athenaSrv.ReferenceDir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		l := detect.Lake{Set: detectSet, Querier: duck.Querier{DB: db}, Dialect: detect.DuckDB, Samples: true}
		fs, err := l.Run(ctx, day, day.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, f := range fs {
			out[fmt.Sprintf("%s %s %s %d %+v %s %s", f.ID, f.Rule, f.Severity, f.Count, f.Evidence, f.FirstSeen, f.LastSeen)] = true
		}
		return out
	}
	findingsBefore := findingsOf()
	compactAt := func(at time.Time) compact.HandlerResult {
		t.Helper()
		body := compactFn.Invoke(t, scheduledEvent(accountID, at))
		var res compact.HandlerResult
		if et := stack.ErrorType(body); et != "" || json.Unmarshal(body, &res) != nil {
			t.Fatalf("compact at %s: %s", at.Format(time.RFC3339), body)
		}
		return res
	}
	checkCompacted := func(what string) {
		t.Helper()
		if got := lakeRows(ctx, t, lakeDir); !maps.Equal(got, snapshot) {
			t.Fatalf("%s: the lake's rows differ from before compaction (%d distinct rows; want %d)", what, len(got), len(snapshot))
		}
		for dir, n := range objectsPerHour(t, lakeDir) {
			if n != 1 {
				t.Errorf("%s: %s holds %d objects; want 1", what, dir, n)
			}
		}
	}
	// The first run whose closed hours (3 h old) take in the day's last.
	first := compactAt(day.Add(27*time.Hour + 40*time.Minute))
	if first.Partitions != len(objsBefore) || first.Compacted != len(objsBefore) || len(first.Failed) != 0 {
		t.Fatalf("compact: %+v; want each of the %d partition-hours compacted", first, len(objsBefore))
	}
	checkCompacted("after compaction")
	checkRollups(ctx, t, lakeDir, athenaSrv.ReferenceDir, first.Compacted)
	redetect := findingsOf()
	if len(findingsBefore) < len(lakeFindings) || !maps.Equal(redetect, findingsBefore) {
		t.Errorf("detection over the compacted lake: %v; want the same findings, counts and evidence as before: %v", redetect, findingsBefore)
	}
	// Every event again, days later as far as the lake can tell: a third
	// delivery of each. Dedup remembers each finding's sources, so this
	// notifies nothing again (hop 4 counts one delivery per finding) and
	// escalates nothing.
	for _, b := range batches {
		if body := ingestS3.Invoke(t, b); stack.ErrorType(body) != "" {
			t.Fatalf("ingest-s3 again: %s", body)
		}
	}
	for _, p := range c.cw {
		if body := ingestCW.Invoke(t, p); stack.ErrorType(body) != "" {
			t.Fatalf("ingest-cwlogs again: %s", body)
		}
	}
	if n := rows(); n != 2*c.records {
		t.Errorf("redelivered after compaction, before the next run: %d rows; want every row twice, %d (the package's documented window)", n, 2*c.records)
	}
	// Each redelivered object is the object compaction replaced, byte for
	// byte (the same ETag): the next run deletes it as a leftover; one
	// written with other bytes would be read and its rows replaced.
	again := -len(objsBefore) // the compacted objects
	for _, n := range objectsPerHour(t, lakeDir) {
		again += n
	}
	second := compactAt(day.Add(28*time.Hour + 40*time.Minute))
	if again <= 0 || second.ObjectsDeleted+second.Redelivered != again || len(second.Failed) != 0 {
		t.Errorf("compact after the redelivery: %+v; want the %d redelivered ingest objects deleted or replaced", second, again)
	}
	checkCompacted("after a redelivery and the next compaction")
	t.Logf("hop compact (%s): %d partition-hours, %d objects into %d; %d redelivered objects deleted, %d replaced; %d findings the same; in %s",
		fns["compact"].Bootstrap, first.Compacted, first.ObjectsRead, first.ObjectsWritten, second.ObjectsDeleted, second.Redelivered, len(redetect), time.Since(t1).Round(time.Millisecond))

	// Hop 4: one SNS delivery per finding, whichever engine published it
	// first; the dedup table remembers each. The host sweep came through
	// CloudWatch Logs in batches too small for the batch engine, so the
	// scheduled detector published it.
	got := sub.all()
	perID := map[string]int{}
	engines := map[string]finding.Engine{}
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
		engines[f.Rule] = f.Engine
		ev, _ := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", EventVersion: "1.0",
			EventSubscriptionArn: topicARN + ":e2e", SNS: events.SNSEntity{Type: n.Type, MessageID: n.MessageId, TopicArn: n.TopicArn,
				Subject: n.Subject, Message: perProtocol["lambda"], Timestamp: time.Now().UTC()}}}})
		snsEvents = append(snsEvents, ev)
	}
	st := &dedup.Store{Client: ddb, Table: dedupTable}
	for _, f := range lakeFindings {
		if s, ok, err := st.Get(ctx, f.ID); err != nil || !ok || s.Rule != f.Rule {
			t.Errorf("dedup state of %s = %+v, %v, %v", f.ID, s, ok, err)
		}
		if perID[f.ID] != 1 {
			t.Errorf("finding %s (%s %s): %d SNS deliveries; want 1", f.ID, f.Rule, f.Entity, perID[f.ID])
		}
		delete(perID, f.ID)
	}
	for id, n := range perID {
		t.Errorf("finding %s delivered %d times, but the scheduled detection did not raise it", id, n)
	}
	if engines["host-sweep"] != finding.EngineLake || published == 0 {
		t.Errorf("the host sweep was published by the %q engine, %d detect runs published; want the scheduled detector to publish it", engines["host-sweep"], published)
	}
	t.Logf("hop SNS (goaws): %d deliveries, %d published at ingest, engines %v", len(got), atIngest, engines)

	// Hop 5: notify-slack on each delivery, as SNS invokes it.
	for _, ev := range snsEvents {
		if body := notifySlack.Invoke(t, ev); stack.ErrorType(body) != "" {
			t.Fatalf("notify-slack: %s", body)
		}
	}
	posts := hk.Accepted()
	if len(posts) != len(lakeFindings) {
		t.Fatalf("%d Slack posts; want %d, one per finding", len(posts), len(lakeFindings))
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
	t.Logf("hop notify-slack (%s): %d SNS events, %d Slack posts", fns["notify-slack"].Bootstrap, len(snsEvents), len(posts))

	// Hop 6: the stack's saved queries (AWS::Athena::NamedQuery), in its
	// workgroup, through the Athena API.
	q := &detectathena.Querier{Client: athena.New(athena.Options{Region: stack.Region, BaseEndpoint: aws.String(athenaSrv.URL), Credentials: creds}),
		Workgroup: detectEnv[schedule.EnvWorkgroup], Database: detectEnv[schedule.EnvDatabase], Poll: 10 * time.Millisecond}
	named := tpl.OfType("AWS::Athena::NamedQuery")
	if len(named) == 0 {
		t.Fatal("the template has no saved queries")
	}
	for _, id := range named {
		p := tpl.Resources[id].Properties
		sql := p["QueryString"].(string)
		if strings.Contains(sql, "?") {
			sql = bindWhy(ctx, t, q, sql)
		}
		rs, err := q.Query(ctx, sql)
		if err != nil {
			t.Errorf("saved query %v: %v", p["Name"], err)
			continue
		}
		if len(rs) == 0 {
			t.Errorf("saved query %v returned no rows over a day of flows", p["Name"])
		}
	}
	// And the README's queries, unchanged.
	readme, err := os.ReadFile(filepath.Join(stack.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var readmeQueries int
	for _, m := range readmeQuery.FindAllStringSubmatch(string(readme), -1) {
		readmeQueries++
		if rs, err := q.Query(ctx, m[1]); err != nil || len(rs) == 0 {
			t.Errorf("README query %q: %d rows, %v; want rows", m[1], len(rs), err)
		}
	}
	if readmeQueries == 0 {
		t.Error("found no flowlake query \"SQL\" example in the README")
	}
	t.Logf("hop saved queries (Athena stand-in): %d saved queries and %d README queries, injected keys %v", len(named), readmeQueries, athenaSrv.Injected)
	// Hop 7: the dashboard the template creates shows only metrics the
	// bootstraps emitted: each flowlake widget metric's name and dimension
	// keys are those of an EMF line one of them wrote, and its Function is
	// a function that wrote it.
	checkDashboard(t, tpl, loc, ingestS3, ingestCW, detectFn, notifySlack, compactFn)

	t.Logf("end to end: %d S3 objects and %d CloudWatch batches, %d rows, %d findings (%d at ingest), %d SNS deliveries, %d Slack posts in %s",
		len(objs), len(c.cw), c.records, len(lakeFindings), atIngest, len(got), len(posts), time.Since(t0).Round(time.Millisecond))
}

// lakeRows returns every row of the lake as DuckDB reads it (the table
// flows), every column, NULLs included, as a multiset: row → count.
func lakeRows(ctx context.Context, t *testing.T, lakeDir string) map[string]int {
	t.Helper()
	db, err := lakesql.Open(ctx, lakeDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.QueryContext(ctx, "SELECT * FROM flows")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := map[string]int{}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if v == nil {
				fmt.Fprintf(&b, "%s=NULL\x1f", cols[i])
			} else {
				fmt.Fprintf(&b, "%s=%#v\x1f", cols[i], v)
			}
		}
		out[b.String()]++
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// objectsPerHour counts the Parquet objects of each partition-hour folder.
func objectsPerHour(t *testing.T, lakeDir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	paths, _ := filepath.Glob(filepath.Join(lakeDir, "*", "*", "*", "*", "*.parquet"))
	for _, p := range paths {
		out[filepath.Dir(p)]++
	}
	if len(out) == 0 {
		t.Fatal("no Parquet object in the lake")
	}
	return out
}

// checkDashboard matches the widgets of the template's dashboard with the
// EMF lines the functions wrote: each flowlake metric a widget shows has
// the name and dimension keys of a line some function wrote, and its
// Function is one that writes metrics.
func checkDashboard(t *testing.T, tpl *stack.Template, loc stack.Locals, fns ...*stack.Function) {
	t.Helper()
	type key struct{ ns, name, dims string }
	emitted := map[key]bool{}
	functions := map[string]bool{} // the Function values the lines carry
	lines := 0
	for _, f := range fns {
		ls, err := emf.Parse(strings.NewReader(f.Logs.String()))
		if err != nil {
			t.Fatal(err)
		}
		lines += len(ls)
		for _, l := range ls {
			for _, d := range l.Dimensions {
				ds := slices.Clone(d)
				slices.Sort(ds)
				for m := range l.Metrics {
					emitted[key{l.Namespace, m, strings.Join(ds, ",")}] = true
				}
				if fn, ok := l.Props[emf.DimFunction].(string); ok {
					functions[fn] = true
				}
			}
		}
	}
	ids := tpl.OfType("AWS::CloudWatch::Dashboard")
	if len(ids) != 1 {
		t.Fatalf("%d dashboards in the template; want 1", len(ids))
	}
	withAny := stack.Locals{"*": "x"}
	for k, v := range loc {
		withAny[k] = v
	}
	body, err := tpl.Resolve(tpl.Resources[ids[0]].Properties["DashboardBody"], withAny)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Widgets []struct {
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("dashboard body: %v", err)
	}
	checked := 0
	for _, w := range d.Widgets {
		for _, m := range w.Properties.Metrics {
			var parts []string
			for _, v := range m {
				if s, ok := v.(string); ok {
					parts = append(parts, s)
				}
			}
			if len(parts) < 2 || parts[0] != emf.DefaultNamespace {
				continue
			}
			dims := map[string]string{}
			var names []string
			for i := 2; i+1 < len(parts); i += 2 {
				dims[parts[i]] = parts[i+1]
				names = append(names, parts[i])
			}
			slices.Sort(names)
			switch {
			case !emitted[key{parts[0], parts[1], strings.Join(names, ",")}]:
				t.Errorf("dashboard widget %q shows %v, which no function emitted", w.Properties.Title, parts)
			case dims[emf.DimFunction] != "" && !functions[dims[emf.DimFunction]]:
				t.Errorf("dashboard widget %q shows %v for function %s, which emits no metric", w.Properties.Title, parts, dims[emf.DimFunction])
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("the dashboard shows no flowlake metric")
	}
	t.Logf("hop dashboard: %d widget metrics matched against %d EMF lines the bootstraps wrote", checked, lines)
}

// bindWhy binds the ? execution parameters of flowlake why's saved query
// (first day, last day, source, destination, port, then destination,
// source and port of the reply) to a connection of the lake, as Athena
// binds ExecutionParameters: each in turn, strings quoted.
func bindWhy(ctx context.Context, t *testing.T, q detect.Querier, sql string) string {
	t.Helper()
	rs, err := q.Query(ctx, `SELECT "day", srcaddr, dstaddr, dstport FROM flows WHERE log_status = 'OK' AND protocol = 6 ORDER BY "start" LIMIT 1`)
	if err != nil || len(rs) != 1 {
		t.Fatalf("a connection of the lake: %v, %v", rs, err)
	}
	r := rs[0]
	lit := func(s string) string { return "'" + s + "'" }
	for _, v := range []string{lit(r["day"]), lit(r["day"]), lit(r["srcaddr"]), lit(r["dstaddr"]), r["dstport"], lit(r["dstaddr"]), lit(r["srcaddr"]), r["dstport"]} {
		sql = strings.Replace(sql, "?", v, 1)
	}
	if strings.Contains(sql, "?") {
		t.Fatalf("saved query with more parameters than flowlake why's:\n%s", sql)
	}
	return sql
}

// putDemoThreatList writes the generator's demo threat list into the lake
// bucket, as flowlake threat-list import writes it into a lake.
func putDemoThreatList(t *testing.T, s3 *stack.S3) {
	t.Helper()
	l, bad, err := threatlist.Parse(flowgen.DemoThreatListName, "", strings.NewReader(flowgen.DemoThreatList()))
	if err != nil || len(bad) > 0 {
		t.Fatalf("demo list: %v %v", bad, err)
	}
	dir := t.TempDir()
	if _, err := lake.WriteThreatList(context.Background(), lake.DirStore{Root: dir}, "", l, []byte(flowgen.DemoThreatList())); err != nil {
		t.Fatal(err)
	}
	// The table's rows (the detector's Athena join) and the source (the
	// ingest functions' batch engine, FLOWLAKE_THREAT_LISTS).
	for _, key := range []string{lake.ThreatListKey("", l.Name), lake.ThreatListSourceKey("", l.Name)} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
		if err != nil {
			t.Fatal(err)
		}
		s3.Put(t, lakeBucket, key, bytes.NewReader(b))
	}
}

// checkRollups: the compact bootstrap, with the template's environment
// (DETECT_INTERNAL among it), wrote one rollup per compacted hour beside
// the flows, and the flows_rollup table the detector joins (the Athena
// stand-in's view) adds up to what DuckDB counts in the flows: egress to
// addresses that are not ours (private ranges and the estate's IPv6 block
// are), by interface.
func checkRollups(ctx context.Context, t *testing.T, lakeDir, refDir string, compacted int) {
	t.Helper()
	rollups, _ := filepath.Glob(filepath.Join(filepath.Dir(lakeDir), compact.RollupPrefix, "*", "*", "*", "*", compact.RollupName))
	if len(rollups) != compacted {
		t.Errorf("%d rollups; want one per compacted hour, %d", len(rollups), compacted)
	}
	db, err := lakesql.OpenWithReference(ctx, lakeDir, refDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ours := func(col string) string {
		return fmt.Sprintf(`(regexp_matches(%s, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|127\.|169\.254\.|f[cd]..:|fe[89ab].:)') OR %s LIKE '%s')`,
			col, col, strings.TrimSuffix(flowgen.EstateIPv6Prefix.Addr().String(), ":")+"%")
	}
	var want, got string
	if err := db.QueryRowContext(ctx, `SELECT string_agg(e, ';' ORDER BY e) FROM (SELECT interface_id || '=' || count(*) || '/' || sum(bytes) AS e
		FROM flows WHERE interface_id IS NOT NULL AND dstaddr IS NOT NULL AND NOT `+ours("dstaddr")+`
		AND (flow_direction = 'egress' OR (flow_direction IS NULL AND `+ours("srcaddr")+`)) GROUP BY interface_id)`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT string_agg(e, ';' ORDER BY e) FROM (SELECT interface_id || '=' || sum(flows) || '/' || sum(bytes) AS e
		FROM flows_rollup GROUP BY interface_id)`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want == "" || got != want {
		t.Errorf("flows_rollup by interface:\n%.300s\nwant, from the flows:\n%.300s", got, want)
	}
}
