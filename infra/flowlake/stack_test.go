package flowlake_test

import (
	"bytes"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/infra/flowlake"
	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/notify/slack"
	"github.com/flowlake/flowlake/shared/pipeline"
	"github.com/flowlake/flowlake/shared/queries"
	"github.com/flowlake/flowlake/shared/schedule"
)

// The stacks the stack tests read: one app, synthesized once, with the
// AwsSolutions pack applied as the app applies it.
var (
	full, s3only, cwonly *flowlake.Stack
	templates            = map[string]*template{}
	code                 map[string]string
	realBuild            bool
)

var fullContext = map[string]any{
	flowlake.CtxStackName:           "Full",
	flowlake.CtxVPCs:                []any{"vpc-0123456789abcdef0"},
	flowlake.CtxSubnets:             []any{"subnet-0123456789abcdef0"},
	flowlake.CtxENIs:                []any{"eni-0123456789abcdef0"},
	flowlake.CtxTrafficType:         "ALL",
	flowlake.CtxAggregationInterval: 60.0,
	flowlake.CtxDestination:         "both",
	flowlake.CtxAlertEmails:         []any{"sec@example.com", "soc@example.com"},
	flowlake.CtxEmailMinSeverity:    "high",
	flowlake.CtxOpsEmails:           []any{"ops@example.com"},
	flowlake.CtxSlackSecretName:     "flowlake/slack",
	flowlake.CtxDetectInternal:      []any{"100.64.0.0/10"},
}

// TestMain builds the four functions once for arm64 into a temporary
// folder (with -short, stub bootstraps instead), builds one app with three
// stacks and synthesizes it. The constructs' own tests make their own
// small apps.
func TestMain(m *testing.M) {
	flag.Parse()
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	tmp, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		jsii.Close()
		os.Exit(1)
	}
	rc := m.Run()
	jsii.Close()
	os.RemoveAll(tmp)
	os.Exit(rc)
}

func setup() (string, error) {
	tmp, err := os.MkdirTemp("", "flowlake-infra-test-")
	if err != nil {
		return "", err
	}
	names := []string{flowlake.FnIngestS3, flowlake.FnIngestCWLogs, flowlake.FnDetect, flowlake.FnNotifySlack, flowlake.FnCompact}
	if testing.Short() {
		code = map[string]string{}
		for _, n := range names {
			dir := filepath.Join(tmp, n)
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("stub "+n), 0o755); err != nil {
				return tmp, err
			}
			if err := stubGeoDatabases(dir); err != nil {
				return tmp, err
			}
			code[n] = dir
		}
	} else {
		root, err := flowlake.RepoRoot(".")
		if err != nil {
			return tmp, err
		}
		if code, err = flowlake.BuildFunctions(root, names, tmp); err != nil {
			return tmp, err
		}
		if _, err := flowlake.ShipGeoDatabases(root, code[flowlake.FnIngestS3], code[flowlake.FnIngestCWLogs]); err != nil {
			return tmp, err
		}
		realBuild = true
	}
	// As in cdk.json: CloudFormation schema violations fail the synth.
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir:  jsii.String(filepath.Join(tmp, "cdk.out")),
		Context: &map[string]any{"@aws-cdk/core:validateAgainstDefaultRules": true},
	})
	mk := func(kv map[string]any) (*flowlake.Stack, error) {
		cfg, err := flowlake.ConfigFromContext(func(k string) any { return kv[k] })
		if err != nil {
			return nil, err
		}
		return flowlake.NewStack(app, cfg.StackName, flowlake.StackProps{Config: cfg, Code: code})
	}
	if full, err = mk(fullContext); err != nil {
		return tmp, err
	}
	if s3only, err = mk(map[string]any{flowlake.CtxStackName: "S3Only", flowlake.CtxVPCs: "vpc-89abcdef"}); err != nil {
		return tmp, err
	}
	if cwonly, err = mk(map[string]any{flowlake.CtxStackName: "CWOnly", flowlake.CtxENIs: "eni-89abcdef",
		flowlake.CtxDestination: "cloudwatch", flowlake.CtxLogFormat: "default"}); err != nil {
		return tmp, err
	}
	flowlake.ApplyNag(app)
	for _, s := range []*flowlake.Stack{full, s3only, cwonly} {
		templates[*s.StackName()] = templateOf(s.Stack)
	}
	return tmp, nil
}

// TestNewStackNeedsEveryBootstrap: a function the configuration deploys
// without its bootstrap fails NewStack, naming it.
func TestNewStackNeedsEveryBootstrap(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	cfg, err := flowlake.ConfigFromContext(func(k string) any { return fullContext[k] })
	if err != nil {
		t.Fatal(err)
	}
	_, err = flowlake.NewStack(app, "Partial", flowlake.StackProps{Config: cfg, Code: map[string]string{flowlake.FnIngestS3: code[flowlake.FnIngestS3]}})
	if err == nil || !strings.Contains(err.Error(), flowlake.FnDetect) {
		t.Errorf("NewStack without the detect bootstrap = %v; want an error naming %s", err, flowlake.FnDetect)
	}
}

