package notify_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
)

// ExampleNotifier wires the dedup store and the SNS publisher; here both
// are stand-ins that print what they are asked.
func ExampleNotifier() {
	client := fakeSNS{publish: func(_ context.Context, in *sns.PublishInput) (*sns.PublishOutput, error) {
		fmt.Printf("publish %s severity=%s\n", aws.ToString(in.Subject), aws.ToString(in.MessageAttributes["severity"].StringValue))
		return &sns.PublishOutput{MessageId: aws.String("1")}, nil
	}}
	store := fakeDedup{
		decide: func(f finding.Finding) (dedup.Decision, error) {
			return dedup.Decision{Notify: f.Severity.AtLeast(finding.Medium), Reason: "new"}, nil
		},
		commit: func(f finding.Finding, d dedup.Decision) error {
			fmt.Printf("commit %s notified=%v\n", f.Rule, d.Notify)
			return nil
		},
	}
	n := &notify.Notifier{
		Dedup:     store,
		Publisher: &notify.SNS{Client: client, TopicARN: "arn:aws:sns:us-east-1:111122223333:flowlake-findings", Single: true},
	}
	if err := n.Publish(context.Background(), detect.Samples()[:2]); err != nil {
		fmt.Println(err)
	}
	// Output:
	// publish [HIGH] Host sweep: from 10.0.1.5 (111122223333) severity=high
	// commit port-scan notified=false
	// commit host-sweep notified=true
}
