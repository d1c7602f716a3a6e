package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/flowlake/flowlake/integration/stack"
	"io"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flowlake/flowlake/shared/notify"
)

// versitygwS3 starts versitygw (an S3-compatible server) on loopback and
// returns a client; versitygw is installed into .cache/bin when missing.
func versitygwS3(t *testing.T, ctx context.Context) *s3.Client {
	t.Helper()
	bin := stack.Tool(t, stack.VersityGW)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, bin, "--port", addr, "--region", "us-east-1", "--access", "AKIDTEST", "--secret", "SECRETTEST", "posix", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s: %v", addr, err)
		}
	}
	return s3.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://" + addr)
		o.UsePathStyle = true
	})
}

// TestS3DeadLetterVersityGW: a finding SNS keeps failing lands in a real
// S3 bucket, with its reason, and a second failure of the same finding is
// a second object.
func TestS3DeadLetterVersityGW(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := versitygwS3(t, ctx)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	p := &notify.SNS{TopicARN: "arn:t", Single: true, Attempts: 2, Sleep: func(context.Context, time.Duration) error { return nil },
		DeadLetter: &notify.S3DeadLetter{Client: client, Bucket: "lake", Prefix: "dead-letter/notify"},
		Client: fakeSNS{publish: func(context.Context, *sns.PublishInput) (*sns.PublishOutput, error) {
			return nil, httpErr(503)
		}}}
	fs := many(1)
	for range 2 {
		if err := p.Publish(ctx, fs); !errors.Is(err, notify.ErrDeadLettered) {
			t.Fatalf("Publish() = %v; want ErrDeadLettered", err)
		}
	}
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("dead-letter/notify/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 2 {
		t.Fatalf("%d dead letters; want 2", len(list.Contents))
	}
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: list.Contents[0].Key})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	b, _ := io.ReadAll(obj.Body)
	var u notify.Undelivered
	if err := json.Unmarshal(b, &u); err != nil || u.Finding.ID != fs[0].ID || u.Attempts != 2 || u.Reason == "" {
		t.Errorf("dead letter %s: %v", b, err)
	}
}