// TestLogicalIDs: the stateful resources keep the logical IDs they were
// deployed with (construct ids and paths are part of them), so no update
// replaces a bucket, the table, a key or a topic. The e2e suite finds
// resources by these prefixes too.
func TestLogicalIDs(t *testing.T) {
	want := map[string]string{
		"StorageAccessLogs96FB524C": "AWS::S3::Bucket", "StorageRaw7E344C76": "AWS::S3::Bucket", "StorageLake72898626": "AWS::S3::Bucket",
		"StorageAthenaResults77D61381": "AWS::S3::Bucket", "Dedup4F247B08": "AWS::DynamoDB::GlobalTable",
		"FindingsKeyC72F54EF": "AWS::KMS::Key", "FindingsTopic6108FA32": "AWS::SNS::Topic", "OpsKeyD2AEB59B": "AWS::KMS::Key",
		"OpsTopicCA671FE6": "AWS::SNS::Topic", "CatalogDatabaseE63956BB": "AWS::Glue::Database", "CatalogTableDBD579E9": "AWS::Glue::Table",
		"CatalogWorkgroupB2972C84": "AWS::Athena::WorkGroup", "FlowLogsLogGroup9853A85F": "AWS::Logs::LogGroup",
		"IngestS3Queue19D99FE8": "AWS::SQS::Queue", "IngestS3DLQ5D2A2F0F": "AWS::SQS::Queue", "NotifySlackDLQ9540A889": "AWS::SQS::Queue",
		"IngestS3Function60FD9DFD": "AWS::Lambda::Function", "IngestCWLogsFunction7989E646": "AWS::Lambda::Function",
		"DetectFunction5E3C9172": "AWS::Lambda::Function", "NotifySlackFunctionB08EBDA2": "AWS::Lambda::Function",
	}
	res := templates["Full"].doc["Resources"].(map[string]any)
	for id, typ := range want {
		r, ok := res[id].(map[string]any)
		if !ok || r["Type"] != typ {
			t.Errorf("no %s %s in the template: a construct id or path changed, which replaces the deployed resource", typ, id)
		}
	}
}

