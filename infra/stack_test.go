package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/queries"
)

// The stacks every test reads: one app, synthesized once, with the
// AwsSolutions pack applied as main applies it.
var (
	full, s3only, cwonly *Stack
	templates            = map[string]assertions.Template{}
	docs                 = map[string]map[string]any{}
	code                 map[string]string
	realBuild            bool
)

var fullContext = map[string]any{
	CtxStackName:           "Full",
	CtxVPCs:                []any{"vpc-0123456789abcdef0"},
	CtxSubnets:             []any{"subnet-0123456789abcdef0"},
	CtxENIs:                []any{"eni-0123456789abcdef0"},
	CtxTrafficType:         "ALL",
	CtxAggregationInterval: 60.0,
	CtxDestination:         "both",
	CtxAlertEmails:         []any{"sec@example.com", "soc@example.com"},
	CtxEmailMinSeverity:    "high",
	CtxOpsEmails:           []any{"ops@example.com"},
	CtxSlackSecretName:     "flowlake/slack",
	CtxDetectInternal:      []any{"100.64.0.0/10"},
}

// TestMain builds the four functions once for arm64 into a temporary
// folder (with -short, stub bootstraps instead), builds one app with three
// stacks and synthesizes it.
func TestMain(m *testing.M) {
	flag.Parse()
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		jsii.Close()
		os.Exit(1)
	}
	rc := m.Run()
	jsii.Close()
	for _, d := range code {
		os.RemoveAll(filepath.Dir(d))
		break
	}
	os.Exit(rc)
}

func setup() (map[string]string, error) {
	tmp, err := os.MkdirTemp("", "flowlake-infra-test-")
	if err != nil {
		return nil, err
	}
	names := []string{FnIngestS3, FnIngestCWLogs, FnDetect, FnNotifySlack}
	if testing.Short() {
		code = map[string]string{}
		for _, n := range names {
			dir := filepath.Join(tmp, n)
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("stub "+n), 0o755); err != nil {
				return nil, err
			}
			code[n] = dir
		}
	} else {
		root, err := RepoRoot(".")
		if err != nil {
			return nil, err
		}
		if code, err = BuildFunctions(root, names, tmp); err != nil {
			return nil, err
		}
		realBuild = true
	}
	// As in cdk.json: CloudFormation schema violations fail the synth.
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir:  jsii.String(filepath.Join(tmp, "cdk.out")),
		Context: &map[string]any{"@aws-cdk/core:validateAgainstDefaultRules": true},
	})
	mk := func(kv map[string]any) (*Stack, error) {
		cfg, err := ConfigFromContext(func(k string) any { return kv[k] })
		if err != nil {
			return nil, err
		}
		return NewStack(app, cfg.StackName, StackProps{Config: cfg, Code: code})
	}
	if full, err = mk(fullContext); err != nil {
		return nil, err
	}
	if s3only, err = mk(map[string]any{CtxStackName: "S3Only", CtxVPCs: "vpc-89abcdef"}); err != nil {
		return nil, err
	}
	if cwonly, err = mk(map[string]any{CtxStackName: "CWOnly", CtxENIs: "eni-89abcdef", CtxDestination: "cloudwatch", CtxLogFormat: "default"}); err != nil {
		return nil, err
	}
	ApplyNag(app)
	for _, s := range []*Stack{full, s3only, cwonly} {
		name := *s.StackName()
		templates[name] = assertions.Template_FromStack(s.Stack, nil)
		b, _ := json.Marshal(templates[name].ToJSON())
		var doc map[string]any
		json.Unmarshal(b, &doc)
		docs[name] = doc
	}
	return code, nil
}

