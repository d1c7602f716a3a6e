package flowlake

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogsdestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/why"
)

// FlowLogsProps configures the flow logs. At least one of VPCs, Subnets
// and ENIs, and at least one destination (Bucket, CloudWatch), are needed
// for any flow log to exist.
type FlowLogsProps struct {
	VPCs, Subnets, ENIs []string
	TrafficType         string          // ACCEPT, REJECT or ALL; "": REJECT
	AggregationSeconds  int             // 60 or 600; 0: 600
	Format              *flowlog.Format // nil: flowlog.RichFormat
	// TagKeys are the tag keys whose values ${instance-tag} and
	// ${interface-tag} record, by resource type (instance,
	// network-interface): the flow logs' TagFieldSpecifications
	// (Config.TagFieldSpecifications).
	TagKeys map[string]string

	// Bucket, if set, receives the flow logs as gzipped text files with a
	// header line, under AWSLogs/ at its root.
	Bucket awss3.IBucket
	// CloudWatch sends the flow logs to a log group kept RetentionDays
	// (0: 14), subscribed to Subscriber when set.
	CloudWatch    bool
	RetentionDays int
	Subscriber    awslambda.IFunction
}

// FlowLogs enables VPC Flow Logs on every VPC, subnet and network interface
// of the scope, to S3, to CloudWatch Logs, or both (one flow log per
// resource and destination). S3 delivery is granted in the bucket's policy
// and CloudWatch delivery by a role, each only on behalf of this account's
// flow logs; the log group is kept when the stack is deleted.
type FlowLogs struct {
	constructs.Construct
	FlowLogs []awsec2.FlowLog
	LogGroup awslogs.LogGroup // nil without CloudWatch
	Role     awsiam.Role      // the delivery role to CloudWatch Logs; nil without
}

// NewFlowLogs creates the flow logs and, for CloudWatch, the log group, its
// delivery role, the subscription and the Logs Insights saved queries.
func NewFlowLogs(scope constructs.Construct, id string, p FlowLogsProps) *FlowLogs {
	f := &FlowLogs{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	if p.TrafficType == "" {
		p.TrafficType = Defaults().TrafficType
	}
	if p.AggregationSeconds == 0 {
		p.AggregationSeconds = Defaults().AggregationSeconds
	}
	if p.Format == nil {
		p.Format = flowlog.MustParseFormat(flowlog.RichFormat)
	}
	if p.RetentionDays == 0 {
		p.RetentionDays = Defaults().FlowLogRetentionDays
	}
	var dests []destination
	if p.Bucket != nil {
		// An imported bucket (a member's central bucket) has its policy
		// in its own account's stack: AddToResourcePolicy does nothing.
		grantDelivery(p.Bucket)
		dests = append(dests, destination{"S3", awsec2.FlowLogDestination_ToS3(p.Bucket, nil, nil)})
	}
	if p.CloudWatch {
		dests = append(dests, f.addLogGroup(p.RetentionDays))
	}
	for _, t := range f.targets(p) {
		for _, d := range dests {
			f.addFlowLog(t, d, p)
		}
	}
	if f.LogGroup != nil {
		f.addLogGroupReaders(p)
	}
	return f
}

// destination is where a flow log delivers.
type destination struct {
	name string // in the flow log's id and Name tag: S3 or CloudWatch
	dest awsec2.FlowLogDestination
}

// target is a resource a flow log watches.
type target struct {
	id  string // its AWS id
	res awsec2.FlowLogResourceType
}

// grantDelivery lets the log delivery service write this account's flow
// logs to bucket, through the bucket's policy. Granting it here keeps the
// grant under CloudFormation: otherwise AWS appends it at flow-log
// creation, and the next update of the stack's bucket policy would drop it.
func grantDelivery(bucket awss3.IBucket) {
	stack := awscdk.Stack_Of(bucket)
	sourceArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"), Resource: jsii.String("*")})
	delivery := awsiam.NewServicePrincipal(jsii.String("delivery.logs.amazonaws.com"), nil)
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AWSLogDeliveryAclCheck"),
		Principals: &[]awsiam.IPrincipal{delivery},
		Actions:    jsii.Strings("s3:GetBucketAcl", "s3:ListBucket"),
		Resources:  &[]*string{bucket.BucketArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
			"ArnLike":      map[string]any{"aws:SourceArn": sourceArn},
		},
	}))
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AWSLogDeliveryWrite"),
		Principals: &[]awsiam.IPrincipal{delivery},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{bucket.ArnForObjects(jsii.String("AWSLogs/" + *stack.Account() + "/*"))},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account(), "s3:x-amz-acl": "bucket-owner-full-control"},
			"ArnLike":      map[string]any{"aws:SourceArn": sourceArn},
		},
	}))
}

