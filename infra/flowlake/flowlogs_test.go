package flowlake_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/infra/flowlake"
	"github.com/flowlake/flowlake/shared/flowlog"
)

// newFlowLogs builds flow logs on one VPC, one subnet and one ENI, to a
// bucket and to CloudWatch Logs subscribed to a function, with props'
// other settings.
func newFlowLogs(t *testing.T, p flowlake.FlowLogsProps) (awscdk.Stack, *template) {
	code := stubCode(t, "ingest-cwlogs")
	return synth(t, func(stack awscdk.Stack) {
		p.VPCs, p.Subnets, p.ENIs = []string{"vpc-0123456789abcdef0"}, []string{"subnet-0123456789abcdef0"}, []string{"eni-0123456789abcdef0"}
		p.Bucket = awss3.NewBucket(stack, jsii.String("Raw"), &awss3.BucketProps{
			EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		})
		p.CloudWatch = true
		p.Subscriber = flowlake.NewGoFunction(stack, "Ingest", flowlake.GoFunctionProps{Name: "ingest-cwlogs", CodeDir: code}).Function
		flowlake.NewFlowLogs(stack, "FlowLogs", p)
	})
}

func TestFlowLogs(t *testing.T) {
	stack, tp := newFlowLogs(t, flowlake.FlowLogsProps{})
	checkNag(t, stack, tp, "Raw") // the test's own bucket is not the construct's
	// 3 resources × 2 destinations, with the defaults: REJECT, 10 minutes,
	// the rich format.
	count(t, tp, "AWS::EC2::FlowLog", 6)
	for _, res := range [][2]string{{"VPC", "vpc-0123456789abcdef0"}, {"Subnet", "subnet-0123456789abcdef0"}, {"NetworkInterface", "eni-0123456789abcdef0"}} {
		has(t, tp, "AWS::EC2::FlowLog", map[string]any{
			"ResourceType": res[0], "ResourceId": res[1],
			"TrafficType": "REJECT", "MaxAggregationInterval": 600, "LogFormat": flowlog.RichFormat,
			"LogDestinationType": "s3", "LogDestination": map[string]any{"Fn::GetAtt": []any{like("^Raw"), "Arn"}},
			"DestinationOptions": map[string]any{"FileFormat": "plain-text", "HiveCompatiblePartitions": false, "PerHourPartition": false},
			"Tags":               []any{map[string]any{"Key": "Name", "Value": "flowlake-s3-" + res[1]}},
		})
		has(t, tp, "AWS::EC2::FlowLog", map[string]any{
			"ResourceType": res[0], "ResourceId": res[1],
			"TrafficType": "REJECT", "MaxAggregationInterval": 600, "LogFormat": flowlog.RichFormat,
			"LogDestinationType":       "cloud-watch-logs",
			"DeliverLogsPermissionArn": map[string]any{"Fn::GetAtt": []any{like("^FlowLogsDeliveryRole"), "Arn"}},
			"LogGroupName":             map[string]any{"Ref": like("^FlowLogsLogGroup")},
			"DestinationOptions":       assertions.Match_Absent(),
			"Tags":                     []any{map[string]any{"Key": "Name", "Value": "flowlake-cloudwatch-" + res[1]}},
		})
	}
	// The log group: 14 days by default, kept when the stack goes.
	for id, r := range tp.doc["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == "AWS::Logs::LogGroup" && strings.HasPrefix(id, "FlowLogs") {
			if js(r["Properties"]) != `{"RetentionInDays":14}` || r["DeletionPolicy"] != "Retain" {
				t.Errorf("%s = %s; want 14 days, retained", id, js(r))
			}
		}
	}
	// The subscription sends every event to the subscriber.
	count(t, tp, "AWS::Logs::SubscriptionFilter", 1)
	has(t, tp, "AWS::Logs::SubscriptionFilter", map[string]any{
		"FilterPattern": "", "FilterName": "flowlake-ingest-cwlogs",
		"DestinationArn": map[string]any{"Fn::GetAtt": []any{like("^IngestFunction"), "Arn"}},
		"LogGroupName":   map[string]any{"Ref": like("^FlowLogsLogGroup")},
	})
	// Saved queries with the format's field names, the guide's first.
	qs := flowlake.InsightsQueries(flowlog.MustParseFormat(flowlog.RichFormat))
	count(t, tp, "AWS::Logs::QueryDefinition", len(qs))
	has(t, tp, "AWS::Logs::QueryDefinition", map[string]any{
		"Name": "flowlake/top-rejected-destination-ports", "QueryString": qs[0].Query,
		"LogGroupNames": []any{map[string]any{"Ref": like("^FlowLogsLogGroup")}},
	})
}

func TestFlowLogsProps(t *testing.T) {
	_, tp := newFlowLogs(t, flowlake.FlowLogsProps{
		TrafficType: "ALL", AggregationSeconds: 60, Format: flowlog.MustParseFormat(flowlog.DefaultFormat), RetentionDays: 30,
	})
	has(t, tp, "AWS::EC2::FlowLog", map[string]any{
		"ResourceType": "VPC", "TrafficType": "ALL", "MaxAggregationInterval": 60, "LogFormat": flowlog.DefaultFormat, "LogDestinationType": "s3",
	})
	has(t, tp, "AWS::Logs::LogGroup", map[string]any{"RetentionInDays": 30})
	// With the default format, only the queries its fields allow.
	count(t, tp, "AWS::Logs::QueryDefinition", 5)
}