// resources returns the template's resources of one type, by logical id.
func resources(stack, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range docs[stack]["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			props, _ := r["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func obj(m map[string]any) *map[string]any { return &m }

func TestFlowLogs(t *testing.T) {
	tpl := templates["Full"]
	// 3 resources (VPC, subnet, ENI) × 2 destinations.
	count(t, tpl, jsii.String("AWS::EC2::FlowLog"), jsii.Number(6))
	for _, res := range []map[string]any{
		{"ResourceType": "VPC", "ResourceId": "vpc-0123456789abcdef0"},
		{"ResourceType": "Subnet", "ResourceId": "subnet-0123456789abcdef0"},
		{"ResourceType": "NetworkInterface", "ResourceId": "eni-0123456789abcdef0"},
	} {
		has(t, tpl, jsii.String("AWS::EC2::FlowLog"), obj(map[string]any{
			"ResourceType": res["ResourceType"], "ResourceId": res["ResourceId"],
			"TrafficType": "ALL", "MaxAggregationInterval": 60, "LogFormat": RichFormat,
			"LogDestinationType": "s3",
			"DestinationOptions": map[string]any{"FileFormat": "plain-text", "HiveCompatiblePartitions": false, "PerHourPartition": false},
		}))
		has(t, tpl, jsii.String("AWS::EC2::FlowLog"), obj(map[string]any{
			"ResourceType": res["ResourceType"], "ResourceId": res["ResourceId"],
			"LogDestinationType":       "cloud-watch-logs",
			"DeliverLogsPermissionArn": assertions.Match_AnyValue(),
			"LogGroupName":             assertions.Match_AnyValue(),
		}))
	}
	// Defaults: REJECT, 10 minutes, S3 only.
	s3 := templates["S3Only"]
	count(t, s3, jsii.String("AWS::EC2::FlowLog"), jsii.Number(1))
	has(t, s3, jsii.String("AWS::EC2::FlowLog"), obj(map[string]any{
		"ResourceType": "VPC", "TrafficType": "REJECT", "MaxAggregationInterval": 600, "LogDestinationType": "s3", "LogFormat": RichFormat,
	}))
	count(t, s3, jsii.String("AWS::Logs::QueryDefinition"), jsii.Number(0))
	count(t, s3, jsii.String("AWS::Logs::SubscriptionFilter"), jsii.Number(0))
	cw := templates["CWOnly"]
	has(t, cw, jsii.String("AWS::EC2::FlowLog"), obj(map[string]any{
		"ResourceType": "NetworkInterface", "LogDestinationType": "cloud-watch-logs", "LogFormat": flowlog.DefaultFormat,
		"DestinationOptions": assertions.Match_Absent(),
	}))
}

func TestFlowLogDeliveryToS3(t *testing.T) {
	// The delivery service's grant lives in the raw bucket's policy, with
	// the confused-deputy conditions.
	has(t, templates["S3Only"], jsii.String("AWS::S3::BucketPolicy"), obj(map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(obj(map[string]any{"Sid": "AWSLogDeliveryAclCheck", "Action": []any{"s3:GetBucketAcl", "s3:ListBucket"}})),
			assertions.Match_ObjectLike(obj(map[string]any{
				"Sid": "AWSLogDeliveryWrite", "Action": "s3:PutObject", "Effect": "Allow",
				"Principal": map[string]any{"Service": "delivery.logs.amazonaws.com"},
				"Condition": map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}, "s3:x-amz-acl": "bucket-owner-full-control"},
					"ArnLike":      map[string]any{"aws:SourceArn": assertions.Match_AnyValue()},
				},
			})),
		})},
	}))
}