func TestStackFlowLogs(t *testing.T) {
	tp := templates["Full"]
	// 3 resources (VPC, subnet, ENI) × 2 destinations.
	count(t, tp, "AWS::EC2::FlowLog", 6)
	for _, res := range []map[string]any{
		{"ResourceType": "VPC", "ResourceId": "vpc-0123456789abcdef0"},
		{"ResourceType": "Subnet", "ResourceId": "subnet-0123456789abcdef0"},
		{"ResourceType": "NetworkInterface", "ResourceId": "eni-0123456789abcdef0"},
	} {
		has(t, tp, "AWS::EC2::FlowLog", map[string]any{
			"ResourceType": res["ResourceType"], "ResourceId": res["ResourceId"],
			"TrafficType": "ALL", "MaxAggregationInterval": 60, "LogFormat": flowlog.RichFormat,
			"LogDestinationType": "s3", "LogDestination": map[string]any{"Fn::GetAtt": []any{like("^StorageRaw"), "Arn"}},
			"DestinationOptions": map[string]any{"FileFormat": "plain-text", "HiveCompatiblePartitions": false, "PerHourPartition": false},
		})
		has(t, tp, "AWS::EC2::FlowLog", map[string]any{
			"ResourceType": res["ResourceType"], "ResourceId": res["ResourceId"],
			"LogDestinationType":       "cloud-watch-logs",
			"DeliverLogsPermissionArn": assertions.Match_AnyValue(),
			"LogGroupName":             assertions.Match_AnyValue(),
		})
	}
	// Defaults: REJECT, 10 minutes, S3 only.
	s3 := templates["S3Only"]
	count(t, s3, "AWS::EC2::FlowLog", 1)
	has(t, s3, "AWS::EC2::FlowLog", map[string]any{
		"ResourceType": "VPC", "TrafficType": "REJECT", "MaxAggregationInterval": 600, "LogDestinationType": "s3", "LogFormat": flowlog.RichFormat,
	})
	count(t, s3, "AWS::Logs::QueryDefinition", 0)
	count(t, s3, "AWS::Logs::SubscriptionFilter", 0)
	cw := templates["CWOnly"]
	has(t, cw, "AWS::EC2::FlowLog", map[string]any{
		"ResourceType": "NetworkInterface", "LogDestinationType": "cloud-watch-logs", "LogFormat": flowlog.DefaultFormat,
		"DestinationOptions": assertions.Match_Absent(),
	})
	// S3 delivery is granted in the raw bucket's policy (TestFlowLogDeliveryToS3).
	for _, name := range []string{"Full", "S3Only"} {
		n := 0
		for id, p := range templates[name].resources("AWS::S3::BucketPolicy") {
			for _, st := range statements(t, p["PolicyDocument"]) {
				if st.Sid == "AWSLogDeliveryWrite" {
					n++
					if b := render(p["Bucket"]); !logicalIDPath("${StorageRaw", "}").MatchString(b) {
						t.Errorf("%s/%s: flow-log delivery granted on %s; want the raw bucket", name, id, b)
					}
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d AWSLogDeliveryWrite statements; want 1", name, n)
		}
	}
}

func TestFlowLogsToCloudWatch(t *testing.T) {
	tp := templates["Full"]
	has(t, tp, "AWS::Logs::LogGroup", map[string]any{"RetentionInDays": 14})
	// The delivery role trusts the service for this account's flow logs
	// only (TestFlowLogsDeliveryRole has the rest).
	has(t, tp, "AWS::IAM::Role", map[string]any{
		"AssumeRolePolicyDocument": map[string]any{"Statement": []any{assertions.Match_ObjectLike(obj(map[string]any{
			"Principal": map[string]any{"Service": "vpc-flow-logs.amazonaws.com"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}}, "ArnLike": assertions.Match_AnyValue()},
		}))}},
	})
	count(t, tp, "AWS::Logs::SubscriptionFilter", 1)
	has(t, tp, "AWS::Logs::SubscriptionFilter", map[string]any{
		"FilterPattern": "", "DestinationArn": map[string]any{"Fn::GetAtt": []any{like("^IngestCWLogsFunction"), "Arn"}},
	})
	// Saved queries, the guide's first, with the format's field names.
	qs := flowlake.InsightsQueries(flowlog.MustParseFormat(flowlog.RichFormat))
	count(t, tp, "AWS::Logs::QueryDefinition", len(qs))
	has(t, tp, "AWS::Logs::QueryDefinition", map[string]any{
		"Name": "flowlake/top-rejected-destination-ports", "QueryString": qs[0].Query,
		"LogGroupNames": []any{map[string]any{"Ref": like("^FlowLogsLogGroup")}},
	})
	// With the default format, only the queries its fields allow.
	count(t, templates["CWOnly"], "AWS::Logs::QueryDefinition", 5)
	has(t, templates["CWOnly"], "AWS::Logs::QueryDefinition", map[string]any{
		"Name": "flowlake/top-rejected-destination-ports", "QueryString": like(" as version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, log_status\n"),
	})
	// ingest-cwlogs parses with the same format.
	if env := functionEnv(t, "Full", "IngestCWLogs"); env[pipeline.EnvFormat] != flowlog.RichFormat {
		t.Errorf("ingest-cwlogs %s = %v; want the rich format", pipeline.EnvFormat, env[pipeline.EnvFormat])
	}
	if env := functionEnv(t, "CWOnly", "IngestCWLogs"); env[pipeline.EnvFormat] != flowlog.DefaultFormat {
		t.Errorf("ingest-cwlogs %s = %v; want the default format", pipeline.EnvFormat, env[pipeline.EnvFormat])
	}
	// Both ingest functions enrich with ENI metadata and AWS's ranges, and
	// publish findings.
	for _, fn := range []string{"IngestS3", "IngestCWLogs"} {
		env := functionEnv(t, "Full", fn)
		if env[pipeline.EnvENIMetadata] != "true" || env[pipeline.EnvIPRanges] != "https://ip-ranges.amazonaws.com/ip-ranges.json" ||
			env[notify.EnvTopicARN] == nil || env[notify.EnvDedupTable] == nil {
			t.Errorf("%s: environment %s; want ENI metadata, AWS's ranges, the topic and the dedup table", fn, js(env))
		}
	}
}

