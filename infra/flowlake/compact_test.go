package flowlake_test

import (
	"github.com/flowlake/flowlake/shared/detect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/infra/flowlake"
	"github.com/flowlake/flowlake/shared/compact"
)

// TestCompactFunction: every stack deploys the compactor, hourly after the
// detector, one run at a time, with the settings the configuration derives
// and an errors alarm to the ops topic.
func TestCompactFunction(t *testing.T) {
	for name, tp := range templates {
		var fn map[string]any
		for fid, f := range tp.resources("AWS::Lambda::Function") {
			if strings.HasPrefix(fid, "CompactFunction") {
				fn = f
			}
		}
		if fn == nil {
			t.Errorf("%s: no compact function", name)
			continue
		}
		if fn["Timeout"] != 900.0 || fn["MemorySize"] != 1024.0 || fn["ReservedConcurrentExecutions"] != 1.0 ||
			js(fn["EphemeralStorage"]) != `{"Size":4096}` {
			t.Errorf("%s: compact function = timeout %v, memory %v, reserved concurrency %v, /tmp %v; want 900 s, 1024 MB, 1, 4096 MB",
				name, fn["Timeout"], fn["MemorySize"], fn["ReservedConcurrentExecutions"], js(fn["EphemeralStorage"]))
		}
		env := functionEnv(t, name, "Compact")
		if !logicalIDPath("${StorageLake", "}").MatchString(render(env[compact.EnvLakeBucket])) || env[compact.EnvLakePrefix] != "flows" ||
			env[compact.EnvMinAge] != "3h0m0s" || env[compact.EnvLookback] != "744h0m0s" || env[compact.EnvTargetBytes] != "134217728" {
			t.Errorf("%s: compact environment = %s; want the lake bucket, flows, 3h, 31 days (the raw expiration's 30 and one), 128 MiB", name, js(env))
		}
		// The rollups judge our side as the detector does.
		if denv := functionEnv(t, name, "Detect"); env[compact.EnvInternal] != denv[detect.EnvInternal] {
			t.Errorf("%s: compact %s = %v; the detector's %s = %v", name, compact.EnvInternal, env[compact.EnvInternal], detect.EnvInternal, denv[detect.EnvInternal])
		}
		// The environment is one the function accepts.
		if _, err := compact.ConfigFromEnv(func(k string) string { s, _ := env[k].(string); return s }); err != nil &&
			!strings.Contains(err.Error(), compact.EnvLakeBucket) {
			t.Errorf("%s: compact.ConfigFromEnv: %v", name, err)
		}
		has(t, tp, "AWS::Events::Rule", map[string]any{
			"ScheduleExpression": "cron(40 * * * ? *)",
			"Targets": []any{assertions.Match_ObjectLike(obj(map[string]any{
				"Arn":         map[string]any{"Fn::GetAtt": []any{like("^CompactFunction"), "Arn"}},
				"RetryPolicy": map[string]any{"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2},
			}))},
		})
		// Both scheduled functions keep an event at most an hour in
		// Lambda's queue too, as the minimum age's reasoning assumes.
		for _, prefix := range []string{"CompactFunction", "DetectFunction"} {
			has(t, tp, "AWS::Lambda::EventInvokeConfig", map[string]any{
				"FunctionName": map[string]any{"Ref": like("^" + prefix)}, "MaximumEventAgeInSeconds": 3600,
			})
		}
		has(t, tp, "AWS::CloudWatch::Alarm", map[string]any{
			"Namespace": "AWS/Lambda", "MetricName": "Errors", "Threshold": 0,
			"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": like("^CompactFunction")}}},
		})
	}
}