func TestFlowLogsToCloudWatch(t *testing.T) {
	tpl := templates["Full"]
	has(t, tpl, jsii.String("AWS::Logs::LogGroup"), obj(map[string]any{"RetentionInDays": 14}))
	// The delivery role trusts the service for this account's flow logs only.
	has(t, tpl, jsii.String("AWS::IAM::Role"), obj(map[string]any{
		"AssumeRolePolicyDocument": map[string]any{"Statement": []any{assertions.Match_ObjectLike(obj(map[string]any{
			"Principal": map[string]any{"Service": "vpc-flow-logs.amazonaws.com"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}}, "ArnLike": assertions.Match_AnyValue()},
		}))}},
	}))
	count(t, tpl, jsii.String("AWS::Logs::SubscriptionFilter"), jsii.Number(1))
	has(t, tpl, jsii.String("AWS::Logs::SubscriptionFilter"), obj(map[string]any{
		"FilterPattern": "", "DestinationArn": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^IngestCWLogsFunction")), "Arn"}},
	}))
	// Saved queries, the guide's first, with the format's field names.
	qs := InsightsQueries(flowlog.MustParseFormat(RichFormat))
	count(t, tpl, jsii.String("AWS::Logs::QueryDefinition"), jsii.Number(len(qs)))
	has(t, tpl, jsii.String("AWS::Logs::QueryDefinition"), obj(map[string]any{
		"Name": "flowlake/top-rejected-destination-ports", "QueryString": qs[0].Query,
		"LogGroupNames": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^FlowLogsLogGroup"))}},
	}))
	// With the default format, only the queries its fields allow.
	count(t, templates["CWOnly"], jsii.String("AWS::Logs::QueryDefinition"), jsii.Number(4))
	has(t, templates["CWOnly"], jsii.String("AWS::Logs::QueryDefinition"), obj(map[string]any{
		"Name": "flowlake/top-rejected-destination-ports", "QueryString": assertions.Match_StringLikeRegexp(jsii.String(" as version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, log_status\n")),
	}))
	// ingest-cwlogs parses with the same format.
	has(t, tpl, jsii.String("AWS::Lambda::Function"), obj(map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{"FLOWLAKE_FLOW_LOG_FORMAT": RichFormat}))},
	}))
	has(t, templates["CWOnly"], jsii.String("AWS::Lambda::Function"), obj(map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{"FLOWLAKE_FLOW_LOG_FORMAT": flowlog.DefaultFormat}))},
	}))
	// Both ingest functions enrich with ENI metadata and publish findings.
	has(t, tpl, jsii.String("AWS::Lambda::Function"), obj(map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{
			"FLOWLAKE_FLOW_LOG_FORMAT": RichFormat, "FLOWLAKE_ENI_METADATA": "true",
			"FLOWLAKE_IP_RANGES":          "https://ip-ranges.amazonaws.com/ip-ranges.json",
			"FLOWLAKE_FINDINGS_TOPIC_ARN": assertions.Match_AnyValue(), "FLOWLAKE_DEDUP_TABLE": assertions.Match_AnyValue(),
		}))},
	}))
}

func TestBuckets(t *testing.T) {
	for _, name := range []string{"Full", "S3Only", "CWOnly"} {
		buckets := resources(name, "AWS::S3::Bucket")
		if len(buckets) != 4 {
			t.Errorf("%s: %d buckets; want 4 (access logs, raw, lake, Athena results)", name, len(buckets))
		}
		logged := 0
		for id, b := range buckets {
			pab := js(b["PublicAccessBlockConfiguration"])
			if pab != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
				t.Errorf("%s/%s: PublicAccessBlockConfiguration = %s; want all blocked", name, id, pab)
			}
			if !strings.Contains(js(b["BucketEncryption"]), `"SSEAlgorithm":"AES256"`) {
				t.Errorf("%s/%s: BucketEncryption = %s; want SSE-S3", name, id, js(b["BucketEncryption"]))
			}
			if b["LoggingConfiguration"] != nil {
				logged++
			}
			if b["LifecycleConfiguration"] == nil {
				t.Errorf("%s/%s: no lifecycle", name, id)
			}
		}
		if logged != 3 {
			t.Errorf("%s: %d buckets log server access; want 3 (all but the log bucket)", name, logged)
		}
		// TLS: every bucket policy denies insecure transport and TLS < 1.2.
		pols := resources(name, "AWS::S3::BucketPolicy")
		if len(pols) != 4 {
			t.Errorf("%s: %d bucket policies; want 4", name, len(pols))
		}
		for id, p := range pols {
			s := js(p)
			if !strings.Contains(s, `"aws:SecureTransport":"false"`) || !strings.Contains(s, `"s3:TlsVersion":1.2`) {
				t.Errorf("%s/%s: policy does not enforce TLS 1.2: %s", name, id, s)
			}
		}
	}
	tpl := templates["S3Only"]
	// Raw: versioned, expires after 30 days.
	has(t, tpl, jsii.String("AWS::S3::Bucket"), obj(map[string]any{
		"VersioningConfiguration": map[string]any{"Status": "Enabled"},
		"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
			"Id": "expire-raw", "ExpirationInDays": 30, "Status": "Enabled",
		}))})},
	}))
	// Lake: versioned, to STANDARD_IA after 90 days, never expires.
	has(t, tpl, jsii.String("AWS::S3::Bucket"), obj(map[string]any{
		"VersioningConfiguration": map[string]any{"Status": "Enabled"},
		"LifecycleConfiguration": map[string]any{"Rules": []any{assertions.Match_ObjectLike(obj(map[string]any{
			"Id": "lake-tiering", "ExpirationInDays": assertions.Match_Absent(),
			"Transitions": []any{map[string]any{"StorageClass": "STANDARD_IA", "TransitionInDays": 90}},
		}))}},
	}))
	// The raw bucket notifies the ingest queue of new flow-log files only.
	has(t, tpl, jsii.String("Custom::S3BucketNotifications"), obj(map[string]any{
		"NotificationConfiguration": map[string]any{"QueueConfigurations": []any{assertions.Match_ObjectLike(obj(map[string]any{
			"Events": []any{"s3:ObjectCreated:*"},
			"Filter": map[string]any{"Key": map[string]any{"FilterRules": []any{map[string]any{"Name": "prefix", "Value": RawPrefix}}}},
		}))}},
	}))
	count(t, templates["CWOnly"], jsii.String("Custom::S3BucketNotifications"), jsii.Number(0))
}