// functionEnv returns the environment variables of the one function of
// stack whose logical ID starts with prefix+"Function".
func functionEnv(t *testing.T, stack, prefix string) map[string]any {
	t.Helper()
	var out []map[string]any
	for id, f := range templates[stack].resources("AWS::Lambda::Function") {
		if logicalID(prefix + "Function").MatchString(id) {
			env, _ := f["Environment"].(map[string]any)
			vars, _ := env["Variables"].(map[string]any)
			out = append(out, vars)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%s: %d functions %sFunction; want 1", stack, len(out), prefix)
	}
	return out[0]
}

func TestBuckets(t *testing.T) {
	for _, name := range []string{"Full", "S3Only", "CWOnly"} {
		checkBuckets(t, name, templates[name])
	}
	tp := templates["S3Only"]
	// Raw: versioned, expires after 30 days.
	has(t, tp, "AWS::S3::Bucket", map[string]any{
		"VersioningConfiguration": map[string]any{"Status": "Enabled"},
		"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
			"Id": "expire-raw", "ExpirationInDays": 30, "Status": "Enabled",
		}))})},
	})
	// Lake: versioned, to STANDARD_IA after 90 days, never expires.
	has(t, tp, "AWS::S3::Bucket", map[string]any{
		"VersioningConfiguration": map[string]any{"Status": "Enabled"},
		"LifecycleConfiguration": map[string]any{"Rules": []any{assertions.Match_ObjectLike(obj(map[string]any{
			"Id": "lake-tiering", "ExpirationInDays": assertions.Match_Absent(),
			"Transitions": []any{map[string]any{"StorageClass": "STANDARD_IA", "TransitionInDays": 90}},
		}))}},
	})
	// The raw bucket notifies the ingest queue of new flow-log files only.
	has(t, tp, "Custom::S3BucketNotifications", map[string]any{
		"NotificationConfiguration": map[string]any{"QueueConfigurations": []any{assertions.Match_ObjectLike(obj(map[string]any{
			"Events": []any{"s3:ObjectCreated:*"},
			"Filter": map[string]any{"Key": map[string]any{"FilterRules": []any{map[string]any{"Name": "prefix", "Value": flowlake.RawPrefix}}}},
		}))}},
	})
	count(t, templates["CWOnly"], "Custom::S3BucketNotifications", 0)
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

// TestCatalogInStack: the stack's catalog reads the lake bucket, projects
// the stack's own account and region, writes results to the results
// bucket and saves every query (TestCatalog has the table itself).
func TestCatalogInStack(t *testing.T) {
	tp := templates["S3Only"]
	has(t, tp, "AWS::Glue::Database", map[string]any{
		"DatabaseInput": map[string]any{"Name": "flowlake", "Description": assertions.Match_AnyValue()},
	})
	tables := tp.resources("AWS::Glue::Table")
	if len(tables) != 4 {
		t.Fatalf("%d Glue tables; want 4 (flows, threat_lists, flows_rollup and the view flows_ocsf)", len(tables))
	}
	for _, p := range tables {
		in := p["TableInput"].(map[string]any)
		if in["Name"] == "flows_ocsf" {
			checkOCSFView(t, in)
			continue
		}
		if in["Name"] == "threat_lists" {
			if loc := render(in["StorageDescriptor"].(map[string]any)["Location"]); !logicalIDPath("s3://${StorageLake", "}/reference/threat_lists/").MatchString(loc) {
				t.Errorf("threat_lists Location = %s; want the lake bucket's reference/threat_lists/", loc)
			}
			continue
		}
		if in["Name"] == "flows_rollup" {
			if loc := render(in["StorageDescriptor"].(map[string]any)["Location"]); !logicalIDPath("s3://${StorageLake", "}/rollups/").MatchString(loc) {
				t.Errorf("flows_rollup Location = %s; want the lake bucket's rollups/", loc)
			}
			continue
		}
		params := in["Parameters"].(map[string]any)
		if loc := render(in["StorageDescriptor"].(map[string]any)["Location"]); !logicalIDPath("s3://${StorageLake", "}/flows/").MatchString(loc) {
			t.Errorf("Location = %s; want the lake bucket's flows/", loc)
		}
		if params["projection.aws_account.type"] != "enum" || render(params["projection.aws_account.values"]) != "${AWS::AccountId}" {
			t.Errorf("projection.aws_account = %v %s; want an enum of the stack's account", params["projection.aws_account.type"], js(params["projection.aws_account.values"]))
		}
		if params["projection.aws_region.type"] != "enum" || render(params["projection.aws_region.values"]) != "${AWS::Region}" {
			t.Errorf("projection.aws_region = %v %s; want an enum of the stack's region", params["projection.aws_region.type"], js(params["projection.aws_region.values"]))
		}
	}
	has(t, tp, "AWS::Athena::WorkGroup", map[string]any{
		"Name": "flowlake", "State": "ENABLED",
		"WorkGroupConfiguration": assertions.Match_ObjectLike(obj(map[string]any{
			"EnforceWorkGroupConfiguration": true,
			"BytesScannedCutoffPerQuery":    10 << 30,
			"ResultConfiguration": assertions.Match_ObjectLike(obj(map[string]any{
				"OutputLocation": map[string]any{"Fn::Join": []any{"", []any{"s3://", map[string]any{"Ref": like("^StorageAthenaResults")}, "/athena/"}}},
			})),
		})),
	})
	count(t, tp, "AWS::Athena::NamedQuery", len(queries.All())+1) // and flowlake why's
}