// GrantMemberDelivery lets the log delivery service write the flow logs of
// each of accounts (members of a central stack's organisation) to bucket,
// through its policy, each under its own AWSLogs/<account>/ only, as AWS
// documents for cross-account delivery: s3:PutObject with the account as
// aws:SourceAccount, its flow logs (arn:aws:logs:*:<account>:*) as
// aws:SourceArn and the bucket-owner-full-control ACL; and, on the same
// conditions, the s3:GetBucketAcl and s3:ListBucket delivery checks. No
// principal of a member account gets anything: only the service, on its
// behalf, and only these writes.
func GrantMemberDelivery(bucket awss3.IBucket, accounts []string) {
	if len(accounts) == 0 {
		return
	}
	stack := awscdk.Stack_Of(bucket)
	delivery := awsiam.NewServicePrincipal(jsii.String("delivery.logs.amazonaws.com"), nil)
	sourceArn := func(account string) string {
		return *stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"), Region: jsii.String("*"),
			Account: jsii.String(account), Resource: jsii.String("*")})
	}
	var arns []*string
	for _, a := range accounts {
		arns = append(arns, jsii.String(sourceArn(a)))
	}
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AWSLogDeliveryAclCheckMembers"),
		Principals: &[]awsiam.IPrincipal{delivery},
		Actions:    jsii.Strings("s3:GetBucketAcl", "s3:ListBucket"),
		Resources:  &[]*string{bucket.BucketArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": jsii.Strings(accounts...)},
			"ArnLike":      map[string]any{"aws:SourceArn": &arns},
		},
	}))
	for _, a := range accounts {
		bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AWSLogDeliveryWrite" + a),
			Principals: &[]awsiam.IPrincipal{delivery},
			Actions:    jsii.Strings("s3:PutObject"),
			Resources:  &[]*string{bucket.ArnForObjects(jsii.String("AWSLogs/" + a + "/*"))},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": a, "s3:x-amz-acl": "bucket-owner-full-control"},
				"ArnLike":      map[string]any{"aws:SourceArn": sourceArn(a)},
			},
		}))
	}
}

// addLogGroup creates the flow-log group, kept retentionDays, and the
// role that delivers to it, which trusts the flow-logs service only on
// behalf of this account's flow logs (confused-deputy guard).
func (f *FlowLogs) addLogGroup(retentionDays int) destination {
	stack := awscdk.Stack_Of(f.Construct)
	f.LogGroup = awslogs.NewLogGroup(f.Construct, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		Retention:     retention(retentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	f.Role = awsiam.NewRole(f.Construct, jsii.String("DeliveryRole"), &awsiam.RoleProps{
		Description: jsii.String("VPC Flow Logs delivery to the flowlake log group"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("vpc-flow-logs.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
				"ArnLike": map[string]any{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("ec2"), Resource: jsii.String("vpc-flow-log"), ResourceName: jsii.String("*"),
				})},
			},
		}),
	})
	return destination{"CloudWatch", awsec2.FlowLogDestination_ToCloudWatchLogs(f.LogGroup, f.Role)}
}