// TestFlowLogDeliveryToS3: the delivery service's grant lives in the
// bucket's policy, with the confused-deputy conditions, and writes under
// AWSLogs/<this account>/ only.
func TestFlowLogDeliveryToS3(t *testing.T) {
	_, tp := newFlowLogs(t, flowlake.FlowLogsProps{})
	pols := tp.resources("AWS::S3::BucketPolicy")
	if len(pols) != 1 {
		t.Fatalf("%d bucket policies; want 1", len(pols))
	}
	var acl, write []statement
	for _, p := range pols {
		for _, st := range statements(t, p["PolicyDocument"]) {
			switch st.Sid {
			case "AWSLogDeliveryAclCheck":
				acl = append(acl, st)
			case "AWSLogDeliveryWrite":
				write = append(write, st)
			}
		}
	}
	if len(acl) != 1 || len(write) != 1 {
		t.Fatalf("delivery statements: %v, %v; want one of each", acl, write)
	}
	sourceArn := "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"
	for _, st := range append(acl, write...) {
		if st.Effect != "Allow" || js(st.Principal) != `{"Service":"delivery.logs.amazonaws.com"}` ||
			render(st.Condition["StringEquals"]["aws:SourceAccount"]) != "${AWS::AccountId}" || render(st.Condition["ArnLike"]["aws:SourceArn"]) != sourceArn {
			t.Errorf("%s = %v; want delivery.logs.amazonaws.com for this account's logs", st.Sid, st)
		}
	}
	if !reflect.DeepEqual(acl[0].Action, []string{"s3:GetBucketAcl", "s3:ListBucket"}) || len(acl[0].Resource) != 1 || !logicalID(`\$\{Raw`).MatchString(strings.TrimSuffix(acl[0].Resource[0], ".Arn}")) {
		t.Errorf("AWSLogDeliveryAclCheck = %v; want GetBucketAcl and ListBucket on the bucket", acl[0])
	}
	if !reflect.DeepEqual(write[0].Action, []string{"s3:PutObject"}) || !logicalIDPath("${Raw", ".Arn}/AWSLogs/${AWS::AccountId}/*").MatchString(strings.Join(write[0].Resource, " ")) ||
		write[0].Condition["StringEquals"]["s3:x-amz-acl"] != "bucket-owner-full-control" {
		t.Errorf("AWSLogDeliveryWrite = %v; want PutObject under AWSLogs/<account>/ with bucket-owner-full-control", write[0])
	}
}

// TestFlowLogsDeliveryRole: the role that delivers to CloudWatch Logs
// trusts the flow-logs service only for this account's flow logs, and may
// write to the flow-log group only.
func TestFlowLogsDeliveryRole(t *testing.T) {
	_, tp := newFlowLogs(t, flowlake.FlowLogsProps{})
	var trust []statement
	for id, r := range tp.resources("AWS::IAM::Role") {
		if strings.HasPrefix(id, "FlowLogsDeliveryRole") {
			trust = statements(t, r["AssumeRolePolicyDocument"])
		}
	}
	if len(trust) != 1 || js(trust[0].Principal) != `{"Service":"vpc-flow-logs.amazonaws.com"}` ||
		render(trust[0].Condition["StringEquals"]["aws:SourceAccount"]) != "${AWS::AccountId}" ||
		render(trust[0].Condition["ArnLike"]["aws:SourceArn"]) != "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*" {
		t.Errorf("delivery role trust = %v; want vpc-flow-logs.amazonaws.com for this account's flow logs", trust)
	}
	sts := tp.rolePolicy(t, "FlowLogsDeliveryRole")
	for _, st := range sts {
		for _, r := range st.Resource {
			if !logicalID(`\$\{FlowLogsLogGroup`).MatchString(strings.TrimSuffix(r, ".Arn}")) {
				t.Errorf("delivery role reaches %s; want the flow-log group only", r)
			}
		}
	}
	if len(allowed(sts, "logs:PutLogEvents", `^\$\{FlowLogsLogGroup`)) == 0 {
		t.Errorf("delivery role = %v; want logs:PutLogEvents on the flow-log group", sts)
	}
}

func TestInsightsQueriesFollowTheFormat(t *testing.T) {
	rich := flowlake.InsightsQueries(flowlog.MustParseFormat(flowlog.RichFormat))
	if len(rich) != 7 || rich[0].Name != "top-rejected-destination-ports" || rich[6].Name != "why-src-dst-port" {
		t.Fatalf("InsightsQueries(rich) = %d queries, first %q; want 7, top-rejected-destination-ports first, why-src-dst-port last", len(rich), rich[0].Name)
	}
	if q := rich[6].Query; !strings.Contains(q, `srcaddr = "SRC" and dstaddr = "DST" and dstport = "PORT"`) || !strings.Contains(q, "flow_direction, tcp_flags") {
		t.Errorf("InsightsQueries(rich) why = %q; want the pair's filter, by flow direction and tcp-flags", q)
	}
	if !strings.HasPrefix(rich[0].Query, `parse @message "* * *`) || !strings.Contains(rich[0].Query, " as version, account_id, interface_id,") ||
		!strings.Contains(rich[0].Query, "flow_direction, traffic_path\n") {
		t.Errorf("InsightsQueries(rich)[0] = %q; want a parse naming every field of the format", rich[0].Query)
	}
	def := flowlake.InsightsQueries(flowlog.MustParseFormat(flowlog.DefaultFormat))
	var names []string
	for _, q := range def {
		names = append(names, q.Name)
	}
	want := []string{"top-rejected-destination-ports", "top-talkers-by-bytes", "rejected-ssh-rdp-from-internet", "nodata-skipdata-by-eni", "why-src-dst-port"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("InsightsQueries(default) = %v; want %v (no v5 fields)", names, want)
	}
	custom := flowlake.InsightsQueries(flowlog.MustParseFormat("${srcaddr} ${dstaddr} ${bytes} ${packets}"))
	if len(custom) != 0 {
		t.Errorf("InsightsQueries(no action, no log-status) = %d queries; want 0", len(custom))
	}
}