func TestFunctions(t *testing.T) {
	tp := templates["Full"]
	// The five, and the CDK's deploy-time BucketNotificationsHandler.
	count(t, tp, "AWS::Lambda::Function", 6)
	count(t, templates["S3Only"], "AWS::Lambda::Function", 4) // ingest-s3, detect, compact, the handler
	count(t, templates["CWOnly"], "AWS::Lambda::Function", 4) // ingest-s3, ingest-cwlogs, detect, compact
	for id, f := range tp.resources("AWS::Lambda::Function") {
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
	// Each function names itself, as integration/stack finds them.
	for prefix, name := range map[string]string{"IngestS3": flowlake.FnIngestS3, "IngestCWLogs": flowlake.FnIngestCWLogs,
		"Detect": flowlake.FnDetect, "NotifySlack": flowlake.FnNotifySlack, "Compact": flowlake.FnCompact} {
		if env := functionEnv(t, "Full", prefix); env[flowlake.EnvFunction] != name {
			t.Errorf("%s: %s = %v; want %s", prefix, flowlake.EnvFunction, env[flowlake.EnvFunction], name)
		}
	}
	// Every log group is kept a while: functions 30 days, flow logs 14.
	for id, lg := range tp.resources("AWS::Logs::LogGroup") {
		if d := lg["RetentionInDays"]; d != 30.0 && d != 14.0 {
			t.Errorf("%s: RetentionInDays = %v; want 30 (function) or 14 (flow logs)", id, d)
		}
	}
	count(t, tp, "AWS::Logs::LogGroup", 7) // 5 functions, the handler, flow logs

	// ingest-s3: SQS with a DLQ and partial batch failures; visibility at
	// least six times the function's timeout.
	var timeout float64
	for id, f := range tp.resources("AWS::Lambda::Function") {
		if strings.HasPrefix(id, "IngestS3") {
			timeout = f["Timeout"].(float64)
		}
	}
	var queue map[string]any
	for id, q := range tp.resources("AWS::SQS::Queue") {
		if strings.HasPrefix(id, "IngestS3Queue") {
			queue = q
		}
	}
	if queue == nil || queue["VisibilityTimeout"].(float64) < 6*timeout || queue["RedrivePolicy"] == nil {
		t.Errorf("ingest queue = %s; want a DLQ and visibility ≥ 6 × %v s", js(queue), timeout)
	}
	has(t, tp, "AWS::Lambda::EventSourceMapping", map[string]any{
		"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
		"EventSourceArn":        map[string]any{"Fn::GetAtt": []any{like("^IngestS3Queue"), "Arn"}},
	})
	for id, q := range tp.resources("AWS::SQS::Queue") {
		if q["SqsManagedSseEnabled"] != true {
			t.Errorf("%s: not encrypted", id)
		}
	}
	for id, p := range tp.resources("AWS::SQS::QueuePolicy") {
		denies := false
		for _, st := range statements(t, p["PolicyDocument"]) {
			denies = denies || st.Effect == "Deny" && st.Condition["Bool"]["aws:SecureTransport"] == "false"
		}
		if !denies {
			t.Errorf("%s: queue policy does not deny insecure transport: %s", id, js(p))
		}
	}
	// detect: on a schedule.
	has(t, tp, "AWS::Events::Rule", map[string]any{
		"ScheduleExpression": "cron(20 * * * ? *)",
		"Targets":            []any{assertions.Match_ObjectLike(obj(map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{like("^DetectFunction"), "Arn"}}}))},
	})
	det := functionEnv(t, "Full", "Detect")
	if !logicalIDPath("${CatalogWorkgroup", "}").MatchString(render(det[schedule.EnvWorkgroup])) || det[schedule.EnvDatabase] != "flowlake" ||
		render(det[detect.EnvAccounts]) != "${AWS::AccountId}" || det[detect.EnvInternal] != "100.64.0.0/10" {
		t.Errorf("detect environment = %s; want the workgroup, the database, the stack's account and the internal blocks", js(det))
	}
	// Every function that finds things publishes them the same way: the
	// topic, the dedup table, dead letters in the lake bucket; and ingest
	// detects with the same settings as the scheduled detector.
	for _, fn := range []string{"IngestS3", "IngestCWLogs", "Detect"} {
		env := functionEnv(t, "Full", fn)
		for k, want := range map[string]*regexp.Regexp{
			notify.EnvTopicARN:         logicalIDPath("${FindingsTopic", "}"),
			notify.EnvDedupTable:       logicalIDPath("${Dedup", "}"),
			notify.EnvDeadLetterBucket: logicalIDPath("${StorageLake", "}"),
			notify.EnvDeadLetterPrefix: regexp.MustCompile(`^dead-letter/notify$`),
			detect.EnvInternal:         regexp.MustCompile(`^100\.64\.0\.0/10$`),
		} {
			if v, ok := env[k]; !ok || !want.MatchString(render(v)) {
				t.Errorf("%s: %s = %s; want %s", fn, k, js(v), want)
			}
		}
		if _, ok := env[pipeline.EnvLakeBucket]; fn == "Detect" && ok {
			t.Errorf("%s: the detector reads the lake through Athena only, but has %s", fn, pipeline.EnvLakeBucket)
		}
	}
	// notify-slack: subscribed with a DLQ, reads the one secret.
	has(t, tp, "AWS::SNS::Subscription", map[string]any{
		"Protocol": "lambda", "RedrivePolicy": map[string]any{"deadLetterTargetArn": map[string]any{"Fn::GetAtt": []any{like("^NotifySlackDLQ"), "Arn"}}},
		"TopicArn": map[string]any{"Ref": like("^FindingsTopic")},
	})
	// ... and the function's own: its failures past Lambda's retries of
	// SNS's asynchronous invocation land in the same queue, which its role
	// may send to.
	has(t, tp, "AWS::Lambda::Function", map[string]any{
		"Description":      "flowlake: findings to Slack",
		"DeadLetterConfig": map[string]any{"TargetArn": map[string]any{"Fn::GetAtt": []any{like("^NotifySlackDLQ"), "Arn"}}},
	})
	if len(allowed(tp.rolePolicy(t, "NotifySlack"), "sqs:SendMessage", `^\$\{NotifySlackDLQ[0-9A-F]{8}\.Arn\}$`)) == 0 {
		t.Errorf("notify-slack's role may not send to its DLQ")
	}
	if env := functionEnv(t, "Full", "NotifySlack"); env[slack.EnvWebhookSecret] != "flowlake/slack" ||
		env[slack.EnvWebhookSecretKey] != nil || env[slack.EnvMinSeverity] != nil {
		t.Errorf("notify-slack environment = %s; want %s=flowlake/slack and nothing unset in the context", js(env), slack.EnvWebhookSecret)
	}
	count(t, templates["S3Only"], "AWS::SNS::Subscription", 0)
}

