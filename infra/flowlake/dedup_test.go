package flowlake_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/flowlake/flowlake/infra/flowlake"
)

func TestDedup(t *testing.T) {
	stack, tp := synth(t, func(stack awscdk.Stack) { flowlake.NewDedup(stack, "Dedup") })
	checkNag(t, stack, tp)
	count(t, tp, "AWS::DynamoDB::GlobalTable", 1)
	has(t, tp, "AWS::DynamoDB::GlobalTable", map[string]any{
		"KeySchema":               []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}},
		"AttributeDefinitions":    []any{map[string]any{"AttributeName": "id", "AttributeType": "S"}},
		"TimeToLiveSpecification": map[string]any{"AttributeName": "expires_at", "Enabled": true},
		"BillingMode":             "PAY_PER_REQUEST",
		"Replicas": []any{map[string]any{
			"Region": map[string]any{"Ref": "AWS::Region"}, "PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		}},
	})
	// The table is the construct's default child: its logical ID is the
	// one a table created as "Dedup" in the stack has, so wrapping it in a
	// construct replaces no deployed table.
	if ids := tp.logicalIDs("AWS::DynamoDB::GlobalTable"); len(ids) != 1 || !logicalID("Dedup").MatchString(ids[0]) {
		t.Errorf("dedup table logical IDs = %v; want Dedup and a hash", ids)
	}
}

// TestDedupGrantUse: a publisher may read and write the items of the
// table, and may not change or delete the table.
func TestDedupGrantUse(t *testing.T) {
	_, tp := synth(t, func(stack awscdk.Stack) { flowlake.NewDedup(stack, "Dedup").GrantUse(grantee(stack)) })
	sts := tp.rolePolicy(t, "Grantee")
	table := `^\$\{Dedup[0-9A-F]{8}\.Arn\}$`
	for _, a := range []string{"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:ConditionCheckItem"} {
		if len(allowed(sts, a, table)) == 0 {
			t.Errorf("no %s on the table:\n%v", a, sts)
		}
	}
	for _, a := range []string{"dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive", "dynamodb:CreateBackup"} {
		if got := allowed(sts, a, `.`); len(got) != 0 {
			t.Errorf("%s on %v; want none", a, got)
		}
	}
}
