package flowlake

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
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
	"github.com/flowlake/flowlake/shared/enrich/geodb"
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
	Config Config // a validated configuration (ConfigFromContext)
	// Code is the folder holding the bootstrap binary of each function
	// FunctionNames(Config) lists (BuildFunctions, or prebuilt binaries in
	// tests); the ingest functions' folders hold the GeoIP and ASN
	// databases too (ShipGeoDatabases).
	Code map[string]string
}

// Stack is everything one `cdk deploy` creates.
type Stack struct {
	awscdk.Stack
	Storage                                     *Storage
	Catalog                                     *Catalog
	FlowLogs                                    *FlowLogs
	Findings, Ops                               *Topic
	Dedup                                       *Dedup
	IngestS3, IngestCWLogs, Detect, NotifySlack *GoFunction // IngestCWLogs and NotifySlack may be nil
	Compact                                     *GoFunction
	IngestQueue, IngestDLQ, NotifyDLQ           awssqs.Queue
	Alarms                                      []awscloudwatch.Alarm
	Dashboard                                   awscloudwatch.Dashboard

	alarmsByID map[string]awscloudwatch.Alarm
}

// FunctionNames returns the functions the configuration deploys, each of
// which needs functions/<name>.
func FunctionNames(c Config) []string {
	if c.Mode == ModeMember {
		return nil // a member stack has flow logs only
	}
	names := []string{FnIngestS3, FnDetect, FnCompact}
	if c.CloudWatch() && c.HasScope() {
		names = append(names, FnIngestCWLogs)
	}
	if c.SlackSecretName != "" {
		names = append(names, FnNotifySlack)
	}
	return names
}

// NewStack creates the flowlake stack, in the order the data flows: the
// buckets and the catalog, where findings go, the two ingest paths, the
// flow logs that feed them, the scheduled detector and Slack; then the
// alarms, the dashboard and the outputs.
//
// In ModeCentral, the stack is the organisation's lake: the raw bucket has
// the fixed name CentralRawBucketName gives (or CentralRawBucket), its
// policy lets log delivery write each member account's flow logs under
// that account's AWSLogs/<account>/ (GrantMemberDelivery), and the
// catalog and detector cover the members' accounts and regions. A
// member's stack is NewMemberStack's.
func NewStack(scope constructs.Construct, id string, p StackProps) (*Stack, error) {
	c := p.Config
	if c.Mode == ModeMember {
		return nil, fmt.Errorf("stack %s: %s %q has no lake: use NewMemberStack", id, CtxMode, c.Mode)
	}
	for _, n := range FunctionNames(c) {
		if p.Code[n] == "" {
			return nil, fmt.Errorf("no bootstrap for function %s", n)
		}
		if n == FnIngestS3 || n == FnIngestCWLogs {
			if err := checkGeoDatabases(n, p.Code[n]); err != nil {
				return nil, err
			}
		}
	}
	sp := p.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("flowlake: VPC Flow Logs into a Parquet lake with Athena tables, detection and findings")
	}
	s := &Stack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp)}
	if a := s.Account(); c.CentralAccount != "" && !*awscdk.Token_IsUnresolved(a) && *a != c.CentralAccount {
		return nil, fmt.Errorf("stack %s: deployed to account %s, but %s is %s", id, *a, CtxCentralAccount, c.CentralAccount)
	}

	s.addLake(c)
	s.addFindings(c)
	s.addIngestS3(c, p.Code[FnIngestS3])
	if c.CloudWatch() && c.HasScope() {
		s.addIngestCWLogs(c, p.Code[FnIngestCWLogs])
	}
	if c.HasScope() {
		s.addFlowLogs(c)
	}
	s.addDetect(c, p.Code[FnDetect])
	s.addCompact(c, p.Code[FnCompact])
	if c.SlackSecretName != "" {
		s.addNotifySlack(c, p.Code[FnNotifySlack])
	}
	s.addAlarms(c)
	s.addDashboard()
	s.addOutputs(c)
	return s, nil
}