// TestProjectedPartitions: a query that filters on no partition key
// projects the stack table's accounts × regions × days × 24 partitions,
// under Athena's limit for a scan; with the defaults (the stack's account
// and region, from 2020-01-01) that is 24 a day.
func TestProjectedPartitions(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	n, ok := s3only.Catalog.TableDef.ProjectedPartitions(now)
	days := int64(now.Sub(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))/(24*time.Hour)) + 1
	if !ok || n != days*24 || n > lake.MaxScanPartitions {
		t.Errorf("ProjectedPartitions = %d, %v; want %d (1 account × 1 region × %d days × 24), under %d", n, ok, days*24, days, lake.MaxScanPartitions)
	}
	t.Logf("an unfiltered query projects %d partitions on %s", n, now.Format(time.DateOnly))
}

func TestCatalog(t *testing.T) {
	tpl := templates["S3Only"]
	has(t, tpl, jsii.String("AWS::Glue::Database"), obj(map[string]any{
		"DatabaseInput": map[string]any{"Name": "flowlake", "Description": assertions.Match_AnyValue()},
	}))
	tables := resources("S3Only", "AWS::Glue::Table")
	if len(tables) != 1 {
		t.Fatalf("%d Glue tables; want 1", len(tables))
	}
	var in map[string]any
	for _, p := range tables {
		in = p["TableInput"].(map[string]any)
	}
	def := s3only.Catalog.TableDef
	var want []string
	for _, c := range def.Columns {
		want = append(want, c.Name+" "+c.Type)
	}
	var got []string
	for _, c := range in["StorageDescriptor"].(map[string]any)["Columns"].([]any) {
		c := c.(map[string]any)
		got = append(got, fmt.Sprint(c["Name"], " ", c["Type"]))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Glue columns = %v;\nwant the lake schema's %v", got, want)
	}
	for _, c := range []string{"srcaddr string", "bytes bigint", "dstport int", "start_time timestamp", "protocol_name string", "dst_aws_service string", "eni_tags map<string,string>"} {
		if !strings.Contains(","+strings.Join(got, ",")+",", ","+c+",") {
			t.Errorf("Glue columns lack %q", c)
		}
	}
	if js(in["PartitionKeys"]) == "" || !strings.Contains(js(in["PartitionKeys"]), `"Name":"aws_account"`) || !strings.Contains(js(in["PartitionKeys"]), `"Name":"hour"`) {
		t.Errorf("PartitionKeys = %s", js(in["PartitionKeys"]))
	}
	params := in["Parameters"].(map[string]any)
	for k, v := range map[string]string{"projection.enabled": "true", "projection.day.type": "date", "projection.aws_account.type": "enum", "classification": "parquet"} {
		if params[k] != v {
			t.Errorf("table parameter %s = %v; want %q", k, params[k], v)
		}
	}
	if !strings.Contains(js(params["storage.location.template"]), "/flows/aws_account=${aws_account}/aws_region=${aws_region}/day=${day}/hour=${hour}") {
		t.Errorf("storage.location.template = %s", js(params["storage.location.template"]))
	}
	if !strings.Contains(js(params["projection.aws_account.values"]), `"Ref":"AWS::AccountId"`) {
		t.Errorf("projection.aws_account.values = %s; want the stack's account", js(params["projection.aws_account.values"]))
	}
	if params["projection.aws_region.type"] != "enum" || !strings.Contains(js(params["projection.aws_region.values"]), `"Ref":"AWS::Region"`) {
		t.Errorf("projection.aws_region = %v %s; want an enum of the stack's region", params["projection.aws_region.type"], js(params["projection.aws_region.values"]))
	}
	has(t, tpl, jsii.String("AWS::Athena::WorkGroup"), obj(map[string]any{
		"Name": "flowlake", "State": "ENABLED",
		"WorkGroupConfiguration": assertions.Match_ObjectLike(obj(map[string]any{
			"EnforceWorkGroupConfiguration":   true,
			"PublishCloudWatchMetricsEnabled": true,
			"BytesScannedCutoffPerQuery":      10 << 30,
			"ResultConfiguration": map[string]any{
				"OutputLocation":          map[string]any{"Fn::Join": []any{"", []any{"s3://", map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^StorageAthenaResults"))}, "/athena/"}}},
				"EncryptionConfiguration": map[string]any{"EncryptionOption": "SSE_S3"},
				"ExpectedBucketOwner":     map[string]any{"Ref": "AWS::AccountId"},
			},
		})),
	}))
	qs := queries.All()
	count(t, tpl, jsii.String("AWS::Athena::NamedQuery"), jsii.Number(len(qs)))
	for _, q := range qs {
		has(t, tpl, jsii.String("AWS::Athena::NamedQuery"), obj(map[string]any{
			"Name": "flowlake: " + q.Name, "QueryString": q.SQL, "Database": "flowlake",
			"WorkGroup": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^CatalogWorkgroup"))},
		}))
	}
}

func TestFunctions(t *testing.T) {
	tpl := templates["Full"]
	// The four, and the CDK's deploy-time BucketNotificationsHandler.
	count(t, tpl, jsii.String("AWS::Lambda::Function"), jsii.Number(5))
	count(t, templates["S3Only"], jsii.String("AWS::Lambda::Function"), jsii.Number(3)) // ingest-s3, detect, the handler
	count(t, templates["CWOnly"], jsii.String("AWS::Lambda::Function"), jsii.Number(3)) // ingest-s3, ingest-cwlogs, detect
	for id, f := range resources("Full", "AWS::Lambda::Function") {
		if f["LoggingConfig"] == nil {
			t.Errorf("%s: no LoggingConfig: want its own log group", id)
		}
		if strings.HasPrefix(id, "BucketNotificationsHandler") {
			continue
		}
		if f["Runtime"] != "provided.al2023" || js(f["Architectures"]) != `["arm64"]` || f["Handler"] != "bootstrap" {
			t.Errorf("%s: runtime %v %v %v; want provided.al2023, arm64, bootstrap", id, f["Runtime"], f["Architectures"], f["Handler"])
		}
	}
	// Every log group is kept a while: functions 30 days, flow logs 14.
	for id, lg := range resources("Full", "AWS::Logs::LogGroup") {
		if d := lg["RetentionInDays"]; d != 30.0 && d != 14.0 {
			t.Errorf("%s: RetentionInDays = %v; want 30 (function) or 14 (flow logs)", id, d)
		}
	}
	count(t, tpl, jsii.String("AWS::Logs::LogGroup"), jsii.Number(6)) // 4 functions, the handler, flow logs

	// ingest-s3: SQS with a DLQ and partial batch failures; visibility at
	// least six times the function's timeout.
	var timeout float64
	for id, f := range resources("Full", "AWS::Lambda::Function") {
		if strings.HasPrefix(id, "IngestS3") {
			timeout = f["Timeout"].(float64)
		}
	}
	var queue map[string]any
	for id, q := range resources("Full", "AWS::SQS::Queue") {
		if strings.HasPrefix(id, "IngestS3Queue") {
			queue = q
		}
	}
	if queue == nil || queue["VisibilityTimeout"].(float64) < 6*timeout || queue["RedrivePolicy"] == nil {
		t.Errorf("ingest queue = %s; want a DLQ and visibility ≥ 6 × %v s", js(queue), timeout)
	}
	has(t, tpl, jsii.String("AWS::Lambda::EventSourceMapping"), obj(map[string]any{
		"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
		"EventSourceArn":        map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^IngestS3Queue")), "Arn"}},
	}))
	for id, q := range resources("Full", "AWS::SQS::Queue") {
		if q["SqsManagedSseEnabled"] != true {
			t.Errorf("%s: not encrypted", id)
		}
	}
	// detect: on a schedule.
	has(t, tpl, jsii.String("AWS::Events::Rule"), obj(map[string]any{
		"ScheduleExpression": "cron(20 * * * ? *)",
		"Targets":            []any{assertions.Match_ObjectLike(obj(map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^DetectFunction")), "Arn"}}}))},
	}))
	has(t, tpl, jsii.String("AWS::Lambda::Function"), obj(map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{
			"ATHENA_WORKGROUP": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^CatalogWorkgroup"))},
			"ATHENA_DATABASE":  "flowlake", "DETECT_ACCOUNTS": map[string]any{"Ref": "AWS::AccountId"}, "DETECT_INTERNAL": "100.64.0.0/10",
		}))},
	}))
	// Every function that finds things publishes them the same way: the
	// topic, the dedup table, dead letters in the lake bucket; and ingest
	// detects with the same settings as the scheduled detector.
	for id, f := range resources("Full", "AWS::Lambda::Function") {
		if !strings.HasPrefix(id, "Detect") && !strings.HasPrefix(id, "Ingest") {
			continue
		}
		env := js(f["Environment"])
		for _, want := range []string{`"FLOWLAKE_FINDINGS_TOPIC_ARN":{"Ref":"FindingsTopic`, `"FLOWLAKE_DEDUP_TABLE":{"Ref":"Dedup`,
			`"FLOWLAKE_DEAD_LETTER_BUCKET":{"Ref":"StorageLake`, `"FLOWLAKE_DEAD_LETTER_PREFIX":"dead-letter/notify"`, `"DETECT_INTERNAL":"100.64.0.0/10"`} {
			if !strings.Contains(env, want) {
				t.Errorf("%s: environment %s lacks %s", id, env, want)
			}
		}
		if strings.HasPrefix(id, "Detect") && strings.Contains(env, "FLOWLAKE_LAKE_BUCKET") {
			t.Errorf("%s: the detector reads the lake through Athena only, but has %s", id, env)
		}
	}
	// notify-slack: subscribed with a DLQ, reads the one secret.
	has(t, tpl, jsii.String("AWS::SNS::Subscription"), obj(map[string]any{
		"Protocol": "lambda", "RedrivePolicy": map[string]any{"deadLetterTargetArn": assertions.Match_AnyValue()},
		"TopicArn": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^FindingsTopic"))},
	}))
	has(t, tpl, jsii.String("AWS::Lambda::Function"), obj(map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{"SLACK_WEBHOOK_SECRET": "flowlake/slack"}))},
	}))
	count(t, templates["S3Only"], jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
}

