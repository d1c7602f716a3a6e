package standin

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// TestSQS drives the stand-in with the real SDK client: a message received
// maxReceiveCount times without being deleted moves to the dead-letter
// queue, a move task takes it back to its queue, and SQS's errors come
// back as the SDK's error codes.
func TestSQS(t *testing.T) {
	ctx := context.Background()
	q := StartSQS(t, "111122223333", "us-east-1")
	c := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(q.URL), Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dlq")})
	if err != nil {
		t.Fatal(err)
	}
	main, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("main"), Attributes: map[string]string{
		"VisibilityTimeout": "0", "RedrivePolicy": `{"deadLetterTargetArn":"` + q.ARN("dlq") + `","maxReceiveCount":"3"}`}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: main.QueueUrl, MessageBody: aws.String(`{"n":1}`)}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ { // received and never deleted: a failed invocation
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: main.QueueUrl, MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
		if err != nil || len(out.Messages) != 1 || out.Messages[0].Attributes["ApproximateReceiveCount"] != string(rune('0'+i)) {
			t.Fatalf("receive %d: %+v, %v", i, out, err)
		}
	}
	out, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: main.QueueUrl})
	if len(out.Messages) != 0 {
		t.Fatalf("a fourth receive got %d messages; want none (moved to the DLQ)", len(out.Messages))
	}
	if v, _ := q.Depth("dlq"); v != 1 {
		t.Fatalf("the DLQ holds %d; want 1", v)
	}
	// A move task needs a DLQ as its source.
	var ae smithy.APIError
	if _, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(q.ARN("main"))}); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Errorf("move task from a queue that is no DLQ: %v; want InvalidParameterValue", err)
	}
	task, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(q.ARN("dlq"))})
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(q.ARN("dlq"))})
	if err != nil || len(tasks.Results) != 1 || aws.ToString(tasks.Results[0].TaskHandle) != aws.ToString(task.TaskHandle) ||
		aws.ToString(tasks.Results[0].Status) != "COMPLETED" || tasks.Results[0].ApproximateNumberOfMessagesMoved != 1 {
		t.Fatalf("ListMessageMoveTasks = %+v, %v", tasks, err)
	}
	out, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: main.QueueUrl})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != `{"n":1}` {
		t.Fatalf("after the move: %+v, %v; want the message back in its queue", out, err)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: main.QueueUrl, ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if v, f := q.Depth("main"); v+f != 0 {
		t.Errorf("main holds %d after the delete", v+f)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil || attrs.Attributes["QueueArn"] != q.ARN("dlq") || attrs.Attributes["ApproximateNumberOfMessages"] != "0" {
		t.Errorf("GetQueueAttributes = %+v, %v", attrs, err)
	}
	var missing *types.QueueDoesNotExist
	if _, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")}); !errors.As(err, &missing) {
		t.Errorf("GetQueueUrl(nope) = %v; want QueueDoesNotExist", err)
	}
}