// addLake creates the buckets and the Glue and Athena catalog over the
// lake bucket.
func (s *Stack) addLake(c Config) {
	sp := StorageProps{
		RawExpirationDays: c.RawExpirationDays, LakeTransitionDays: c.LakeTransitionDays,
		LakeStorageClass: c.LakeStorageClass, LakeExpirationDays: c.LakeExpirationDays,
		AccessLogExpirationDays: c.AccessLogExpirationDays,
	}
	if c.Mode == ModeCentral {
		sp.RawBucketName = c.CentralRawBucket
		if sp.RawBucketName == "" {
			sp.RawBucketName = CentralRawBucketName(*s.Account(), *s.Region())
		}
	}
	s.Storage = NewStorage(s.Stack, "Storage", sp)
	if c.Mode == ModeCentral {
		GrantMemberDelivery(s.Storage.Raw, c.Accounts())
	}
	s.Catalog = NewCatalog(s.Stack, "Catalog", CatalogProps{
		DatabaseName: c.DatabaseName, Lake: s.Storage.Lake, Results: s.Storage.Results,
		// The flow logs of this stack are in its own account and region
		// (and, for a central stack, its members'): S3 keys carry the
		// account and region, and ingest-cwlogs gives CloudWatch Logs
		// records its own. So an unfiltered query of a standalone stack
		// projects 24 partitions a day (see TestProjectedPartitions).
		Accounts: s.accounts(c), Regions: append([]string{*s.Region()}, c.Regions()...), BytesScannedCutoff: c.BytesScannedCutoff,
	})
}

// accounts are the aws_account values of the lake: the stack's own, then
// a central stack's members'.
func (s *Stack) accounts(c Config) []string {
	if c.Mode != ModeCentral {
		return []string{*s.Account()}
	}
	return append([]string{*s.Account()}, c.Accounts()...)
}

// addFindings creates where findings go (the findings topic, with its
// email subscriptions, and the dedup store) and the ops topic, which the
// alarms notify.
func (s *Stack) addFindings(c Config) {
	s.Findings = NewTopic(s.Stack, "Findings", TopicProps{
		DisplayName: "flowlake findings", Emails: c.AlertEmails, Severities: Severities(c.EmailMinSeverity),
	})
	s.Ops = NewTopic(s.Stack, "Ops", TopicProps{DisplayName: "flowlake operations", Emails: c.OpsEmails, CloudWatchAlarms: true})
	s.Dedup = NewDedup(s.Stack, "Dedup")
}

// publishEnv is how every function that publishes findings does it
// (notify's settings), with the same detection settings (ingest runs the
// batch engine, detect the lake engine).
func (s *Stack) publishEnv(c Config) map[string]*string {
	env := map[string]*string{
		notify.EnvTopicARN:         s.Findings.Topic.TopicArn(),
		notify.EnvDedupTable:       s.Dedup.Table.TableName(),
		notify.EnvDeadLetterBucket: s.Storage.Lake.BucketName(),
		notify.EnvDeadLetterPrefix: jsii.String(strings.TrimSuffix(DeadLetterPrefix, "/")),
	}
	if len(c.DetectInternal) > 0 {
		env[detect.EnvInternal] = jsii.String(strings.Join(c.DetectInternal, ","))
	}
	if len(c.DetectDisabled) > 0 {
		env[detect.EnvDisabled] = jsii.String(strings.Join(c.DetectDisabled, ","))
	}
	return env
}

// grantPublish gives fn what publishing findings does: publish to the
// findings topic, use the dedup store, write dead letters.
func (s *Stack) grantPublish(fn *GoFunction) {
	s.Findings.GrantPublish(fn.Role)
	s.Dedup.GrantUse(fn.Role)
	s.Storage.GrantDeadLetterWrite(fn.Role)
}

