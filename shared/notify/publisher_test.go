package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
)

// fakeSNS is the SNS API as two functions.
type fakeSNS struct {
	publish func(ctx context.Context, in *sns.PublishInput) (*sns.PublishOutput, error)
	batch   func(ctx context.Context, in *sns.PublishBatchInput) (*sns.PublishBatchOutput, error)
}

func (f fakeSNS) Publish(ctx context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return f.publish(ctx, in)
}

func (f fakeSNS) PublishBatch(ctx context.Context, in *sns.PublishBatchInput, _ ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	return f.batch(ctx, in)
}

// many returns n distinct findings, cycling through the samples.
func many(n int) []finding.Finding {
	s := detect.Samples()
	out := make([]finding.Finding, n)
	for i := range out {
		f := s[i%len(s)]
		f.Entity = fmt.Sprintf("%s#%d", f.Entity, i)
		f.ID = finding.ID(f.Rule, f.AccountID, f.Entity, f.WindowStart)
		out[i] = f
	}
	return out
}

func allOK(in *sns.PublishBatchInput) *sns.PublishBatchOutput {
	out := &sns.PublishBatchOutput{}
	for _, e := range in.PublishBatchRequestEntries {
		out.Successful = append(out.Successful, types.PublishBatchResultEntry{Id: e.Id, MessageId: aws.String("m-" + *e.Id)})
	}
	return out
}

func recorder(waits *[]time.Duration) func(context.Context, time.Duration) error {
	return func(_ context.Context, d time.Duration) error { *waits = append(*waits, d); return nil }
}

func TestPublishBatches(t *testing.T) {
	var sizes []int
	var entries []types.PublishBatchRequestEntry
	p := &notify.SNS{TopicARN: "arn:aws:sns:us-east-1:111122223333:findings", Client: fakeSNS{
		batch: func(_ context.Context, in *sns.PublishBatchInput) (*sns.PublishBatchOutput, error) {
			sizes = append(sizes, len(in.PublishBatchRequestEntries))
			entries = append(entries, in.PublishBatchRequestEntries...)
			return allOK(in), nil
		},
	}}
	fs := many(23)
	if err := p.Publish(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sizes) != "[10 10 3]" {
		t.Errorf("batch sizes %v; want [10 10 3]", sizes)
	}
	e := entries[1]
	if aws.ToString(e.MessageStructure) != "json" || !strings.HasPrefix(aws.ToString(e.Subject), "[HIGH] ") {
		t.Errorf("entry: structure %q, subject %q", aws.ToString(e.MessageStructure), aws.ToString(e.Subject))
	}
	for k, want := range map[string]string{"severity": "high", "rule": "host-sweep", "account_id": "111122223333", "severity_rank": "3"} {
		if got := aws.ToString(e.MessageAttributes[k].StringValue); got != want {
			t.Errorf("attribute %s = %q; want %q", k, got, want)
		}
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(e.Message)), &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"default", "sqs", "lambda", "email"} {
		if body[k] == "" {
			t.Errorf("message has no %q key", k)
		}
	}
	if f, err := finding.Unmarshal([]byte(body["lambda"])); err != nil || f.ID != fs[1].ID {
		t.Errorf("lambda key: %v, id %s; want finding %s", err, f.ID, fs[1].ID)
	}
	if !strings.Contains(body["email"], "WHAT TO CHECK NEXT") {
		t.Errorf("email key is not the email text: %q", body["email"])
	}
}

func TestPublishBatchesStayUnderTheSizeLimit(t *testing.T) {
	fs := many(5)
	for i := range fs {
		fs[i].Description = strings.Repeat("x", 25_000) // ~100 KB a message (3 JSON copies and the email)
	}
	var sizes []int
	p := &notify.SNS{Client: fakeSNS{batch: func(_ context.Context, in *sns.PublishBatchInput) (*sns.PublishBatchOutput, error) {
		total := 0
		for _, e := range in.PublishBatchRequestEntries {
			total += len(aws.ToString(e.Message))
		}
		if total > notify.MaxMessageBytes {
			t.Errorf("batch of %d bytes", total)
		}
		sizes = append(sizes, len(in.PublishBatchRequestEntries))
		return allOK(in), nil
	}, publish: func(context.Context, *sns.PublishInput) (*sns.PublishOutput, error) {
		sizes = append(sizes, 1)
		return &sns.PublishOutput{}, nil
	}}}
	if err := p.Publish(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sizes) != "[2 2 1]" {
		t.Errorf("batch sizes %v; want [2 2 1]", sizes)
	}
}

