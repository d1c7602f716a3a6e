package flowlake

import (
	"fmt"
	"maps"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// EnvFunction is set on every GoFunction to its Name, the folder under
// functions/. No function reads it: it names the function in the
// template, for integration/stack, which finds the deployed functions by
// it (and so spells it out, to stay free of the CDK).
const EnvFunction = "FLOWLAKE_FUNCTION"

// GoFunctionProps configures a Go Lambda function.
type GoFunctionProps struct {
	Name          string // the folder under functions/, also the EMF Function dimension
	Description   string
	CodeDir       string // folder holding the bootstrap binary (BuildFunctions)
	Environment   map[string]*string
	Timeout       awscdk.Duration // nil: Lambda's default, 3 s
	MemoryMB      int             // 0: Lambda's default, 128
	RetentionDays int             // of its log group; 0: 30
	// DeadLetterQueue receives the events of asynchronous invocations
	// (SNS, EventBridge) that still fail after Lambda's retries; nil:
	// none, and such an event is dropped.
	DeadLetterQueue awssqs.IQueue
}

// GoFunction is a Go Lambda function on provided.al2023, arm64, with its
// own log group (kept RetentionDays, deleted with the stack) and its own
// role, which may only write to that log group until grants add more: pass
// Role to the Grant* methods of the other constructs.
type GoFunction struct {
	constructs.Construct
	Name     string
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
}

// NewGoFunction creates the function, its role and its log group.
func NewGoFunction(scope constructs.Construct, id string, p GoFunctionProps) *GoFunction {
	g := &GoFunction{Construct: constructs.NewConstruct(scope, jsii.String(id)), Name: p.Name}
	if p.RetentionDays == 0 {
		p.RetentionDays = Defaults().FunctionLogRetentionDays
	}
	var memory *float64
	if p.MemoryMB != 0 {
		memory = jsii.Number(p.MemoryMB)
	}
	g.LogGroup = awslogs.NewLogGroup(g.Construct, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     retention(p.RetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// No AWSLambdaBasicExecutionRole: the log group exists, so writing to
	// it is all the function needs to log.
	g.Role = awsiam.NewRole(g.Construct, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("flowlake " + p.Name),
	})
	g.LogGroup.GrantWrite(g.Role)
	env := union(p.Environment, map[string]*string{EnvFunction: jsii.String(p.Name)})
	g.Function = awslambda.NewFunction(g.Construct, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String(p.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(p.CodeDir), nil),
		Role:         g.Role,
		LogGroup:     g.LogGroup,
		Timeout:      p.Timeout,
		MemorySize:   memory,
		Environment:  &env,
		// Set only when given: an unset queue must not create one.
		DeadLetterQueue: p.DeadLetterQueue,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(g.Role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("logs:CreateLogStream/PutLogEvents on <log group ARN>:* — the streams of this function's own " +
			"log group, which are created per execution environment and cannot be named in advance"),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<[A-Za-z0-9]*Logs[0-9A-F]{8}\.Arn>:\*$/g`)}},
	}}, jsii.Bool(true))
	return g
}

// union returns the union of the maps, later ones winning.
func union(envs ...map[string]*string) map[string]*string {
	out := map[string]*string{}
	for _, env := range envs {
		maps.Copy(out, env)
	}
	return out
}

// retention returns the log retention of days, one of logRetentionDays
// (checked by Config.Validate).
func retention(days int) awslogs.RetentionDays {
	enums := []awslogs.RetentionDays{
		awslogs.RetentionDays_ONE_DAY, awslogs.RetentionDays_THREE_DAYS, awslogs.RetentionDays_FIVE_DAYS,
		awslogs.RetentionDays_ONE_WEEK, awslogs.RetentionDays_TWO_WEEKS, awslogs.RetentionDays_ONE_MONTH,
		awslogs.RetentionDays_TWO_MONTHS, awslogs.RetentionDays_THREE_MONTHS, awslogs.RetentionDays_FOUR_MONTHS,
		awslogs.RetentionDays_FIVE_MONTHS, awslogs.RetentionDays_SIX_MONTHS, awslogs.RetentionDays_ONE_YEAR,
		awslogs.RetentionDays_THIRTEEN_MONTHS, awslogs.RetentionDays_EIGHTEEN_MONTHS, awslogs.RetentionDays_TWO_YEARS,
		awslogs.RetentionDays_THREE_YEARS, awslogs.RetentionDays_FIVE_YEARS, awslogs.RetentionDays_SIX_YEARS,
		awslogs.RetentionDays_SEVEN_YEARS, awslogs.RetentionDays_EIGHT_YEARS, awslogs.RetentionDays_NINE_YEARS,
		awslogs.RetentionDays_TEN_YEARS,
	}
	for i, d := range logRetentionDays {
		if d == days {
			return enums[i]
		}
	}
	panic(fmt.Sprintf("log retention of %d days: not a CloudWatch Logs value", days))
}
