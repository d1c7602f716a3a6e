package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3notifications"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/notify/slack"
	"github.com/flowlake/flowlake/shared/pipeline"
	"github.com/flowlake/flowlake/shared/schedule"
)

// Function timeouts. The ingest-s3 queue's visibility timeout is six times
// its function's, as AWS advises for SQS event sources.
const (
	ingestS3Timeout     = 5  // minutes
	ingestCWLogsTimeout = 2  // minutes
	detectTimeout       = 10 // minutes
	notifyTimeout       = 1  // minutes
)

// StackProps configures the flowlake stack.
type StackProps struct {
	awscdk.StackProps
	Config Config
	// Code returns the folder holding the bootstrap binary of a function
	// (BuildFunctions, or prebuilt binaries in tests).
	Code map[string]string
}

// Stack is everything one `cdk deploy` creates.
type Stack struct {
	awscdk.Stack
	Storage                                     *Storage
	Catalog                                     *Catalog
	FlowLogs                                    *FlowLogs
	Findings, Ops                               *Topic
	Dedup                                       awsdynamodb.TableV2
	IngestS3, IngestCWLogs, Detect, NotifySlack *GoFunction
	IngestQueue, IngestDLQ, NotifyDLQ           awssqs.Queue
	Alarms                                      []awscloudwatch.Alarm
}

// FunctionNames returns the functions the configuration deploys, each of
// which needs functions/<name>.
func FunctionNames(c Config) []string {
	names := []string{FnIngestS3, FnDetect}
	if c.CloudWatch() {
		names = append(names, FnIngestCWLogs)
	}
	if c.SlackSecretName != "" {
		names = append(names, FnNotifySlack)
	}
	return names
}