// ingestEnv is what the ingest pipeline (pipeline.LoadEnv) needs besides
// publishing: where it writes the lake and how it enriches.
func (s *Stack) ingestEnv() map[string]*string {
	return map[string]*string{
		pipeline.EnvLakeBucket:    s.Storage.Lake.BucketName(),
		pipeline.EnvLakePrefix:    jsii.String(strings.TrimSuffix(LakePrefix, "/")),
		pipeline.EnvRejectsPrefix: jsii.String(strings.TrimSuffix(RejectsPrefix, "/")),
		// The ingest roles may describe ENIs (eni_* columns, direction).
		pipeline.EnvENIMetadata: jsii.String("true"),
		// AWS's published ranges (src_aws_service, dst_aws_service), fetched
		// on first use and refreshed by ETag; the functions run outside any
		// VPC, so they reach it.
		pipeline.EnvIPRanges: jsii.String(enrich.AWSIPRangesURL),
		// flowlake's GeoIP and ASN databases, in the function's asset next
		// to its bootstrap (ShipGeoDatabases; NewStack checks they are
		// there): src/dst_country, src/dst_asn, src/dst_as_org.
		pipeline.EnvGeoIP: jsii.String(geodb.CountryFile),
		pipeline.EnvASN:   jsii.String(geodb.ASNFile),
		// The threat lists flowlake threat-list import keeps beside the
		// lake's threat_lists table, read on the first source.
		pipeline.EnvThreatLists: jsii.String("s3://" + *s.Storage.Lake.BucketName() + "/" + ThreatListSourcesPrefix),
	}
}

// grantIngest gives an ingest function what the pipeline does: write the
// lake's two prefixes, read the threat lists' sources, describe ENIs, and
// publish findings.
func (s *Stack) grantIngest(fn *GoFunction) {
	s.Storage.GrantLakeWrite(fn.Role)
	s.Storage.GrantThreatListsRead(fn.Role)
	fn.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:DescribeNetworkInterfaces"),
		Resources: jsii.Strings("*"),
	}))
	s.grantPublish(fn)
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ec2:DescribeNetworkInterfaces supports no resource-level permissions (Resource must be *); " +
			"object grants are limited to the raw prefix (read), the lake's reference/threat_list_sources/ (read) and the lake's flows/, rejects/ and dead-letter/notify/ prefixes (write); " +
			"kms:GenerateDataKey* is the findings topic's publish grant, on that topic's own key only"),
		AppliesTo: &[]any{
			"Resource::*", "Action::kms:GenerateDataKey*",
			"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:Abort*",
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<StorageRaw[0-9A-F]{8}\.Arn>\/AWSLogs\/\*$/g`)},
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<StorageLake[0-9A-F]{8}\.Arn>\/(flows|rejects|dead-letter\/notify|reference\/threat_list_sources)\/\*$/g`)},
		},
	}}, jsii.Bool(true))
}

// addIngestS3 creates ingest-s3 and its trigger: raw bucket → S3
// notification → SQS (with a DLQ) → Lambda, with partial batch failures.
// The function and its queues exist whatever the destination; the raw
// bucket notifies the queue when the flow logs go to S3.
func (s *Stack) addIngestS3(c Config, code string) {
	s.IngestS3 = NewGoFunction(s.Stack, "IngestS3", GoFunctionProps{
		Name: FnIngestS3, Description: "flowlake: flow-log files in S3 into the Parquet lake",
		CodeDir: code, Timeout: minutes(ingestS3Timeout), MemoryMB: 2048,
		RetentionDays: c.FunctionLogRetentionDays,
		Environment: union(s.ingestEnv(), s.publishEnv(c),
			map[string]*string{pipeline.EnvRawPrefix: jsii.String(strings.TrimSuffix(RawPrefix, "/"))}),
	})
	s.grantIngest(s.IngestS3)
	s.Storage.GrantRawRead(s.IngestS3.Role)
	s.IngestDLQ = newQueue(s.Stack, "IngestS3DLQ", awssqs.QueueProps{RetentionPeriod: days(14)})
	s.IngestQueue = newQueue(s.Stack, "IngestS3Queue", awssqs.QueueProps{
		VisibilityTimeout: minutes(6 * ingestS3Timeout),
		RetentionPeriod:   days(4),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: s.IngestDLQ, MaxReceiveCount: jsii.Number(5)},
	})
	// A central stack's members deliver to the raw bucket whatever its
	// own flow logs' destination.
	if c.S3() || c.Mode == ModeCentral {
		s.Storage.Raw.AddEventNotification(awss3.EventType_OBJECT_CREATED, awss3notifications.NewSqsDestination(s.IngestQueue),
			&awss3.NotificationKeyFilter{Prefix: jsii.String(RawPrefix)})
		s.tendNotificationsHandler(c)
	}
	s.IngestS3.Function.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.IngestQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(10),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(5)),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
}

