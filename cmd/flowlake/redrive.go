package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// sqsAPI is the part of the SQS client redrive uses.
type sqsAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	StartMessageMoveTask(ctx context.Context, in *sqs.StartMessageMoveTaskInput, opts ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	ListMessageMoveTasks(ctx context.Context, in *sqs.ListMessageMoveTasksInput, opts ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// runRedrive implements `flowlake redrive`.
func runRedrive(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	dlq := fs.String("dlq", "", "the dead-letter queue: its ARN, URL or name (required; the stack's IngestS3DLQArn output)")
	to := fs.String("to", "", "the queue to move the messages to: ARN, URL or name (default: back to the queue each came from)")
	rate := fs.Int("rate", 0, "at most this many messages a second (default: SQS's own pace)")
	wait := fs.Bool("wait", true, "wait until the move is done, and report it")
	poll := fs.Duration("poll", 2*time.Second, "with --wait: how often to ask how far the move is")
	endpoint := fs.String("endpoint", "", "an SQS-compatible endpoint (default: AWS)")
	region := fs.String("region", "", "the AWS region (default: the AWS environment's)")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: flowlake redrive --dlq QUEUE [--to QUEUE] [--rate N] [--wait=false]\n\n"+
			"Moves the messages of a dead-letter queue back to the queue they came from\n"+
			"(or to --to), with SQS's own message move task (StartMessageMoveTask), and\n"+
			"waits until it is done. For the ingest DLQ: fix what failed the objects\n"+
			"first (their \"object failed\" log lines say why); their redelivery never\n"+
			"duplicates rows. Where SQS offers no move task (a DLQ that is no SQS queue's,\n"+
			"such as an SNS subscription's), --to moves the messages one at a time\n"+
			"(receive, send, delete). Credentials come from the AWS environment. An empty\n"+
			"queue is nothing to do: redriving twice moves nothing the second time.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dlq == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	cfg, err := awsConfig(ctx, *region, "", "")
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake redrive: %v\n", err)
		return 1
	}
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	r := &redriver{c: client, poll: *poll, out: sio}
	if _, err := r.redrive(ctx, *dlq, *to, *rate, *wait); err != nil {
		fmt.Fprintf(sio.err, "flowlake redrive: %v\n", err)
		return 1
	}
	return 0
}

// redriver moves a dead-letter queue's messages.
type redriver struct {
	c    sqsAPI
	poll time.Duration
	out  stdio
}

// queueRef is a queue's URL and ARN.
type queueRef struct{ url, arn string }

// resolve returns the URL and ARN of a queue given by ARN, URL or name.
func (r *redriver) resolve(ctx context.Context, q string) (queueRef, error) {
	ref := queueRef{}
	switch {
	case strings.HasPrefix(q, "arn:"):
		// arn:aws:sqs:region:account:name
		parts := strings.Split(q, ":")
		if len(parts) != 6 || parts[2] != "sqs" {
			return ref, fmt.Errorf("%s: not an SQS queue ARN", q)
		}
		out, err := r.c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5]), QueueOwnerAWSAccountId: aws.String(parts[4])})
		if err != nil {
			return ref, fmt.Errorf("queue %s: %w", q, err)
		}
		return queueRef{url: aws.ToString(out.QueueUrl), arn: q}, nil
	case strings.Contains(q, "://"):
		ref.url = q
	default:
		out, err := r.c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
		if err != nil {
			return ref, fmt.Errorf("queue %s: %w", q, err)
		}
		ref.url = aws.ToString(out.QueueUrl)
	}
	out, err := r.c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(ref.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return ref, fmt.Errorf("queue %s: %w", q, err)
	}
	ref.arn = out.Attributes[string(types.QueueAttributeNameQueueArn)]
	return ref, nil
}

// depth returns the visible messages of a queue.
func (r *redriver) depth(ctx context.Context, q queueRef) (int, error) {
	out, err := r.c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		return 0, fmt.Errorf("queue %s: %w", q.arn, err)
	}
	var n int
	fmt.Sscan(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)], &n)
	return n, nil
}

// noMoveTask reports whether err says SQS offers no move task for the
// source (not the dead-letter queue of an SQS queue, or a server without
// the operation).
func noMoveTask(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "UnsupportedOperation", "UnknownOperationException", "InvalidAction", "InvalidParameterValue":
		return true
	}
	return false
}

