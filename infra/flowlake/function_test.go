package flowlake_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/infra/flowlake"
)

func TestGoFunction(t *testing.T) {
	code := stubCode(t, "detect")
	stack, tp := synth(t, func(stack awscdk.Stack) {
		flowlake.NewGoFunction(stack, "Detect", flowlake.GoFunctionProps{
			Name: "detect", Description: "flowlake: detect", CodeDir: code,
			Environment: map[string]*string{"DETECT_LAG": jsii.String("15m")},
			Timeout:     awscdk.Duration_Minutes(jsii.Number(10)), MemoryMB: 512,
		})
	})
	checkNag(t, stack, tp)
	count(t, tp, "AWS::Lambda::Function", 1)
	has(t, tp, "AWS::Lambda::Function", map[string]any{
		"Runtime": "provided.al2023", "Architectures": []any{"arm64"}, "Handler": "bootstrap",
		"Description": "flowlake: detect", "Timeout": 600, "MemorySize": 512,
		"Environment":   map[string]any{"Variables": map[string]any{flowlake.EnvFunction: "detect", "DETECT_LAG": "15m"}},
		"Role":          map[string]any{"Fn::GetAtt": []any{like("^DetectRole"), "Arn"}},
		"LoggingConfig": map[string]any{"LogGroup": map[string]any{"Ref": like("^DetectLogs")}},
	})
	// Its own log group, kept 30 days by default and deleted with the stack.
	count(t, tp, "AWS::Logs::LogGroup", 1)
	has(t, tp, "AWS::Logs::LogGroup", map[string]any{"RetentionInDays": 30})
	// Its own role, which Lambda alone assumes, with no managed policy, and
	// which may only write to that log group.
	count(t, tp, "AWS::IAM::Role", 1)
	has(t, tp, "AWS::IAM::Role", map[string]any{
		"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
			"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"},
		}}},
		"ManagedPolicyArns": assertions.Match_Absent(),
	})
	sts := tp.rolePolicy(t, "DetectRole")
	if len(sts) != 1 || len(allowed(sts, "logs:PutLogEvents", `^\$\{DetectLogs[0-9A-F]{8}\.Arn\}$`)) != 1 ||
		len(allowed(sts, "logs:CreateLogStream", `^\$\{DetectLogs[0-9A-F]{8}\.Arn\}$`)) != 1 || len(sts[0].Action) != 2 {
		t.Errorf("role policy = %v; want logs:CreateLogStream and logs:PutLogEvents on its log group only", sts)
	}
}

// TestGoFunctionDefaults: memory and timeout are Lambda's when not given;
// the function's name wins over an environment that sets it.
func TestGoFunctionDefaults(t *testing.T) {
	code := stubCode(t, "x")
	_, tp := synth(t, func(stack awscdk.Stack) {
		flowlake.NewGoFunction(stack, "X", flowlake.GoFunctionProps{
			Name: "x", CodeDir: code, RetentionDays: 7,
			Environment: map[string]*string{flowlake.EnvFunction: jsii.String("y")},
		})
	})
	has(t, tp, "AWS::Lambda::Function", map[string]any{
		"MemorySize": assertions.Match_Absent(), "Timeout": assertions.Match_Absent(),
		"Environment": map[string]any{"Variables": map[string]any{flowlake.EnvFunction: "x"}},
	})
	has(t, tp, "AWS::Logs::LogGroup", map[string]any{"RetentionInDays": 7})
}