// tendNotificationsHandler gives the CDK's BucketNotificationsHandler (the
// deploy-time function that sets the raw bucket's notification) a log
// group with the functions' retention, instead of the implicit one that
// would never expire, and records the cdk-nag findings accepted on it.
func (s *Stack) tendNotificationsHandler(c Config) {
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
		cdknag.NagSuppressions_AddResourceSuppressions(ch, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("the CDK's BucketNotificationsHandler (a deploy-time custom " +
				"resource that sets the raw bucket's S3→SQS notification) logs through AWSLambdaBasicExecutionRole; it runs only during deployments")},
			{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("the CDK's BucketNotificationsHandler needs s3:PutBucketNotification; " +
				"the CDK writes its policy")},
		}, jsii.Bool(true))
	}
}

// addIngestCWLogs creates ingest-cwlogs, which the flow-log group's
// subscription invokes (addFlowLogs), parsing with the flow logs' format.
func (s *Stack) addIngestCWLogs(c Config, code string) {
	s.IngestCWLogs = NewGoFunction(s.Stack, "IngestCWLogs", GoFunctionProps{
		Name: FnIngestCWLogs, Description: "flowlake: CloudWatch Logs flow-log batches into the Parquet lake",
		CodeDir: code, Timeout: minutes(ingestCWLogsTimeout), MemoryMB: 1024,
		RetentionDays: c.FunctionLogRetentionDays,
		Environment:   union(s.ingestEnv(), s.publishEnv(c), map[string]*string{pipeline.EnvFormat: jsii.String(c.Format().String())}),
	})
	s.grantIngest(s.IngestCWLogs)
}

// addFlowLogs enables the flow logs on the configured scope, to the raw
// bucket and/or a log group subscribed to ingest-cwlogs.
func (s *Stack) addFlowLogs(c Config) {
	p := FlowLogsProps{
		VPCs: c.VPCs, Subnets: c.Subnets, ENIs: c.ENIs, TrafficType: c.TrafficType,
		AggregationSeconds: c.AggregationSeconds, Format: c.Format(), TagKeys: c.TagFieldSpecifications(),
		CloudWatch: c.CloudWatch(), RetentionDays: c.FlowLogRetentionDays,
	}
	if c.S3() {
		p.Bucket = s.Storage.Raw
	}
	if s.IngestCWLogs != nil {
		p.Subscriber = s.IngestCWLogs.Function
	}
	s.FlowLogs = NewFlowLogs(s.Stack, "FlowLogs", p)
}

// addDetect creates the scheduled detector: the rules in Athena over the
// last window of the lake, which it reads through Athena only, publishing
// as ingest does.
func (s *Stack) addDetect(c Config, code string) {
	s.Detect = NewGoFunction(s.Stack, "Detect", GoFunctionProps{
		Name: FnDetect, Description: "flowlake: scheduled detection rules in Athena over the lake",
		CodeDir: code, Timeout: minutes(detectTimeout), MemoryMB: 512,
		RetentionDays: c.FunctionLogRetentionDays,
		Environment: union(s.publishEnv(c), map[string]*string{
			schedule.EnvWorkgroup: s.Catalog.Workgroup.Ref(),
			schedule.EnvDatabase:  jsii.String(c.DatabaseName),
			detect.EnvAccounts:    jsii.String(strings.Join(s.accounts(c), ",")),
		}),
	})
	s.Catalog.GrantQuery(s.Detect.Role)
	s.grantPublish(s.Detect)
	awsevents.NewRule(s.Stack, jsii.String("DetectSchedule"), &awsevents.RuleProps{
		Description: jsii.String("flowlake: run detection"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(c.DetectSchedule)),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.Detect.Function, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(2),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(ScheduleMaxDelay.Hours())),
		})},
	})
	// As config.go reasons about the detector's reach (detectReach): an
	// event waits at most ScheduleMaxDelay in Lambda's queue too.
	s.Detect.Function.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		MaxEventAge: awscdk.Duration_Hours(jsii.Number(ScheduleMaxDelay.Hours())), RetryAttempts: jsii.Number(2),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(s.Detect.Role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("reads only the lake's flows/, rollups/ and reference/threat_lists/ prefixes, writes only the lake's dead-letter/notify/ prefix and athena/ in its own results bucket; " +
			"s3 read grants include the List*/GetObject* action families Athena needs; " +
			"kms:GenerateDataKey* is the findings topic's publish grant, on that topic's own key only"),
		AppliesTo: &[]any{
			"Action::kms:GenerateDataKey*",
			"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*",
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<StorageLake[0-9A-F]{8}\.Arn>\/(flows|rollups|dead-letter\/notify|reference\/threat_lists)\/\*$/g`)},
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<StorageAthenaResults[0-9A-F]{8}\.Arn>\/athena\/\*$/g`)},
		},
	}}, jsii.Bool(true))
}

