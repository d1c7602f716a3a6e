package flowlake

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// TopicProps configures an encrypted topic.
type TopicProps struct {
	DisplayName string
	Emails      []string
	// Severities, if set, is the email subscriptions' filter policy on the
	// message attribute "severity".
	Severities []string
	// CloudWatchAlarms lets CloudWatch alarms publish (through the key).
	CloudWatchAlarms bool
}

// Topic is an SNS topic encrypted with its own customer-managed KMS key
// (rotated yearly), refusing publishes that are not over TLS, with email
// subscriptions. GrantPublish lets a function publish to it.
type Topic struct {
	constructs.Construct
	Key   awskms.Key
	Topic awssns.Topic
}

// NewTopic creates the key, the topic and the email subscriptions.
func NewTopic(scope constructs.Construct, id string, p TopicProps) *Topic {
	t := &Topic{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	t.Key = awskms.NewKey(t.Construct, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("flowlake: " + p.DisplayName + " topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	t.Topic = awssns.NewTopic(t.Construct, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String(p.DisplayName),
		MasterKey:   t.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	if p.CloudWatchAlarms {
		// Alarm actions publish as cloudwatch.amazonaws.com, which must be
		// able to use the topic's key.
		t.Key.GrantEncryptDecrypt(awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil))
	}
	for _, e := range p.Emails {
		var filter *map[string]awssns.SubscriptionFilter
		if len(p.Severities) > 0 {
			filter = &map[string]awssns.SubscriptionFilter{
				"severity": awssns.SubscriptionFilter_StringFilter(&awssns.StringConditions{Allowlist: jsii.Strings(p.Severities...)}),
			}
		}
		t.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), &awssnssubscriptions.EmailSubscriptionProps{
			FilterPolicy: filter,
		}))
	}
	return t
}

// GrantPublish lets grantee publish to the topic, through its key
// (kms:Decrypt and kms:GenerateDataKey* on that key only).
func (t *Topic) GrantPublish(grantee awsiam.IGrantable) awsiam.Grant {
	return t.Topic.GrantPublish(grantee)
}