func apiErr(code string, fault smithy.ErrorFault) error {
	return &smithy.GenericAPIError{Code: code, Message: "test", Fault: fault}
}

func httpErr(status int) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: errors.New("boom")}
}

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{apiErr("Throttling", smithy.FaultClient), true},
		{apiErr("ThrottlingException", smithy.FaultUnknown), true},
		{apiErr("InternalError", smithy.FaultServer), true},
		{apiErr("InvalidParameter", smithy.FaultClient), false},
		{apiErr("AuthorizationError", smithy.FaultClient), false},
		{httpErr(503), true},
		{httpErr(429), true},
		{httpErr(400), false},
		{fmt.Errorf("wrapped: %w", &netErr{}), true},
		{context.Canceled, false},
		{errors.New("anything else"), false},
	} {
		if got := notify.Retryable(c.err); got != c.want {
			t.Errorf("Retryable(%v) = %v; want %v", c.err, got, c.want)
		}
	}
}

type netErr struct{}

func (*netErr) Error() string   { return "connection reset" }
func (*netErr) Timeout() bool   { return false }
func (*netErr) Temporary() bool { return true }

func TestPublishRetriesThrottlingAndServerErrors(t *testing.T) {
	calls := 0
	var waits []time.Duration
	p := &notify.SNS{Sleep: recorder(&waits), Client: fakeSNS{batch: func(_ context.Context, in *sns.PublishBatchInput) (*sns.PublishBatchOutput, error) {
		calls++
		switch calls {
		case 1:
			return nil, apiErr("Throttling", smithy.FaultClient)
		case 2:
			return nil, httpErr(502)
		case 3:
			// One entry throttled, one server-side failure, the rest fine.
			out := allOK(in)
			out.Successful = out.Successful[2:]
			out.Failed = []types.BatchResultErrorEntry{
				{Id: aws.String("0"), Code: aws.String("Throttled"), SenderFault: true},
				{Id: aws.String("1"), Code: aws.String("InternalError")},
			}
			return out, nil
		}
		if len(in.PublishBatchRequestEntries) != 2 {
			t.Errorf("round 4 resent %d entries; want the 2 that failed", len(in.PublishBatchRequestEntries))
		}
		return allOK(in), nil
	}}}
	if err := p.Publish(context.Background(), many(4)); err != nil {
		t.Fatalf("Publish() = %v; want success after retries", err)
	}
	if calls != 4 || len(waits) != 3 {
		t.Errorf("%d calls, %d waits; want 4 and 3", calls, len(waits))
	}
	for i, w := range waits {
		if max := 200 * time.Millisecond << i; w < max/2 || w > max {
			t.Errorf("wait %d = %v; want within [%v, %v]", i, w, max/2, max)
		}
	}
}

