package flowlake

import (
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/flowlake/flowlake/shared/compact"
)

// FnCompact is the compactor's function (functions/compact).
const FnCompact = "compact"

// Compaction's function settings: the timeout is Lambda's longest; 1 GiB
// holds the compactor's sort buffer (compact.DefaultSortBytes) with room
// (the benchmark measures its peak); /tmp holds the partition-hour's
// inputs and sorted runs (a partition-hour of several target-size
// objects, read and rewritten).
const (
	compactTimeout   = 15 // minutes
	compactMemoryMB  = 1024
	compactStorageMB = 4096
)

// addCompact creates the scheduled compactor: hourly, after the detector,
// on the hours that ended CompactMinAge ago, back CompactLookbackDays; one
// run at a time (reserved concurrency 1: two compactors must not run at
// once on one lake). Its role may list, read, write and delete under the
// lake's data prefix only, where its manifests live too.
func (s *Stack) addCompact(c Config, code string) {
	s.Compact = NewGoFunction(s.Stack, "Compact", GoFunctionProps{
		Name: FnCompact, Description: "flowlake: compacts closed partition-hours of the lake into few sorted objects",
		CodeDir: code, Timeout: minutes(compactTimeout), MemoryMB: compactMemoryMB,
		RetentionDays: c.FunctionLogRetentionDays,
		Environment: map[string]*string{
			compact.EnvLakeBucket:  s.Storage.Lake.BucketName(),
			compact.EnvLakePrefix:  jsii.String(strings.TrimSuffix(LakePrefix, "/")),
			compact.EnvMinAge:      jsii.String(c.CompactMinAge().String()),
			compact.EnvLookback:    jsii.String((time.Duration(c.CompactLookbackDays()) * 24 * time.Hour).String()),
			compact.EnvTargetBytes: jsii.String(strconv.Itoa(c.CompactTargetMiB << 20)),
		},
	})
	fn := s.Compact.Function.Node().DefaultChild().(awslambda.CfnFunction)
	fn.SetReservedConcurrentExecutions(jsii.Number(1))
	fn.SetEphemeralStorage(&awslambda.CfnFunction_EphemeralStorageProperty{Size: jsii.Number(compactStorageMB)})
	// A run that fails is retried twice, within the hour; the next hourly
	// run picks up what is left anyway.
	s.Compact.Function.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		MaxEventAge: awscdk.Duration_Hours(jsii.Number(ScheduleMaxDelay.Hours())), RetryAttempts: jsii.Number(2),
	})
	if len(c.DetectInternal) > 0 { // the rollups judge our side as detection does
		s.Compact.Function.AddEnvironment(jsii.String(compact.EnvInternal), jsii.String(strings.Join(c.DetectInternal, ",")), nil)
	}
	s.Storage.GrantLakeCompact(s.Compact.Role)
	awsevents.NewRule(s.Stack, jsii.String("CompactSchedule"), &awsevents.RuleProps{
		Description: jsii.String("flowlake: compact the lake's closed hours"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(c.CompactSchedule)),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.Compact.Function, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(2),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(ScheduleMaxDelay.Hours())),
		})},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(s.Compact.Role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("the compactor rewrites any partition-hour of the lake, so its object grants are on the lake's flows/ prefix " +
			"(get, put, delete, abort multipart upload), and it lists only keys under that prefix (s3:prefix condition); " +
			"it writes each partition-hour's rollup under rollups/ (put only)"),
		AppliesTo: &[]any{
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<StorageLake[0-9A-F]{8}\.Arn>\/(flows|rollups)\/\*$/g`)},
		},
	}}, jsii.Bool(true))
}