// TestSlackSettings: the context's Slack key and severity reach the
// function under the names it reads.
func TestSlackSettings(t *testing.T) {
	kv := map[string]any{flowlake.CtxStackName: "Slack", flowlake.CtxVPCs: "vpc-89abcdef", flowlake.CtxSlackSecretName: "s",
		flowlake.CtxSlackSecretKey: "url", flowlake.CtxSlackMinSeverity: "High"}
	cfg, err := flowlake.ConfigFromContext(func(k string) any { return kv[k] })
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	s, err := flowlake.NewStack(app, cfg.StackName, flowlake.StackProps{Config: cfg, Code: code})
	if err != nil {
		t.Fatal(err)
	}
	has(t, templateOf(s.Stack), "AWS::Lambda::Function", map[string]any{
		"Environment": map[string]any{"Variables": map[string]any{
			flowlake.EnvFunction: flowlake.FnNotifySlack, slack.EnvWebhookSecret: "s", slack.EnvWebhookSecretKey: "url", slack.EnvMinSeverity: "high",
		}},
	})
}

// TestLeastPrivilege reads every role's policy as statements: no wildcard
// action, no managed policy, and each function may do what it needs on
// the resources it needs, and no more.
func TestLeastPrivilege(t *testing.T) {
	for name, tp := range templates {
		for id, p := range tp.resources("AWS::IAM::Policy") {
			for _, st := range statements(t, p["PolicyDocument"]) {
				for _, a := range st.Action {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%s/%s: statement %v grants %s", name, id, st, a)
					}
				}
			}
		}
		if n := len(tp.resources("AWS::IAM::ManagedPolicy")); n != 0 {
			t.Errorf("%s: %d managed policies", name, n)
		}
	}
	tp := templates["Full"]
	raw := `^\$\{StorageRaw[0-9A-F]{8}\.Arn\}`
	lakeArn := `^\$\{StorageLake[0-9A-F]{8}\.Arn\}`
	results := `^\$\{StorageAthenaResults[0-9A-F]{8}\.Arn\}`
	topic := `^\$\{FindingsTopic[0-9A-F]{8}\}$`
	dedup := `^\$\{Dedup[0-9A-F]{8}\.Arn\}$`
	need := func(fn string, sts []statement, grants [][2]string) {
		t.Helper()
		for _, g := range grants {
			if len(allowed(sts, g[0], g[1])) == 0 {
				t.Errorf("%s policy lacks %s on %s:\n%v", fn, g[0], g[1], sts)
			}
		}
	}
	// lakeWrites returns what sts may write in the lake bucket.
	lakeWrites := func(sts []statement) []string { return allowed(sts, "s3:PutObject", lakeArn) }

	s3 := tp.rolePolicy(t, "IngestS3Role")
	need("ingest-s3", s3, [][2]string{
		{"s3:GetObject", raw + `/AWSLogs/\*$`}, {"s3:PutObject", lakeArn + `/flows/\*$`}, {"s3:PutObject", lakeArn + `/rejects/\*$`},
		{"s3:PutObject", lakeArn + `/dead-letter/notify/\*$`}, {"ec2:DescribeNetworkInterfaces", `^\*$`},
		{"sns:Publish", topic}, {"dynamodb:PutItem", dedup}, {"sqs:ReceiveMessage", `^\$\{IngestS3Queue[0-9A-F]{8}\.Arn\}$`},
	})
	for _, st := range s3 {
		for _, a := range st.Action {
			if st.Effect == "Allow" && (strings.HasPrefix(strings.ToLower(a), "s3:deleteobject") || covers(a, "s3:DeleteObject")) {
				t.Errorf("ingest-s3 may delete objects: %v", st)
			}
		}
	}
	// The raw prefix is read, never written; the lake is written, never
	// read, but for the threat lists' sources.
	for _, a := range []string{"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"} {
		for _, r := range allowed(s3, a, lakeArn) {
			if a == "s3:GetObject" && regexp.MustCompile(lakeArn+`/reference/threat_list_sources/\*$`).MatchString(r) {
				continue
			}
			if a == "s3:ListBucket" && regexp.MustCompile(lakeArn+`$`).MatchString(r) {
				continue // with its s3:prefix condition, below
			}
			t.Errorf("ingest-s3 reads the lake: %s on %v", a, r)
		}
	}
	for _, st := range s3 {
		if len(allowed([]statement{st}, "s3:ListBucket", lakeArn)) > 0 && js(st.Condition) != `{"StringLike":{"s3:prefix":"reference/threat_list_sources/*"}}` {
			t.Errorf("ingest-s3 lists the lake beyond the threat lists: %v", st)
		}
	}
	if got := allowed(s3, "s3:PutObject", raw); len(got) != 0 {
		t.Errorf("ingest-s3 writes the raw bucket: %v", got)
	}
	for _, r := range lakeWrites(s3) {
		if !regexp.MustCompile(lakeArn + `/(flows|rejects|dead-letter/notify)/\*$`).MatchString(r) {
			t.Errorf("ingest-s3 may write the lake at %s", r)
		}
	}

	cw := tp.rolePolicy(t, "IngestCWLogsRole")
	need("ingest-cwlogs", cw, [][2]string{
		{"s3:PutObject", lakeArn + `/flows/\*$`}, {"s3:PutObject", lakeArn + `/rejects/\*$`}, {"ec2:DescribeNetworkInterfaces", `^\*$`},
		{"sns:Publish", topic}, {"dynamodb:PutItem", dedup},
	})
	for _, st := range cw {
		if strings.Contains(js(st), "StorageRaw") {
			t.Errorf("ingest-cwlogs touches the raw bucket: %v", st)
		}
	}

	det := tp.rolePolicy(t, "DetectRole")
	need("detect", det, [][2]string{
		{"athena:StartQueryExecution", `:workgroup/\$\{CatalogWorkgroup[0-9A-F]{8}\}$`}, {"glue:GetTable", `:table/flowlake/flows$`},
		{"s3:GetObject", lakeArn + `/flows/\*$`}, {"s3:PutObject", results + `/athena/\*$`}, {"s3:GetObject", results + `/athena/\*$`},
		{"glue:GetTable", `:table/flowlake/threat_lists$`}, {"s3:GetObject", lakeArn + `/reference/threat_lists/\*$`},
		{"sns:Publish", topic}, {"dynamodb:PutItem", dedup}, {"s3:PutObject", lakeArn + `/dead-letter/notify/\*$`},
	})
	// The detector writes to the lake bucket only its dead letters.
	for _, r := range lakeWrites(det) {
		if !regexp.MustCompile(lakeArn + `/dead-letter/notify/\*$`).MatchString(r) {
			t.Errorf("detect may write the lake at %s", r)
		}
	}

	ns := tp.rolePolicy(t, "NotifySlackRole")
	need("notify-slack", ns, [][2]string{{"secretsmanager:GetSecretValue", `:secret:flowlake/slack-\?{6}$`}})
	if got := allowed(ns, "secretsmanager:GetSecretValue", `.`); len(got) != 1 {
		t.Errorf("notify-slack reads secrets %v; want the one", got)
	}
	for _, st := range ns {
		for _, a := range st.Action {
			if covers(a, "sns:Publish") || strings.HasPrefix(strings.ToLower(a), "s3:") {
				t.Errorf("notify-slack has more than it needs: %s in %v", a, st)
			}
		}
		for _, r := range st.Resource {
			if strings.Contains(r, ":s3:") || strings.Contains(r, "Storage") {
				t.Errorf("notify-slack has more than it needs: %s in %v", r, st)
			}
		}
	}
	has(t, tp, "AWS::DynamoDB::GlobalTable", map[string]any{
		"KeySchema":               []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}},
		"TimeToLiveSpecification": map[string]any{"AttributeName": "expires_at", "Enabled": true},
		"BillingMode":             "PAY_PER_REQUEST",
	})
}