// policyOf returns the statements of the policy attached to the role whose
// logical id starts with prefix.
func policyOf(t *testing.T, stack, prefix string) string {
	t.Helper()
	var out []string
	for _, p := range resources(stack, "AWS::IAM::Policy") {
		if strings.Contains(js(p["Roles"]), `"`+prefix) {
			out = append(out, js(p["PolicyDocument"]))
		}
	}
	if len(out) == 0 {
		t.Fatalf("no policy for a role %s*", prefix)
	}
	return strings.Join(out, "\n")
}

func TestLeastPrivilege(t *testing.T) {
	for _, name := range []string{"Full", "S3Only", "CWOnly"} {
		for _, p := range resources(name, "AWS::IAM::Policy") {
			s := js(p["PolicyDocument"])
			for _, bad := range []string{`"Action":"*"`, `"s3:*"`, `"sns:*"`, `"dynamodb:*"`, `"logs:*"`, `"secretsmanager:*"`} {
				if strings.Contains(s, bad) {
					t.Errorf("%s: policy %s grants %s", name, s, bad)
				}
			}
		}
		if n := len(resources(name, "AWS::IAM::ManagedPolicy")); n != 0 {
			t.Errorf("%s: %d managed policies", name, n)
		}
	}
	s3 := policyOf(t, "Full", "IngestS3Role")
	for _, want := range []string{`"/AWSLogs/*"`, `"/flows/*"`, `"/rejects/*"`, `"ec2:DescribeNetworkInterfaces"`, `"sns:Publish"`, `"dynamodb:PutItem"`} {
		if !strings.Contains(s3, want) {
			t.Errorf("ingest-s3 policy lacks %s:\n%s", want, s3)
		}
	}
	if strings.Contains(s3, `"s3:DeleteObject`) {
		t.Errorf("ingest-s3 may delete objects:\n%s", s3)
	}
	// The raw prefix is read, never written; the lake is written, never read.
	if strings.Contains(s3, `"s3:GetObject*","s3:GetBucket*","s3:List*"],"Effect":"Allow","Resource":[{"Fn::GetAtt":["StorageLake`) {
		t.Errorf("ingest-s3 reads the lake:\n%s", s3)
	}
	cw := policyOf(t, "Full", "IngestCWLogsRole")
	if strings.Contains(cw, "StorageRaw") {
		t.Errorf("ingest-cwlogs touches the raw bucket:\n%s", cw)
	}
	det := policyOf(t, "Full", "DetectRole")
	for _, want := range []string{`"athena:StartQueryExecution"`, `"glue:GetTable"`, `":workgroup/"`, `"/flows/*"`, `"/athena/*"`,
		`"sns:Publish"`, `"dynamodb:PutItem"`, `"/dead-letter/notify/*"`} {
		if !strings.Contains(det, want) {
			t.Errorf("detect policy lacks %s:\n%s", want, det)
		}
	}
	// The detector writes to the lake bucket only its dead letters.
	for _, doc := range strings.Split(det, "\n") {
		var pd struct{ Statement []struct{ Action, Resource any } }
		if err := json.Unmarshal([]byte(doc), &pd); err != nil {
			t.Fatal(err)
		}
		for _, st := range pd.Statement {
			if res := js(st.Resource); strings.Contains(js(st.Action), "s3:PutObject") && strings.Contains(res, "StorageLake") &&
				!strings.HasSuffix(res, `"/dead-letter/notify/*"]]}`) {
				t.Errorf("detect may write the lake at %s", res)
			}
		}
	}
	ns := policyOf(t, "Full", "NotifySlackRole")
	if !strings.Contains(ns, `"secretsmanager:GetSecretValue"`) || !strings.Contains(ns, `:secret:flowlake/slack-??????"`) {
		t.Errorf("notify-slack policy does not read the one secret:\n%s", ns)
	}
	if strings.Contains(ns, "sns:Publish") || strings.Contains(ns, "s3:") {
		t.Errorf("notify-slack has more than it needs:\n%s", ns)
	}
	has(t, templates["Full"], jsii.String("AWS::DynamoDB::GlobalTable"), obj(map[string]any{
		"KeySchema":               []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}},
		"TimeToLiveSpecification": map[string]any{"AttributeName": "expires_at", "Enabled": true},
		"BillingMode":             "PAY_PER_REQUEST",
	}))
}