// NewStack creates the flowlake stack.
func NewStack(scope constructs.Construct, id string, p StackProps) (*Stack, error) {
	c := p.Config
	for _, n := range FunctionNames(c) {
		if p.Code[n] == "" {
			return nil, fmt.Errorf("no bootstrap for function %s", n)
		}
	}
	sp := p.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("flowlake: VPC Flow Logs into a Parquet lake with Athena tables, detection and findings")
	}
	s := &Stack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp)}
	// Server access logging grants the logging service through the logs
	// bucket's policy, not an ACL (the buckets disable ACLs).
	s.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
	account := s.Account()
	min := func(m int) awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(m)) }

	s.Storage = NewStorage(s.Stack, "Storage", StorageProps{
		RawExpirationDays: c.RawExpirationDays, LakeTransitionDays: c.LakeTransitionDays,
		LakeStorageClass: c.LakeStorageClass, LakeExpirationDays: c.LakeExpirationDays,
		AccessLogExpirationDays: c.AccessLogExpirationDays,
	})
	s.Catalog = NewCatalog(s.Stack, "Catalog", CatalogProps{
		DatabaseName: c.DatabaseName, Lake: s.Storage.Lake, Results: s.Storage.Results,
		// The flow logs of this stack are in its own account and region: S3
		// keys carry the region, and ingest-cwlogs gives CloudWatch Logs
		// records its own. So an unfiltered query projects 24 partitions a
		// day (see TestProjectedPartitions).
		Accounts: []string{*account}, Regions: []string{*s.Region()}, BytesScannedCutoff: c.BytesScannedCutoff,
	})
	s.Findings = NewTopic(s.Stack, "Findings", TopicProps{
		DisplayName: "flowlake findings", Emails: c.AlertEmails, Severities: Severities(c.EmailMinSeverity),
	})
	s.Ops = NewTopic(s.Stack, "Ops", TopicProps{DisplayName: "flowlake operations", Emails: c.OpsEmails, CloudWatchAlarms: true})
	s.Dedup = awsdynamodb.NewTableV2(s.Stack, jsii.String("Dedup"), &awsdynamodb.TablePropsV2{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		TimeToLiveAttribute: jsii.String("expires_at"),
		Billing:             awsdynamodb.Billing_OnDemand(nil),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})

	// publishEnv is how every function that publishes findings does it,
	// with the same detection settings (ingest runs the batch engine,
	// detect the lake engine).
	publishEnv := map[string]*string{
		notify.EnvTopicARN:         s.Findings.Topic.TopicArn(),
		notify.EnvDedupTable:       s.Dedup.TableName(),
		notify.EnvDeadLetterBucket: s.Storage.Lake.BucketName(),
		notify.EnvDeadLetterPrefix: jsii.String(strings.TrimSuffix(DeadLetterPrefix, "/")),
	}
	if len(c.DetectInternal) > 0 {
		publishEnv[detect.EnvInternal] = jsii.String(strings.Join(c.DetectInternal, ","))
	}
	if len(c.DetectDisabled) > 0 {
		publishEnv[detect.EnvDisabled] = jsii.String(strings.Join(c.DetectDisabled, ","))
	}
	lakeEnv := map[string]*string{
		pipeline.EnvLakeBucket:    s.Storage.Lake.BucketName(),
		pipeline.EnvLakePrefix:    jsii.String(strings.TrimSuffix(LakePrefix, "/")),
		pipeline.EnvRejectsPrefix: jsii.String(strings.TrimSuffix(RejectsPrefix, "/")),
		// The ingest roles may describe ENIs (eni_* columns, direction).
		pipeline.EnvENIMetadata: jsii.String("true"),
		// AWS's published ranges (src_aws_service, dst_aws_service), fetched
		// on first use and refreshed by ETag; the functions run outside any
		// VPC, so they reach it.
		pipeline.EnvIPRanges: jsii.String(enrich.AWSIPRangesURL),
	}
	// with returns the union of the maps, later ones winning.
	with := func(envs ...map[string]*string) map[string]*string {
		out := map[string]*string{}
		for _, env := range envs {
			for k, v := range env {
				out[k] = v
			}
		}
		return out
	}
	// grantPublish gives a function what publishing findings does: publish
	// to the topic, use the dedup store, write dead letters.
	grantPublish := func(g *GoFunction) {
		s.Findings.Topic.GrantPublish(g.Role)
		s.Dedup.GrantReadWriteData(g.Role)
		s.Storage.Lake.GrantPut(g.Role, jsii.String(DeadLetterPrefix+"*"))
	}
	// grantIngest gives an ingest function what the pipeline does: write
	// the lake's two prefixes (PutObject and AbortMultipartUpload), describe
	// ENIs, and publish findings.
	grantIngest := func(g *GoFunction) {
		s.Storage.Lake.GrantPut(g.Role, jsii.String(LakePrefix+"*"))
		s.Storage.Lake.GrantPut(g.Role, jsii.String(RejectsPrefix+"*"))
		g.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("ec2:DescribeNetworkInterfaces"),
			Resources: jsii.Strings("*"),
		}))
		grantPublish(g)
	}

	// ingest-s3: raw bucket → S3 notification → SQS (DLQ) → Lambda.
	s.IngestS3 = NewGoFunction(s.Stack, "IngestS3", GoFunctionProps{
		Name: FnIngestS3, Description: "flowlake: flow-log files in S3 into the Parquet lake",
		CodeDir: p.Code[FnIngestS3], Timeout: min(ingestS3Timeout), MemoryMB: 2048,
		RetentionDays: c.FunctionLogRetentionDays,
		Environment:   with(lakeEnv, publishEnv, map[string]*string{pipeline.EnvRawPrefix: jsii.String(strings.TrimSuffix(RawPrefix, "/"))}),
	})
	grantIngest(s.IngestS3)
	s.Storage.Raw.GrantRead(s.IngestS3.Role, jsii.String(RawPrefix+"*"))
	s.IngestDLQ = awssqs.NewQueue(s.Stack, jsii.String("IngestS3DLQ"), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	s.IngestQueue = awssqs.NewQueue(s.Stack, jsii.String("IngestS3Queue"), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
		VisibilityTimeout: min(6 * ingestS3Timeout),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: s.IngestDLQ, MaxReceiveCount: jsii.Number(5)},
	})
	if c.S3() {
		s.Storage.Raw.AddEventNotification(awss3.EventType_OBJECT_CREATED, awss3notifications.NewSqsDestination(s.IngestQueue),
			&awss3.NotificationKeyFilter{Prefix: jsii.String(RawPrefix)})
		s.retainHandlerLogs(c)
	}
	s.IngestS3.Function.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.IngestQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(10),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(5)),
		ReportBatchItemFailures: jsii.Bool(true),
	}))

	// ingest-cwlogs: the flow-log group's subscription.
	if c.CloudWatch() {
		s.IngestCWLogs = NewGoFunction(s.Stack, "IngestCWLogs", GoFunctionProps{
			Name: FnIngestCWLogs, Description: "flowlake: CloudWatch Logs flow-log batches into the Parquet lake",
			CodeDir: p.Code[FnIngestCWLogs], Timeout: min(ingestCWLogsTimeout), MemoryMB: 1024,
			RetentionDays: c.FunctionLogRetentionDays,
			Environment:   with(lakeEnv, publishEnv, map[string]*string{pipeline.EnvFormat: jsii.String(c.Format().String())}),
		})
		grantIngest(s.IngestCWLogs)
	}
	var raw awss3.IBucket
	if c.S3() {
		raw = s.Storage.Raw
	}
	fl := FlowLogsProps{
		VPCs: c.VPCs, Subnets: c.Subnets, ENIs: c.ENIs, TrafficType: c.TrafficType,
		AggregationSeconds: c.AggregationSeconds, Format: c.Format(), Bucket: raw,
		CloudWatch: c.CloudWatch(), RetentionDays: c.FlowLogRetentionDays,
	}
	if s.IngestCWLogs != nil {
		fl.Subscriber = s.IngestCWLogs.Function
	}
	s.FlowLogs = NewFlowLogs(s.Stack, "FlowLogs", fl)

	// detect: hourly Athena run of the rules over the lake.
	// It reads the lake through Athena only.
	detectEnv := with(publishEnv, map[string]*string{
		schedule.EnvWorkgroup: s.Catalog.Workgroup.Ref(),
		schedule.EnvDatabase:  jsii.String(c.DatabaseName),
		detect.EnvAccounts:    account,
	})
	s.Detect = NewGoFunction(s.Stack, "Detect", GoFunctionProps{
		Name: FnDetect, Description: "flowlake: scheduled detection rules in Athena over the lake",
		CodeDir: p.Code[FnDetect], Timeout: min(detectTimeout), MemoryMB: 512,
		RetentionDays: c.FunctionLogRetentionDays, Environment: detectEnv,
	})
	s.Storage.Lake.GrantRead(s.Detect.Role, jsii.String(LakePrefix+"*"))
	s.Storage.Results.GrantReadWrite(s.Detect.Role, jsii.String(ResultsPrefix+"*"))
	grantPublish(s.Detect)
	s.Detect.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"),
		Resources: &[]*string{s.Catalog.WorkgroupArn()},
	}))
	s.Detect.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"),
		Resources: toPtrs(s.Catalog.GlueReadArns()),
	}))
	awsevents.NewRule(s.Stack, jsii.String("DetectSchedule"), &awsevents.RuleProps{
		Description: jsii.String("flowlake: run detection"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(c.DetectSchedule)),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.Detect.Function, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(2),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
		})},
	})

	// notify-slack: subscribed to the findings when a secret is named.
	if c.SlackSecretName != "" {
		secret := awssecretsmanager.Secret_FromSecretNameV2(s.Stack, jsii.String("SlackSecret"), jsii.String(c.SlackSecretName))
		s.NotifySlack = NewGoFunction(s.Stack, "NotifySlack", GoFunctionProps{
			Name: FnNotifySlack, Description: "flowlake: findings to Slack",
			CodeDir: p.Code[FnNotifySlack], Timeout: min(notifyTimeout), MemoryMB: 256,
			RetentionDays: c.FunctionLogRetentionDays,
			Environment:   slackEnv(c),
		})
		secret.GrantRead(s.NotifySlack.Role, nil)
		s.NotifyDLQ = awssqs.NewQueue(s.Stack, jsii.String("NotifySlackDLQ"), &awssqs.QueueProps{
			Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		})
		s.Findings.Topic.AddSubscription(awssnssubscriptions.NewLambdaSubscription(s.NotifySlack.Function,
			&awssnssubscriptions.LambdaSubscriptionProps{DeadLetterQueue: s.NotifyDLQ}))
		cdknag.NagSuppressions_AddResourceSuppressions(s.NotifyDLQ, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-SQS3"),
			Reason: jsii.String("this queue is a DLQ: the findings topic's Lambda subscription redrives to it (RedrivePolicy " +
				"on the AWS::SNS::Subscription, which cdk-nag does not look at)"),
		}}, jsii.Bool(true))
		cdknag.NagSuppressions_AddResourceSuppressions(s.NotifySlack.Role, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("the secret is named, not created here: its ARN ends in a random 6-character suffix, " +
				"so the grant names <secret name>-??????, which matches that one secret only"),
			AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:secretsmanager:.*-\?\?\?\?\?\?$/g`)}},
		}}, jsii.Bool(true))
	}

	s.alarms(c)
	s.suppress()
	awscdk.NewCfnOutput(s.Stack, jsii.String("LakeBucket"), &awscdk.CfnOutputProps{Value: s.Storage.Lake.BucketName()})
	awscdk.NewCfnOutput(s.Stack, jsii.String("RawBucket"), &awscdk.CfnOutputProps{Value: s.Storage.Raw.BucketName()})
	awscdk.NewCfnOutput(s.Stack, jsii.String("AthenaWorkgroup"), &awscdk.CfnOutputProps{Value: s.Catalog.Workgroup.Ref()})
	awscdk.NewCfnOutput(s.Stack, jsii.String("GlueTable"), &awscdk.CfnOutputProps{Value: jsii.String(c.DatabaseName + "." + s.Catalog.TableDef.Name)})
	awscdk.NewCfnOutput(s.Stack, jsii.String("FindingsTopic"), &awscdk.CfnOutputProps{Value: s.Findings.Topic.TopicArn()})
	awscdk.NewCfnOutput(s.Stack, jsii.String("OpsTopic"), &awscdk.CfnOutputProps{Value: s.Ops.Topic.TopicArn()})
	return s, nil
}

func toPtrs(v []*string) *[]*string { return &v }

// alarms sends to the ops topic: any function error, any message in a DLQ,
// a rejected-line rate over the threshold, and a delivery lag over the
// threshold.
func (s *Stack) alarms(c Config) {
	action := awscloudwatchactions.NewSnsAction(s.Ops.Topic)
	add := func(id, desc string, m awscloudwatch.IMetric, threshold float64, periods int) {
		a := awscloudwatch.NewAlarm(s.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(desc),
			Metric:             m,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(periods),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
		s.Alarms = append(s.Alarms, a)
	}
	five := awscdk.Duration_Minutes(jsii.Number(5))
	for _, g := range []*GoFunction{s.IngestS3, s.IngestCWLogs, s.Detect, s.NotifySlack} {
		if g == nil {
			continue
		}
		name := *g.Node().Id()
		add(name+"Errors", "flowlake: "+name+" failed (function errors)",
			g.Function.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), 0, 1)
	}
	for id, q := range map[string]awssqs.Queue{"IngestS3DLQ": s.IngestDLQ, "NotifySlackDLQ": s.NotifyDLQ} {
		if q == nil {
			continue
		}
		add(id+"Depth", "flowlake: messages in "+id+" (failed deliveries to redrive)",
			q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}), 0, 1)
	}
	fifteen := awscdk.Duration_Minutes(jsii.Number(15))
	for _, g := range []*GoFunction{s.IngestS3, s.IngestCWLogs} {
		if g == nil {
			continue
		}
		fn := g.Node().Id()
		dims := &map[string]*string{"Function": jsii.String(functionDimension(g))}
		metric := func(name, stat string) awscloudwatch.Metric {
			return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String(MetricsNamespace), MetricName: jsii.String(name), DimensionsMap: dims,
				Statistic: jsii.String(stat), Period: fifteen,
			})
		}
		rate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("IF(records > 0, 100 * rejected / records, 0)"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"rejected": metric(pipeline.MetricRejectedLines, "Sum"),
				"records":  metric(pipeline.MetricRecords, "Sum"),
			},
			Label:  jsii.String("rejected lines, % of lines"),
			Period: fifteen,
		})
		add(*fn+"RejectedRate", fmt.Sprintf("flowlake: over %d%% of flow-log lines rejected by the parser", c.RejectedLinesThreshold),
			rate, float64(c.RejectedLinesThreshold), 1)
		add(*fn+"DeliveryLag", fmt.Sprintf("flowlake: newest records over %d s old when ingested", c.DeliveryLagThreshold),
			metric(pipeline.MetricDeliveryLag, "Maximum"), float64(c.DeliveryLagThreshold), 2)
	}
}

// MetricsNamespace is the EMF namespace of the ingest functions (their
// default).
const MetricsNamespace = "flowlake"

// functionDimension is the EMF Function dimension an ingest function
// writes: its folder name.
func functionDimension(g *GoFunction) string { return g.Name }

// suppress records the cdk-nag findings that are accepted, each with its
// reason.
func (s *Stack) suppress() {
	// The ingest functions' hand-written statements.
	for _, g := range []*GoFunction{s.IngestS3, s.IngestCWLogs} {
		if g == nil {
			continue
		}
		cdknag.NagSuppressions_AddResourceSuppressions(g.Role, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("ec2:DescribeNetworkInterfaces supports no resource-level permissions (Resource must be *); " +
				"object grants are limited to the raw prefix (read) and the lake's flows/, rejects/ and dead-letter/notify/ prefixes (write); " +
				"kms:GenerateDataKey* is the findings topic's publish grant, on that topic's own key only"),
			AppliesTo: &[]any{
				"Resource::*", "Action::kms:GenerateDataKey*",
				"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:Abort*",
				&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<StorageRaw[0-9A-F]{8}\.Arn>\/AWSLogs\/\*$/g`)},
				&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<StorageLake[0-9A-F]{8}\.Arn>\/(flows|rejects|dead-letter\/notify)\/\*$/g`)},
			},
		}}, jsii.Bool(true))
	}
	// The CDK's own singleton that writes the raw bucket's notification
	// configuration during deployments.
	for _, c := range *s.Node().Children() {
		id := *c.(constructs.IConstruct).Node().Id()
		if strings.HasPrefix(id, "BucketNotificationsHandler") {
			cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{
				{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("the CDK's BucketNotificationsHandler (a deploy-time custom " +
					"resource that sets the raw bucket's S3→SQS notification) logs through AWSLambdaBasicExecutionRole; it runs only during deployments")},
				{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("the CDK's BucketNotificationsHandler needs s3:PutBucketNotification; " +
					"the CDK writes its policy")},
			}, jsii.Bool(true))
		}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(s.Detect.Role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("reads only the lake's flows/ prefix, writes only the lake's dead-letter/notify/ prefix and athena/ in its own results bucket; " +
			"s3 read grants include the List*/GetObject* action families Athena needs; " +
			"kms:GenerateDataKey* is the findings topic's publish grant, on that topic's own key only"),
		AppliesTo: &[]any{
			"Action::kms:GenerateDataKey*",
			"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*",
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<StorageLake[0-9A-F]{8}\.Arn>\/(flows|dead-letter\/notify)\/\*$/g`)},
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<StorageAthenaResults[0-9A-F]{8}\.Arn>\/athena\/\*$/g`)},
		},
	}}, jsii.Bool(true))
}

func slackEnv(c Config) map[string]*string {
	env := map[string]*string{slack.EnvWebhookSecret: jsii.String(c.SlackSecretName)}
	if c.SlackSecretKey != "" {
		env[slack.EnvWebhookSecretKey] = jsii.String(c.SlackSecretKey)
	}
	if c.SlackMinSeverity != "" {
		env[slack.EnvMinSeverity] = jsii.String(string(c.SlackMinSeverity))
	}
	return env
}

// retainHandlerLogs gives the CDK's BucketNotificationsHandler (the
// deploy-time function that sets the raw bucket's notification) a log
// group with the functions' retention, instead of the implicit one that
// would never expire.
func (s *Stack) retainHandlerLogs(c Config) {
	for _, child := range *s.Node().Children() {
		ch := child.(constructs.IConstruct)
		if !strings.HasPrefix(*ch.Node().Id(), "BucketNotificationsHandler") {
			continue
		}
		lg := awslogs.NewLogGroup(s.Stack, jsii.String("BucketNotificationsHandlerLogs"), &awslogs.LogGroupProps{
			Retention:     retention(c.FunctionLogRetentionDays),
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
		ch.Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("LoggingConfig"),
			map[string]any{"LogGroup": lg.LogGroupName()})
	}
}
