package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/flowlake/flowlake/integration/standin"
	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/notify"
)

func awsEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

// TestRedrive moves the ingest DLQ's messages back to the queue with a
// message move task, through the SQS stand-in with the SDK's client; a
// second redrive has nothing to move; a queue that is no SQS queue's DLQ
// has no move task, and --to moves its messages one at a time.
func TestRedrive(t *testing.T) {
	awsEnv(t)
	ctx := context.Background()
	q := standin.StartSQS(t, "111122223333", "us-east-1")
	c := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(q.URL), Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	mk := func(name string, attrs map[string]string) string {
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.QueueUrl)
	}
	mk("ingest-dlq", nil)
	ingest := mk("ingest", map[string]string{"VisibilityTimeout": "0", "RedrivePolicy": `{"deadLetterTargetArn":"` + q.ARN("ingest-dlq") + `","maxReceiveCount":2}`})
	for i := range 3 {
		c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(ingest), MessageBody: aws.String(fmt.Sprintf(`{"m":%d}`, i))})
	}
	for range 3 { // two failed receives each, then the DLQ
		c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(ingest), MaxNumberOfMessages: 10})
	}
	if v, _ := q.Depth("ingest-dlq"); v != 3 {
		t.Fatalf("DLQ depth %d; want 3", v)
	}
	for _, dlq := range []string{q.ARN("ingest-dlq"), "ingest-dlq"} { // by ARN, then by name: nothing left
		code, out, errs := runCmd(t, "", "redrive", "--dlq", dlq, "--endpoint", q.URL, "--poll", "10ms")
		if code != 0 {
			t.Fatalf("redrive --dlq %s: exit %d: %s", dlq, code, errs)
		}
		want := "moved 3 messages\n"
		if dlq == "ingest-dlq" {
			want = "no messages to move"
		}
		if !strings.Contains(out, want) {
			t.Errorf("redrive --dlq %s: %q; want %q", dlq, out, want)
		}
	}
	if v, _ := q.Depth("ingest"); v != 3 {
		t.Errorf("ingest queue depth %d after the redrive; want 3", v)
	}

	// An SNS subscription's DLQ is no SQS queue's: no move task.
	mk("slack-dlq", nil)
	slack := mk("slack-retry", nil)
	c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL + "/111122223333/slack-dlq"), MessageBody: aws.String("x")})
	code, _, errs := runCmd(t, "", "redrive", "--dlq", "slack-dlq", "--endpoint", q.URL)
	if code != 1 || !strings.Contains(errs, "Dead Letter Queue") {
		t.Errorf("redrive of a DLQ that is no queue's without --to: exit %d, %q; want 1 and SQS's refusal", code, errs)
	}
	code, out, errs := runCmd(t, "", "redrive", "--dlq", "slack-dlq", "--to", slack, "--endpoint", q.URL)
	if code != 0 || !strings.Contains(out, "moved 1 messages") || !strings.Contains(errs, "one at a time") {
		t.Errorf("redrive --to: exit %d, %q, %q", code, out, errs)
	}
	if v, _ := q.Depth("slack-retry"); v != 1 {
		t.Errorf("slack-retry depth %d; want 1", v)
	}
	if code, _, _ := runCmd(t, "", "redrive"); code != 2 {
		t.Errorf("redrive without --dlq: exit %d; want 2", code)
	}
}

// fakeSNS is an SNS endpoint (query protocol) that accepts Publish and
// keeps what it was sent.
type fakeSNS struct {
	mu       sync.Mutex
	messages []string
}

func (f *fakeSNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	v, _ := url.ParseQuery(string(b))
	if v.Get("Action") != "Publish" {
		http.Error(w, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code></Error></ErrorResponse>", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.messages = append(f.messages, v.Get("Message"))
	n := len(f.messages)
	f.mu.Unlock()
	fmt.Fprintf(w, "<PublishResponse><PublishResult><MessageId>m-%d</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>", n)
}

// TestReplayFindings lists (--dry-run) and replays the dead letters of a
// folder: each finding once, however many letters hold it; then nothing
// is left to replay.
func TestReplayFindings(t *testing.T) {
	awsEnv(t)
	sns := &fakeSNS{}
	srv := httptest.NewServer(sns)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SNS", srv.URL)
	dir := t.TempDir()
	store := &notify.DirDeadLetter{Dir: dir}
	fs := detect.Samples()[:2]
	at := time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)
	for i := range 3 {
		for _, f := range fs {
			if err := store.Put(context.Background(), notify.Undelivered{Finding: f, Reason: "sns down", FailedAt: at.Add(time.Duration(i) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	code, out, errs := runCmd(t, "", "replay-findings", "--dir", dir, "--dry-run")
	if code != 0 || !strings.HasSuffix(out, "6 dead letters\n") || !strings.Contains(out, fs[0].ID) {
		t.Fatalf("--dry-run: exit %d, %q, %s", code, out, errs)
	}
	if code, _, _ := runCmd(t, "", "replay-findings", "--dir", dir, "--topic", "arn:aws:sns:us-east-1:111122223333:f"); code != 2 {
		t.Errorf("without --dedup-table or --no-dedup: exit %d; want 2", code)
	}
	args := []string{"replay-findings", "--dir", dir, "--topic", "arn:aws:sns:us-east-1:111122223333:f", "--no-dedup", "--single"}
	code, out, errs = runCmd(t, "", args...)
	if code != 0 || !strings.Contains(out, "6 dead letters of 2 findings: 2 published") || len(sns.messages) != 2 {
		t.Fatalf("replay: exit %d, %q, %s; %d messages sent, want 2", code, out, errs, len(sns.messages))
	}
	code, out, _ = runCmd(t, "", args...)
	if code != 0 || !strings.Contains(out, "0 dead letters") || len(sns.messages) != 2 {
		t.Errorf("second replay: exit %d, %q, %d messages; want nothing more", code, out, len(sns.messages))
	}
}