func TestPublishDeadLetters(t *testing.T) {
	dir := t.TempDir()
	fs := many(3)
	p := &notify.SNS{TopicARN: "arn:t", Attempts: 3, Sleep: recorder(new([]time.Duration)), DeadLetter: &notify.DirDeadLetter{Dir: dir},
		Client: fakeSNS{batch: func(_ context.Context, in *sns.PublishBatchInput) (*sns.PublishBatchOutput, error) {
			out := &sns.PublishBatchOutput{}
			for _, e := range in.PublishBatchRequestEntries {
				switch idOf(t, e.Message) {
				case fs[0].ID: // rejected for good
					out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameter"), Message: aws.String("bad attribute"), SenderFault: true})
				case fs[1].ID: // the server keeps failing it
					out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError")})
				default:
					out.Successful = append(out.Successful, types.PublishBatchResultEntry{Id: e.Id})
				}
			}
			return out, nil
		}}}
	err := p.Publish(context.Background(), fs)
	if !errors.Is(err, notify.ErrDeadLettered) {
		t.Fatalf("Publish() = %v; want ErrDeadLettered", err)
	}
	failed, ok := notify.FailedIDs(err)
	if !ok || len(failed) != 2 || !failed[fs[0].ID] || !failed[fs[1].ID] {
		t.Errorf("FailedIDs = %v; want %s and %s", failed, fs[0].ID, fs[1].ID)
	}
	got, err := notify.ReadDeadLetters(dir)
	if err != nil || len(got) != 2 {
		t.Fatalf("ReadDeadLetters() = %d, %v; want 2", len(got), err)
	}
	reasons := map[string]notify.Undelivered{}
	for _, u := range got {
		reasons[u.Finding.ID] = u
	}
	if u := reasons[fs[0].ID]; !strings.Contains(u.Reason, "bad attribute") || u.Attempts != 1 || u.TopicARN != "arn:t" {
		t.Errorf("dead letter of the rejected finding: %+v", u)
	}
	if u := reasons[fs[1].ID]; !strings.Contains(u.Reason, "3 attempts") || u.Attempts != 3 || u.Finding.Query != fs[1].Query {
		t.Errorf("dead letter of the failing finding: reason %q, attempts %d", u.Reason, u.Attempts)
	}
}

func TestPublishWithoutDeadLetterStoreReportsIt(t *testing.T) {
	p := &notify.SNS{Single: true, Attempts: 2, Sleep: recorder(new([]time.Duration)), Client: fakeSNS{
		publish: func(context.Context, *sns.PublishInput) (*sns.PublishOutput, error) { return nil, httpErr(500) },
	}}
	err := p.Publish(context.Background(), many(1))
	if err == nil || errors.Is(err, notify.ErrDeadLettered) || !strings.Contains(err.Error(), "no dead-letter store") {
		t.Errorf("Publish() = %v; want a failure that is not dead-lettered", err)
	}
}

func TestPublishTooLarge(t *testing.T) {
	fs := many(1)
	fs[0].Description = strings.Repeat("y", notify.MaxMessageBytes)
	dir := t.TempDir()
	p := &notify.SNS{DeadLetter: &notify.DirDeadLetter{Dir: dir}, Client: fakeSNS{}}
	err := p.Publish(context.Background(), fs)
	if !errors.Is(err, notify.ErrTooLarge) || !errors.Is(err, notify.ErrDeadLettered) {
		t.Errorf("Publish() = %v; want ErrTooLarge, dead-lettered", err)
	}
}

func TestBuildMessageTrimsSamples(t *testing.T) {
	f := detect.Samples()[1]
	base, err := notify.BuildMessage(f)
	if err != nil || base.Trimmed {
		t.Fatalf("BuildMessage() = %v, trimmed %v", err, base.Trimmed)
	}
	// The description is in the message 4 times (3 JSON copies, the
	// email): pad it to just over the limit.
	f.Description += strings.Repeat("z", (notify.MaxMessageBytes-base.Size()+1000)/4)
	m, err := notify.BuildMessage(f)
	if err != nil || !m.Trimmed || m.Size() > notify.MaxMessageBytes {
		t.Fatalf("BuildMessage(padded) = %v, trimmed %v, %d bytes; want trimmed under the limit", err, m.Trimmed, m.Size())
	}
	var body map[string]string
	json.Unmarshal([]byte(m.Body), &body)
	if g, err := finding.Unmarshal([]byte(body["default"])); err != nil || len(g.Evidence.Samples) != 0 || g.ID != f.ID {
		t.Errorf("trimmed finding: %v, %d samples", err, len(g.Evidence.Samples))
	}
}

// idOf returns the finding ID in an SNS message body.
func idOf(t *testing.T, msg *string) string {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(msg)), &body); err != nil {
		t.Fatal(err)
	}
	f, err := finding.Unmarshal([]byte(body["default"]))
	if err != nil {
		t.Fatal(err)
	}
	return f.ID
}