func TestFindingsTopic(t *testing.T) {
	tp := templates["Full"]
	count(t, tp, "AWS::SNS::Topic", 2)
	for id, topic := range tp.resources("AWS::SNS::Topic") {
		if topic["KmsMasterKeyId"] == nil {
			t.Errorf("%s: not KMS-encrypted", id)
		}
	}
	has(t, tp, "AWS::KMS::Key", map[string]any{"EnableKeyRotation": true})
	has(t, tp, "AWS::SNS::TopicPolicy", map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
			"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		}))})},
		"Topics": []any{map[string]any{"Ref": like("^FindingsTopic")}},
	})
	for _, e := range []string{"sec@example.com", "soc@example.com"} {
		has(t, tp, "AWS::SNS::Subscription", map[string]any{
			"Protocol": "email", "Endpoint": e,
			"FilterPolicy": map[string]any{"severity": []any{"high", "critical"}},
			"TopicArn":     map[string]any{"Ref": like("^FindingsTopic")},
		})
	}
	has(t, tp, "AWS::SNS::Subscription", map[string]any{
		"Protocol": "email", "Endpoint": "ops@example.com", "FilterPolicy": assertions.Match_Absent(),
		"TopicArn": map[string]any{"Ref": like("^OpsTopic")},
	})
	// CloudWatch alarms can use the ops topic's key.
	has(t, tp, "AWS::KMS::Key", map[string]any{
		"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
			"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
		}))})},
	})
}

