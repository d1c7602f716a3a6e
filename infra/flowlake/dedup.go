package flowlake

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Dedup is the findings' dedup store (shared/dedup's DynamoDB Store): a
// table keyed by the string "id", whose items expire at "expires_at"
// (TTL), billed on demand, with point-in-time recovery. Every function that
// publishes findings publishes through it (GrantUse), so each finding is
// notified once per window whichever engine sees it first.
//
// The table is the construct's default child, so its logical ID is the
// construct's id and a hash, as if it had been created in the scope.
type Dedup struct {
	constructs.Construct
	Table awsdynamodb.TableV2
}

// NewDedup creates the table. The store is state to rebuild, not data to
// keep: it is deleted with the stack.
func NewDedup(scope constructs.Construct, id string) *Dedup {
	d := &Dedup{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	d.Table = awsdynamodb.NewTableV2(d.Construct, jsii.String("Default"), &awsdynamodb.TablePropsV2{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		TimeToLiveAttribute: jsii.String("expires_at"),
		Billing:             awsdynamodb.Billing_OnDemand(nil),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	return d
}

// GrantUse lets grantee read and write the store's items (the conditional
// puts and updates of shared/dedup), and nothing else of the table.
func (d *Dedup) GrantUse(grantee awsiam.IGrantable) awsiam.Grant {
	return d.Table.GrantReadWriteData(grantee)
}