// targets imports the VPCs and subnets by id, and names the network
// interfaces.
func (f *FlowLogs) targets(p FlowLogsProps) []target {
	var out []target
	for _, v := range p.VPCs {
		vpc := awsec2.Vpc_FromVpcAttributes(f.Construct, jsii.String("Import-"+v), &awsec2.VpcAttributes{
			VpcId: jsii.String(v), AvailabilityZones: awscdk.Stack_Of(f.Construct).AvailabilityZones(), // unused: only the id matters
		})
		out = append(out, target{v, awsec2.FlowLogResourceType_FromVpc(vpc)})
	}
	for _, s := range p.Subnets {
		sn := awsec2.Subnet_FromSubnetId(f.Construct, jsii.String("Import-"+s), jsii.String(s))
		out = append(out, target{s, awsec2.FlowLogResourceType_FromSubnet(sn)})
	}
	for _, e := range p.ENIs {
		out = append(out, target{e, awsec2.FlowLogResourceType_FromNetworkInterfaceId(jsii.String(e))})
	}
	return out
}

// addFlowLog creates the flow log of t to d, tagged with its Name.
func (f *FlowLogs) addFlowLog(t target, d destination, p FlowLogsProps) {
	interval := awsec2.FlowLogMaxAggregationInterval_TEN_MINUTES
	if p.AggregationSeconds == 60 {
		interval = awsec2.FlowLogMaxAggregationInterval_ONE_MINUTE
	}
	fl := awsec2.NewFlowLog(f.Construct, jsii.String(d.name+"-"+t.id), &awsec2.FlowLogProps{
		ResourceType:           t.res,
		Destination:            d.dest,
		TrafficType:            awsec2.FlowLogTrafficType(p.TrafficType),
		MaxAggregationInterval: interval,
		LogFormat:              &[]awsec2.LogFormat{awsec2.LogFormat_Custom(jsii.String(p.Format.String()))},
	})
	if len(p.TagKeys) > 0 {
		var specs []any
		for _, rt := range slices.Sorted(maps.Keys(p.TagKeys)) {
			specs = append(specs, &awsec2.CfnFlowLog_TagFieldSpecificationProperty{
				ResourceType: jsii.String(rt), TagKeys: jsii.Strings(p.TagKeys[rt]),
			})
		}
		fl.Node().DefaultChild().(awsec2.CfnFlowLog).SetTagFieldSpecifications(specs)
	}
	if d.name == "S3" {
		// Text files with a header line, daily, non-Hive paths (the
		// defaults), stated explicitly. CloudFormation wants PascalCase
		// keys, all three together; the L2 would write camelCase ones,
		// which its schema rejects.
		fl.Node().DefaultChild().(awsec2.CfnFlowLog).AddPropertyOverride(jsii.String("DestinationOptions"), map[string]any{
			"FileFormat": "plain-text", "HiveCompatiblePartitions": false, "PerHourPartition": false,
		})
	}
	awscdk.Tags_Of(fl).Add(jsii.String("Name"), jsii.String(fmt.Sprintf("flowlake-%s-%s", strings.ToLower(d.name), t.id)), nil)
	f.FlowLogs = append(f.FlowLogs, fl)
}

// addLogGroupReaders subscribes p.Subscriber, when set, to every event of
// the log group, and saves the Logs Insights queries of p.Format.
func (f *FlowLogs) addLogGroupReaders(p FlowLogsProps) {
	if p.Subscriber != nil {
		awslogs.NewSubscriptionFilter(f.Construct, jsii.String("Subscription"), &awslogs.SubscriptionFilterProps{
			LogGroup:      f.LogGroup,
			Destination:   awslogsdestinations.NewLambdaDestination(p.Subscriber, nil),
			FilterPattern: awslogs.FilterPattern_AllEvents(),
			FilterName:    jsii.String("flowlake-ingest-cwlogs"),
		})
	}
	for _, q := range InsightsQueries(p.Format) {
		awslogs.NewCfnQueryDefinition(f.Construct, jsii.String("Query-"+q.Name), &awslogs.CfnQueryDefinitionProps{
			Name:          jsii.String("flowlake/" + q.Name),
			QueryString:   jsii.String(q.Query),
			LogGroupNames: &[]any{f.LogGroup.LogGroupName()},
		})
	}
}