func TestFindingsTopic(t *testing.T) {
	tpl := templates["Full"]
	count(t, tpl, jsii.String("AWS::SNS::Topic"), jsii.Number(2))
	for id, topic := range resources("Full", "AWS::SNS::Topic") {
		if topic["KmsMasterKeyId"] == nil {
			t.Errorf("%s: not KMS-encrypted", id)
		}
	}
	has(t, tpl, jsii.String("AWS::KMS::Key"), obj(map[string]any{"EnableKeyRotation": true}))
	has(t, tpl, jsii.String("AWS::SNS::TopicPolicy"), obj(map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
			"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		}))})},
		"Topics": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^FindingsTopic"))}},
	}))
	for _, e := range []string{"sec@example.com", "soc@example.com"} {
		has(t, tpl, jsii.String("AWS::SNS::Subscription"), obj(map[string]any{
			"Protocol": "email", "Endpoint": e,
			"FilterPolicy": map[string]any{"severity": []any{"high", "critical"}},
			"TopicArn":     map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^FindingsTopic"))},
		}))
	}
	has(t, tpl, jsii.String("AWS::SNS::Subscription"), obj(map[string]any{
		"Protocol": "email", "Endpoint": "ops@example.com", "FilterPolicy": assertions.Match_Absent(),
		"TopicArn": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^OpsTopic"))},
	}))
	// CloudWatch alarms can use the ops topic's key.
	has(t, tpl, jsii.String("AWS::KMS::Key"), obj(map[string]any{
		"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
			"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
		}))})},
	}))
}

