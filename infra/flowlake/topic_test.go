package flowlake_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/flowlake/flowlake/infra/flowlake"
)

func TestTopic(t *testing.T) {
	stack, tp := synth(t, func(stack awscdk.Stack) {
		flowlake.NewTopic(stack, "Findings", flowlake.TopicProps{
			DisplayName: "flowlake findings", Emails: []string{"sec@example.com"}, Severities: []string{"high", "critical"},
		})
		flowlake.NewTopic(stack, "Ops", flowlake.TopicProps{DisplayName: "flowlake operations", Emails: []string{"ops@example.com"}, CloudWatchAlarms: true})
	})
	checkNag(t, stack, tp)
	count(t, tp, "AWS::SNS::Topic", 2)
	count(t, tp, "AWS::KMS::Key", 2)
	// Each topic has its own rotated key.
	has(t, tp, "AWS::SNS::Topic", map[string]any{
		"DisplayName": "flowlake findings", "KmsMasterKeyId": map[string]any{"Fn::GetAtt": []any{like("^FindingsKey"), "Arn"}},
	})
	has(t, tp, "AWS::SNS::Topic", map[string]any{
		"DisplayName": "flowlake operations", "KmsMasterKeyId": map[string]any{"Fn::GetAtt": []any{like("^OpsKey"), "Arn"}},
	})
	for id, k := range tp.resources("AWS::KMS::Key") {
		if k["EnableKeyRotation"] != true {
			t.Errorf("%s: EnableKeyRotation = %v; want true", id, k["EnableKeyRotation"])
		}
	}
	// Publishing only over TLS.
	for id, p := range tp.resources("AWS::SNS::TopicPolicy") {
		denies := false
		for _, st := range statements(t, p["PolicyDocument"]) {
			denies = denies || st.Effect == "Deny" && len(st.Action) == 1 && covers(st.Action[0], "sns:Publish") &&
				st.Condition["Bool"]["aws:SecureTransport"] == "false"
		}
		if !denies {
			t.Errorf("%s: no Deny of sns:Publish without TLS: %s", id, js(p))
		}
	}
	count(t, tp, "AWS::SNS::TopicPolicy", 2)
	// Email subscriptions, filtered by severity when asked.
	has(t, tp, "AWS::SNS::Subscription", map[string]any{
		"Protocol": "email", "Endpoint": "sec@example.com",
		"FilterPolicy": map[string]any{"severity": []any{"high", "critical"}},
		"TopicArn":     map[string]any{"Ref": like("^FindingsTopic")},
	})
	has(t, tp, "AWS::SNS::Subscription", map[string]any{
		"Protocol": "email", "Endpoint": "ops@example.com", "FilterPolicy": assertions.Match_Absent(),
		"TopicArn": map[string]any{"Ref": like("^OpsTopic")},
	})
	// Alarms may publish to the ops topic through its key, and only there.
	for id, k := range tp.resources("AWS::KMS::Key") {
		cw := 0
		for _, st := range statements(t, k["KeyPolicy"]) {
			if js(st.Principal) == `{"Service":"cloudwatch.amazonaws.com"}` && st.Effect == "Allow" &&
				len(allowed([]statement{st}, "kms:GenerateDataKey", `^\*$`)) > 0 && len(allowed([]statement{st}, "kms:Decrypt", `^\*$`)) > 0 {
				cw++
			}
		}
		if want := map[bool]int{true: 1, false: 0}[logicalID("OpsKey").MatchString(id)]; cw != want {
			t.Errorf("%s: %d statements let cloudwatch.amazonaws.com use the key; want %d", id, cw, want)
		}
	}
}

// TestTopicGrantPublish: a publisher may publish to the topic and use its
// key for that, and nothing else.
func TestTopicGrantPublish(t *testing.T) {
	_, tp := synth(t, func(stack awscdk.Stack) {
		flowlake.NewTopic(stack, "Findings", flowlake.TopicProps{DisplayName: "flowlake findings"}).GrantPublish(grantee(stack))
	})
	sts := tp.rolePolicy(t, "Grantee")
	for _, a := range [][2]string{
		{"sns:Publish", `^\$\{FindingsTopic[0-9A-F]{8}\}$`},
		{"kms:GenerateDataKey", `^\$\{FindingsKey[0-9A-F]{8}\.Arn\}$`}, {"kms:Decrypt", `^\$\{FindingsKey[0-9A-F]{8}\.Arn\}$`},
	} {
		if len(allowed(sts, a[0], a[1])) == 0 {
			t.Errorf("no %s on %s:\n%v", a[0], a[1], sts)
		}
	}
	for _, a := range []string{"sns:Subscribe", "sns:SetTopicAttributes", "sns:DeleteTopic", "kms:Encrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"} {
		if got := allowed(sts, a, `.`); len(got) != 0 {
			t.Errorf("%s on %v; want none", a, got)
		}
	}
}