func TestAlarms(t *testing.T) {
	// Errors of 5 functions, 2 DLQs, rejected rate and delivery lag of 2
	// ingest functions, damaged objects of ingest-s3, and dead-lettered
	// findings of the 3 that publish.
	count(t, templates["Full"], "AWS::CloudWatch::Alarm", 5+2+2+2+1+3)
	count(t, templates["S3Only"], "AWS::CloudWatch::Alarm", 3+1+2+1+2)
	for name, tp := range templates {
		for id, a := range tp.resources("AWS::CloudWatch::Alarm") {
			ops := false
			for _, act := range list(a["AlarmActions"]) {
				ops = ops || logicalIDPath("${OpsTopic", "}").MatchString(render(act))
			}
			if !ops {
				t.Errorf("%s/%s: AlarmActions = %s; want the ops topic", name, id, js(a["AlarmActions"]))
			}
		}
	}
	tp := templates["Full"]
	has(t, tp, "AWS::CloudWatch::Alarm", map[string]any{
		"MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
	})
	has(t, tp, "AWS::CloudWatch::Alarm", map[string]any{
		"Namespace": "flowlake", "MetricName": "DeliveryLag",
		"Dimensions": []any{map[string]any{"Name": "Function", "Value": "ingest-s3"}}, "Threshold": 1800,
	})
	has(t, tp, "AWS::CloudWatch::Alarm", map[string]any{
		"Metrics": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
			"MetricStat": map[string]any{"Metric": map[string]any{"Namespace": "flowlake", "MetricName": "RejectedLines",
				"Dimensions": []any{map[string]any{"Name": "Function", "Value": "ingest-cwlogs"}}}, "Period": 900, "Stat": "Sum"},
		}))}),
		"Threshold": 1,
	})
	has(t, tp, "AWS::CloudWatch::Alarm", map[string]any{
		"Namespace": "flowlake", "MetricName": "DamagedObjects", "Statistic": "Sum",
		"Dimensions": []any{map[string]any{"Name": "Function", "Value": "ingest-s3"}}, "Threshold": 0,
	})
	has(t, tp, "AWS::CloudWatch::Alarm", map[string]any{
		"Namespace": "flowlake", "MetricName": "FindingsDeadLettered",
		"Dimensions": []any{map[string]any{"Name": "Function", "Value": "detect"}}, "Threshold": 0,
	})
}

// TestNag: the AwsSolutions pack finds no unsuppressed error in any stack,
// and every suppression carries a reason.
func TestNag(t *testing.T) {
	for _, s := range []*flowlake.Stack{full, s3only, cwonly} {
		checkNag(t, s.Stack, templates[*s.StackName()])
	}
}

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