func TestAlarms(t *testing.T) {
	// Errors of 4 functions, 2 DLQs, and rejected rate and delivery lag of
	// 2 ingest functions.
	count(t, templates["Full"], jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(4+2+2+2))
	count(t, templates["S3Only"], jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(2+1+2))
	for name := range templates {
		for id, a := range resources(name, "AWS::CloudWatch::Alarm") {
			if !strings.Contains(js(a["AlarmActions"]), `"Ref":"OpsTopic`) {
				t.Errorf("%s/%s: AlarmActions = %s; want the ops topic", name, id, js(a["AlarmActions"]))
			}
		}
	}
	tpl := templates["Full"]
	has(t, tpl, jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
		"MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
	}))
	has(t, tpl, jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
		"Namespace": "flowlake", "MetricName": "DeliveryLag",
		"Dimensions": []any{map[string]any{"Name": "Function", "Value": "ingest-s3"}}, "Threshold": 1800,
	}))
	has(t, tpl, jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
		"Metrics": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
			"MetricStat": map[string]any{"Metric": map[string]any{"Namespace": "flowlake", "MetricName": "RejectedLines",
				"Dimensions": []any{map[string]any{"Name": "Function", "Value": "ingest-cwlogs"}}}, "Period": 900, "Stat": "Sum"},
		}))}),
		"Threshold": 1,
	}))
}