// redrive moves the messages of dlq to to (or back to their queues) and
// returns how many moved (as far as SQS tells, with wait).
func (r *redriver) redrive(ctx context.Context, dlq, to string, rate int, wait bool) (int64, error) {
	src, err := r.resolve(ctx, dlq)
	if err != nil {
		return 0, err
	}
	var dest queueRef
	if to != "" {
		if dest, err = r.resolve(ctx, to); err != nil {
			return 0, err
		}
	}
	n, err := r.depth(ctx, src)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		fmt.Fprintf(r.out.out, "%s: no messages to move\n", src.arn)
		return 0, nil
	}
	in := &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(src.arn)}
	if dest.arn != "" {
		in.DestinationArn = aws.String(dest.arn)
	}
	if rate > 0 {
		in.MaxNumberOfMessagesPerSecond = aws.Int32(int32(rate))
	}
	task, err := r.c.StartMessageMoveTask(ctx, in)
	if noMoveTask(err) && dest.url != "" {
		fmt.Fprintf(r.out.err, "flowlake redrive: no move task for %s (%v): moving the messages one at a time\n", src.arn, err)
		return r.moveEach(ctx, src, dest)
	}
	if err != nil {
		return 0, fmt.Errorf("start message move task from %s: %w", src.arn, err)
	}
	where := "the queues they came from"
	if dest.arn != "" {
		where = dest.arn
	}
	fmt.Fprintf(r.out.out, "moving about %d messages from %s to %s (task %s)\n", n, src.arn, where, aws.ToString(task.TaskHandle))
	if !wait {
		return 0, nil
	}
	for {
		out, err := r.c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(src.arn), MaxResults: aws.Int32(10)})
		if err != nil {
			return 0, fmt.Errorf("list message move tasks of %s: %w", src.arn, err)
		}
		var cur *types.ListMessageMoveTasksResultEntry
		for i := range out.Results {
			if aws.ToString(out.Results[i].TaskHandle) == aws.ToString(task.TaskHandle) {
				cur = &out.Results[i]
			}
		}
		switch {
		case cur == nil && len(out.Results) > 0:
			cur = &out.Results[0] // SQS lists the newest first: ours
		case cur == nil:
			return 0, fmt.Errorf("message move task %s of %s is not listed", aws.ToString(task.TaskHandle), src.arn)
		}
		switch st := aws.ToString(cur.Status); st {
		case "COMPLETED":
			fmt.Fprintf(r.out.out, "moved %d messages\n", cur.ApproximateNumberOfMessagesMoved)
			return cur.ApproximateNumberOfMessagesMoved, nil
		case "RUNNING", "CANCELLING":
		default:
			return cur.ApproximateNumberOfMessagesMoved, fmt.Errorf("message move task %s: %s after %d messages: %s", aws.ToString(cur.TaskHandle), st,
				cur.ApproximateNumberOfMessagesMoved, aws.ToString(cur.FailureReason))
		}
		select {
		case <-ctx.Done():
			return cur.ApproximateNumberOfMessagesMoved, ctx.Err()
		case <-time.After(r.poll):
		}
	}
}

// moveEach moves the visible messages of src to dest one at a time: each
// is sent before it is deleted, so an interruption can duplicate a
// message (which ingest absorbs: its rows derive from the object) but
// never loses one.
func (r *redriver) moveEach(ctx context.Context, src, dest queueRef) (int64, error) {
	var moved int64
	for {
		out, err := r.c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(src.url), MaxNumberOfMessages: 10,
			VisibilityTimeout: 60, WaitTimeSeconds: 1})
		if err != nil {
			return moved, fmt.Errorf("receive from %s: %w", src.arn, err)
		}
		if len(out.Messages) == 0 {
			fmt.Fprintf(r.out.out, "moved %d messages\n", moved)
			return moved, nil
		}
		for _, m := range out.Messages {
			if _, err := r.c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dest.url), MessageBody: m.Body,
				MessageAttributes: m.MessageAttributes}); err != nil {
				return moved, fmt.Errorf("send to %s: %w", dest.arn, err)
			}
			if _, err := r.c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(src.url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return moved, fmt.Errorf("delete from %s: %w", src.arn, err)
			}
			moved++
		}
	}
}
