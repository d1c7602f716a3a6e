package versitygw

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
)

// downSNS is an SNS API that answers 503 to every call.
type downSNS struct{}

func unavailable() error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}}, Err: errors.New("unavailable")}
}

func (downSNS) Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return nil, unavailable()
}

func (downSNS) PublishBatch(context.Context, *sns.PublishBatchInput, ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	return nil, unavailable()
}

// TestS3DeadLetter: a finding SNS keeps failing lands in a real S3 bucket
// (versitygw), with its reason, and a second failure of the same finding
// is a second object (create-only, If-None-Match).
func TestS3DeadLetter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := stack.StartS3(t)
	srv.Bucket(t, "lake")
	client := srv.Client
	p := &notify.SNS{TopicARN: "arn:t", Single: true, Attempts: 2, Sleep: func(context.Context, time.Duration) error { return nil },
		DeadLetter: &notify.S3DeadLetter{Client: client, Bucket: "lake", Prefix: "dead-letter/notify"}, Client: downSNS{}}
	fs := detect.Samples()[:1]
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

// TestS3DeadLettersReplay: the dead letters S3DeadLetter wrote to a real
// bucket read back (S3DeadLetters), replay once per finding, and are
// removed: a second replay finds nothing.
func TestS3DeadLettersReplay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := stack.StartS3(t)
	srv.Bucket(t, "lake")
	dl := &notify.S3DeadLetter{Client: srv.Client, Bucket: "lake", Prefix: "dead-letter/notify"}
	p := &notify.SNS{TopicARN: "arn:t", Single: true, Attempts: 1, DeadLetter: dl, Client: downSNS{}}
	fs := detect.Samples()[:2]
	for range 2 { // two failed runs: two letters of each finding
		if err := p.Publish(ctx, fs); !errors.Is(err, notify.ErrDeadLettered) {
			t.Fatalf("Publish() = %v; want ErrDeadLettered", err)
		}
	}
	// An object that is not a dead letter stays.
	if _, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("dead-letter/notify/README"),
		Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	store := &notify.S3DeadLetters{Client: srv.Client, Bucket: "lake", Prefix: "dead-letter/notify/"}
	var sent []string
	pub := publishFunc(func(_ context.Context, batch []finding.Finding) error {
		for _, f := range batch {
			sent = append(sent, f.ID)
		}
		return nil
	})
	res, err := notify.Replay(ctx, store, pub, nil)
	if err != nil || res.Letters != 4 || res.Settled != 2 || len(sent) != 2 {
		t.Fatalf("Replay = %+v, %v, sent %v; want 4 letters, 2 findings sent once each", res, err, sent)
	}
	if res, err := notify.Replay(ctx, store, pub, nil); err != nil || res.Letters != 0 || len(sent) != 2 {
		t.Errorf("second Replay = %+v, %v; want nothing left", res, err)
	}
	list, err := srv.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("dead-letter/")})
	if err != nil || len(list.Contents) != 1 {
		t.Errorf("left %d objects, %v; want the README only", len(list.Contents), err)
	}
}

type publishFunc func(ctx context.Context, fs []finding.Finding) error

func (f publishFunc) Publish(ctx context.Context, fs []finding.Finding) error { return f(ctx, fs) }