// InsightsQuery is a CloudWatch Logs Insights saved query.
type InsightsQuery struct {
	Name  string
	Query string
	Needs []string // the flow-log fields it reads
}

// InsightsQueries returns the Logs Insights queries for flow logs of format
// fm, the guide's "top rejected destination ports" first. Each begins with a
// parse statement that names every field of the format (as the lake's
// columns do: '-' as '_'), so the field names match the flow log's format
// whatever it is; a query whose fields the format lacks is left out.
func InsightsQueries(fm *flowlog.Format) []InsightsQuery {
	names := fm.Names()
	globs := make([]string, len(names))
	cols := make([]string, len(names))
	for i, n := range names {
		globs[i] = "*"
		cols[i] = strings.ReplaceAll(n, "-", "_")
	}
	parse := fmt.Sprintf("parse @message \"%s\" as %s", strings.Join(globs, " "), strings.Join(cols, ", "))
	private := `not isIpv4InSubnet(srcaddr, "10.0.0.0/8") and not isIpv4InSubnet(srcaddr, "172.16.0.0/12")` +
		` and not isIpv4InSubnet(srcaddr, "192.168.0.0/16") and not isIpv4InSubnet(srcaddr, "100.64.0.0/10")`
	all := []InsightsQuery{
		{"top-rejected-destination-ports", `filter action = "REJECT"
| stats count(*) as rejected_flows, count_distinct(srcaddr) as sources by dstport, protocol
| sort rejected_flows desc
| limit 25`, []string{"action", "dstport", "protocol", "srcaddr"}},
		{"top-talkers-by-bytes", `filter log_status = "OK"
| stats sum(bytes) as total_bytes, sum(packets) as total_packets, count(*) as flows by srcaddr, dstaddr
| sort total_bytes desc
| limit 25`, []string{"log-status", "bytes", "packets", "srcaddr", "dstaddr"}},
		{"rejected-ssh-rdp-from-internet", `filter action = "REJECT" and protocol = "6" and dstport in ["22", "3389"]
| filter ` + private + `
| stats count(*) as attempts, count_distinct(dstaddr) as targets by srcaddr, dstport
| sort attempts desc
| limit 100`, []string{"action", "protocol", "dstport", "srcaddr", "dstaddr"}},
		{"traffic-by-aws-service", `filter pkt_src_aws_service != "-" or pkt_dst_aws_service != "-"
| stats sum(bytes) as total_bytes, count(*) as flows by pkt_src_aws_service, pkt_dst_aws_service, flow_direction
| sort total_bytes desc
| limit 50`, []string{"pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "bytes"}},
		{"nodata-skipdata-by-eni", `filter log_status in ["NODATA", "SKIPDATA"]
| stats count(*) as records by interface_id, log_status
| sort records desc
| limit 100`, []string{"log-status", "interface-id"}},
		{"egress-to-internet-by-instance", `filter action = "ACCEPT" and flow_direction = "egress" and traffic_path in ["2", "8"]
| stats sum(bytes) as total_bytes, count_distinct(dstaddr) as destinations by instance_id, interface_id
| sort total_bytes desc
| limit 25`, []string{"action", "flow-direction", "traffic-path", "bytes", "dstaddr", "instance-id", "interface-id"}},
		// flowlake why's evidence: edit SRC, DST and PORT.
		{why.NamedQueryName, why.InsightsQuery(fm.Has(flowlog.FieldFlowDirection), fm.Has(flowlog.FieldTCPFlags)), why.InsightsFields},
	}
	var out []InsightsQuery
	for _, q := range all {
		ok := true
		for _, n := range q.Needs {
			f, known := flowlog.LookupField(n)
			ok = ok && known && fm.Has(f)
		}
		if ok {
			q.Query = parse + "\n| " + q.Query
			out = append(out, q)
		}
	}
	return out
}