// TestCompactLeastPrivilege: the compactor may list the lake's keys under
// flows/ only, and get, put and delete objects there, put the rollups
// under rollups/, and nothing else: no other prefix or bucket, no
// publishing, no Athena.
func TestCompactLeastPrivilege(t *testing.T) {
	tp := templates["Full"]
	sts := tp.rolePolicy(t, "CompactRole")
	lakeArn := `^\$\{StorageLake[0-9A-F]{8}\.Arn\}`
	for _, a := range []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"} {
		if got := allowed(sts, a, lakeArn+`/flows/\*$`); len(got) != 1 {
			t.Errorf("compact: %s on the lake's flows/*: %v; want it", a, got)
		}
	}
	for _, a := range []string{"s3:PutObject", "s3:AbortMultipartUpload"} {
		if got := allowed(sts, a, lakeArn+`/rollups/\*$`); len(got) != 1 {
			t.Errorf("compact: %s on the lake's rollups/*: %v; want it", a, got)
		}
	}
	list := 0
	for _, st := range sts {
		for _, a := range st.Action {
			low := strings.ToLower(a)
			switch {
			case strings.HasPrefix(low, "logs:"):
				continue
			case !strings.HasPrefix(low, "s3:"):
				t.Errorf("compact may %s: %v", a, st)
			case strings.Contains(a, "*"):
				t.Errorf("compact: a wildcard action %s: %v", a, st)
			case low == "s3:listbucket":
				list++
				if len(st.Resource) != 1 || !regexp.MustCompile(lakeArn+`$`).MatchString(st.Resource[0]) ||
					js(st.Condition) != `{"StringLike":{"s3:prefix":"flows/*"}}` {
					t.Errorf("compact lists %v with %s; want the lake bucket, keys under flows/ only", st.Resource, js(st.Condition))
				}
			case low == "s3:putobject" || low == "s3:abortmultipartupload":
				for _, r := range st.Resource {
					if !regexp.MustCompile(lakeArn + `/(flows|rollups)/\*$`).MatchString(r) {
						t.Errorf("compact may %s on %s", a, r)
					}
				}
			default:
				for _, r := range st.Resource {
					if !regexp.MustCompile(lakeArn + `/flows/\*$`).MatchString(r) {
						t.Errorf("compact may %s on %s", a, r)
					}
				}
			}
		}
	}
	if list != 1 {
		t.Errorf("compact: %d s3:ListBucket statements; want 1", list)
	}
}

// TestStorageGrantLakeCompact: the grant alone, on a role of its own: the
// statements, and no cdk-nag finding but the prefix wildcard the
// compactor's own suppression names.
func TestStorageGrantLakeCompact(t *testing.T) {
	_, tp := synth(t, func(stack awscdk.Stack) {
		flowlake.NewStorage(stack, "Storage", flowlake.StorageProps{LakeTransitionDays: 90}).GrantLakeCompact(grantee(stack))
	})
	sts := tp.rolePolicy(t, "Grantee")
	lakeArn := `^\$\{StorageLake[0-9A-F]{8}\.Arn\}`
	if len(allowed(sts, "s3:DeleteObject", lakeArn+`/flows/\*$`)) != 1 || len(allowed(sts, "s3:ListBucket", lakeArn+`$`)) != 1 ||
		len(allowed(sts, "s3:DeleteObject", `/rejects/|/dead-letter/`)) != 0 || len(allowed(sts, "s3:GetObject", "StorageRaw")) != 0 {
		t.Errorf("GrantLakeCompact: %v", sts)
	}
	has(t, tp, "AWS::IAM::Policy", map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
			"Action": "s3:ListBucket", "Condition": map[string]any{"StringLike": map[string]any{"s3:prefix": "flows/*"}},
		}))})},
	})
}

// TestCompactLifecycle: in the template, the lake's lifecycle acts only
// after the compactor's lookback (its environment): no transition or
// expiration of an object a compaction may still read or delete; and a
// context that would make them meet fails the synth's configuration.
func TestCompactLifecycle(t *testing.T) {
	for name, tp := range templates {
		lookback, err := time.ParseDuration(functionEnv(t, name, "Compact")[compact.EnvLookback].(string))
		if err != nil {
			t.Fatal(err)
		}
		for id, b := range tp.resources("AWS::S3::Bucket") {
			if !strings.HasPrefix(id, "StorageLake") {
				continue
			}
			var lc struct {
				Rules []struct {
					ExpirationInDays int
					Transitions      []struct{ TransitionInDays int }
				}
			}
			remarshal(t, b["LifecycleConfiguration"], &lc)
			if len(lc.Rules) == 0 {
				t.Errorf("%s/%s: no lifecycle rule", name, id)
			}
			for _, r := range lc.Rules {
				for _, tr := range r.Transitions {
					if time.Duration(tr.TransitionInDays)*24*time.Hour <= lookback {
						t.Errorf("%s/%s: transition after %d days, within the compactor's lookback of %s", name, id, tr.TransitionInDays, lookback)
					}
				}
				if r.ExpirationInDays != 0 && time.Duration(r.ExpirationInDays)*24*time.Hour <= lookback {
					t.Errorf("%s/%s: expiration after %d days, within the compactor's lookback of %s", name, id, r.ExpirationInDays, lookback)
				}
			}
		}
	}
	// A longer raw expiration lengthens the lookback, in the template too.
	kv := map[string]any{flowlake.CtxStackName: "Long", flowlake.CtxVPCs: "vpc-89abcdef", flowlake.CtxRawExpirationDays: 60.0}
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
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{
			flowlake.EnvFunction: flowlake.FnCompact, compact.EnvLookback: "1464h0m0s",
		}))},
	})
}