// addNotifySlack subscribes notify-slack to the findings topic, with a DLQ
// for the deliveries that fail, reading the webhook URL from the named
// secret.
func (s *Stack) addNotifySlack(c Config, code string) {
	secret := awssecretsmanager.Secret_FromSecretNameV2(s.Stack, jsii.String("SlackSecret"), jsii.String(c.SlackSecretName))
	env := map[string]*string{slack.EnvWebhookSecret: jsii.String(c.SlackSecretName)}
	if c.SlackSecretKey != "" {
		env[slack.EnvWebhookSecretKey] = jsii.String(c.SlackSecretKey)
	}
	if c.SlackMinSeverity != "" {
		env[slack.EnvMinSeverity] = jsii.String(string(c.SlackMinSeverity))
	}
	// One DLQ for both ways a Slack post can fail: SNS could not invoke
	// the function (the subscription's RedrivePolicy), or the function
	// failed past Lambda's two retries of an asynchronous invocation (the
	// function's DeadLetterConfig: Slack down, a bad webhook secret).
	// Without the second, those events would be dropped.
	s.NotifyDLQ = newQueue(s.Stack, "NotifySlackDLQ", awssqs.QueueProps{RetentionPeriod: days(14)})
	s.NotifySlack = NewGoFunction(s.Stack, "NotifySlack", GoFunctionProps{
		Name: FnNotifySlack, Description: "flowlake: findings to Slack",
		CodeDir: code, Timeout: minutes(notifyTimeout), MemoryMB: 256,
		RetentionDays:   c.FunctionLogRetentionDays,
		Environment:     env,
		DeadLetterQueue: s.NotifyDLQ,
	})
	secret.GrantRead(s.NotifySlack.Role, nil)
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

// addOutputs names what an operator looks for after a deploy.
func (s *Stack) addOutputs(c Config) {
	out := func(id string, v *string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: v})
	}
	out("LakeBucket", s.Storage.Lake.BucketName())
	out("RawBucket", s.Storage.Raw.BucketName())
	out("AthenaWorkgroup", s.Catalog.Workgroup.Ref())
	out("GlueTable", jsii.String(c.DatabaseName+"."+s.Catalog.TableDef.Name))
	out("FindingsTopic", s.Findings.Topic.TopicArn())
	out("OpsTopic", s.Ops.Topic.TopicArn())
	// What flowlake redrive and flowlake replay-findings are given.
	out("IngestS3DLQArn", s.IngestDLQ.QueueArn())
	out("DedupTable", s.Dedup.Table.TableName())
}

// newQueue creates an SQS queue with the secure defaults every queue of
// the stack has: SQS-managed encryption, TLS enforced.
func newQueue(scope constructs.Construct, id string, p awssqs.QueueProps) awssqs.Queue {
	p.Encryption = awssqs.QueueEncryption_SQS_MANAGED
	p.EnforceSSL = jsii.Bool(true)
	return awssqs.NewQueue(scope, jsii.String(id), &p)
}

// minutes is a duration of n minutes.
func minutes(n int) awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(n)) }