// TestNag: the AwsSolutions pack finds no unsuppressed error in any stack,
// and every suppression carries a reason.
func TestNag(t *testing.T) {
	for _, s := range []*Stack{full, s3only, cwonly} {
		errs := assertions.Annotations_FromStack(s.Stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, e := range *errs {
			t.Errorf("%s: %s: %v", *s.StackName(), *e.Id, e.Entry.Data)
		}
		for id, r := range docs[*s.StackName()]["Resources"].(map[string]any) {
			md, _ := r.(map[string]any)["Metadata"].(map[string]any)
			nag, _ := md["cdk_nag"].(map[string]any)
			for _, rule := range asSlice(nag["rules_to_suppress"]) {
				if reason, _ := rule.(map[string]any)["reason"].(string); len(reason) < 20 {
					t.Errorf("%s/%s: suppression %v without a reason", *s.StackName(), id, rule)
				}
			}
		}
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// TestBootstraps: the functions were built for linux/arm64 (without
// -short, from the real sources).
func TestBootstraps(t *testing.T) {
	if !realBuild {
		t.Skip("-short: stub bootstraps")
	}
	for n, dir := range code {
		b, err := os.ReadFile(filepath.Join(dir, "bootstrap"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: bootstrap is not ELF: %v", n, err)
		}
		if f.Machine != elf.EM_AARCH64 {
			t.Errorf("%s: bootstrap for %v; want arm64", n, f.Machine)
		}
	}
}

// has and count run an assertion and report its failure (a panic with a
// readable diff) as a test error, so one failure does not end the binary.
func has(t *testing.T, tpl assertions.Template, typ *string, props any) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("HasResourceProperties(%s): %v", *typ, r)
		}
	}()
	tpl.HasResourceProperties(typ, props)
}

func count(t *testing.T, tpl assertions.Template, typ *string, n *float64) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("ResourceCountIs(%s, %v): %v", *typ, *n, r)
		}
	}()
	tpl.ResourceCountIs(typ, n)
}
