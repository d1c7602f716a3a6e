package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/notify"
)

type putFunc func(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)

func (f putFunc) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return f(ctx, in, opts...)
}

func TestS3DeadLetter(t *testing.T) {
	var got *s3.PutObjectInput
	var body []byte
	d := &notify.S3DeadLetter{Bucket: "lake", Prefix: "dead-letter/notify", Client: putFunc(func(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
		got = in
		body, _ = io.ReadAll(in.Body)
		return &s3.PutObjectOutput{}, nil
	})}
	f := many(1)[0]
	at := time.Date(2026, 11, 24, 7, 1, 2, 3, time.UTC)
	if err := d.Put(context.Background(), notify.Undelivered{Finding: f, Reason: "sns: 503", TopicARN: "arn:t", Attempts: 5, FailedAt: at}); err != nil {
		t.Fatal(err)
	}
	if want := "dead-letter/notify/2026/11/24/" + f.ID + "-" + "1795503662000000003.json"; aws.ToString(got.Key) != want {
		t.Errorf("key %q; want %q", aws.ToString(got.Key), want)
	}
	if aws.ToString(got.IfNoneMatch) != "*" || aws.ToString(got.Bucket) != "lake" {
		t.Errorf("put %+v; want create-only in bucket lake", got)
	}
	var u notify.Undelivered
	if err := json.Unmarshal(body, &u); err != nil || u.Finding.ID != f.ID || u.Reason != "sns: 503" || u.Attempts != 5 {
		t.Errorf("object %s: %v", body, err)
	}
}
