package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/flowlake/flowlake/shared/finding"
)

// Poster sends one Slack message; *Webhook is one.
type Poster interface {
	Post(ctx context.Context, m Message) error
}

// PostFunc is a function that is a Poster.
type PostFunc func(ctx context.Context, m Message) error

// Post calls f.
func (f PostFunc) Post(ctx context.Context, m Message) error { return f(ctx, m) }

// Handler is the notify-slack function: it takes findings delivered by the
// topic and posts them to Slack.
type Handler struct {
	Poster Poster
	// Digest posts the findings of one invocation as one message with a
	// summary table when there are at least DigestMin of them (default 3).
	// SNS invokes a function with one message at a time, so a digest needs
	// the topic delivered through an SQS queue, in batches (HandleSQS).
	Digest    bool
	DigestMin int
	// MinSeverity skips findings below it ("" posts all); subscription
	// filter policies on the severity attribute are the first line.
	MinSeverity finding.Severity
	// Log receives a line per post and failure (nil: slog.Default()).
	Log *slog.Logger
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// ErrNotFinding is returned for a delivered message that is not a finding.
var ErrNotFinding = errors.New("message is not a finding")

// Handle takes either event, by its records' eventSource ("aws:sns" or
// "aws:sqs"), so one function serves a topic subscription and a queue. It
// returns the SQS batch response for an SQS event, nil for SNS.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (*events.SQSEventResponse, error) {
	var probe struct {
		Records []struct {
			EventSource  string `json:"EventSource"`
			EventSourceL string `json:"eventSource"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	if len(probe.Records) == 0 {
		return nil, nil
	}
	switch src := probe.Records[0].EventSource + probe.Records[0].EventSourceL; src {
	case "aws:sns":
		var ev events.SNSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode sns event: %w", err)
		}
		return nil, h.HandleSNS(ctx, ev)
	case "aws:sqs":
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode sqs event: %w", err)
		}
		resp, err := h.HandleSQS(ctx, ev)
		return &resp, err
	default:
		return nil, fmt.Errorf("event source %q: want aws:sns or aws:sqs", src)
	}
}

// HandleSNS posts the findings of an SNS event (one record in practice).
// Any failure is returned, so SNS retries the delivery and, after its
// retries, sends it to the subscription's dead-letter queue.
func (h *Handler) HandleSNS(ctx context.Context, ev events.SNSEvent) error {
	var fs []finding.Finding
	for _, r := range ev.Records {
		f, err := decode(r.SNS.Message)
		if err != nil {
			return fmt.Errorf("sns message %s: %w", r.SNS.MessageID, err)
		}
		fs = append(fs, f)
	}
	failed, err := h.post(ctx, fs)
	if len(failed) > 0 {
		return err
	}
	return nil
}

// HandleSQS posts the findings of an SQS batch, from a queue subscribed to
// the topic (raw message delivery or not). It reports each finding that
// could not be posted as a batch item failure, so only those are retried;
// in digest mode, one message carries them all and they fail together.
func (h *Handler) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	var fs []finding.Finding
	var ids []string
	for _, r := range ev.Records {
		f, err := decode(unwrapSNS(r.Body))
		if err != nil {
			h.log().ErrorContext(ctx, "sqs message is not a finding", "message_id", r.MessageId, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			continue
		}
		fs = append(fs, f)
		ids = append(ids, r.MessageId)
	}
	failed, _ := h.post(ctx, fs)
	for _, i := range failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ids[i]})
	}
	return resp, nil
}

// post sends fs, one message each or as a digest, and returns the indexes
// of those not sent and the errors joined.
func (h *Handler) post(ctx context.Context, fs []finding.Finding) ([]int, error) {
	var send []int
	for i := range fs {
		if h.MinSeverity != "" && !fs[i].Severity.AtLeast(h.MinSeverity) {
			h.log().InfoContext(ctx, "below the minimum severity, not posted", "id", fs[i].ID, "severity", fs[i].Severity)
			continue
		}
		send = append(send, i)
	}
	minDigest := h.DigestMin
	if minDigest <= 0 {
		minDigest = 3
	}
	if h.Digest && len(send) >= minDigest {
		batch := make([]finding.Finding, len(send))
		for j, i := range send {
			batch[j] = fs[i]
		}
		if err := h.Poster.Post(ctx, Digest(batch)); err != nil {
			h.log().ErrorContext(ctx, "slack digest failed", "findings", len(batch), "error", err)
			return send, fmt.Errorf("digest of %d findings: %w", len(batch), err)
		}
		h.log().InfoContext(ctx, "posted digest", "findings", len(batch))
		return nil, nil
	}
	var failed []int
	var errs []error
	for _, i := range send {
		f := &fs[i]
		if err := h.Poster.Post(ctx, Render(f)); err != nil {
			h.log().ErrorContext(ctx, "slack post failed", "id", f.ID, "rule", f.Rule, "error", err)
			failed = append(failed, i)
			errs = append(errs, fmt.Errorf("finding %s: %w", f.ID, err))
			continue
		}
		h.log().InfoContext(ctx, "posted finding", "id", f.ID, "rule", f.Rule, "severity", f.Severity)
	}
	return failed, errors.Join(errs...)
}

func decode(msg string) (finding.Finding, error) {
	f, err := finding.Unmarshal([]byte(msg))
	if err != nil {
		return f, fmt.Errorf("%w: %w", ErrNotFinding, err)
	}
	if f.ID == "" || f.Rule == "" {
		return f, fmt.Errorf("%w: no id or rule", ErrNotFinding)
	}
	return f, nil
}

// unwrapSNS returns the Message of an SNS notification envelope (what an
// SQS subscription without raw message delivery receives), or body as it
// is.
func unwrapSNS(body string) string {
	var env struct {
		Type    string
		Message string
	}
	if json.Unmarshal([]byte(body), &env) == nil && env.Type == "Notification" && env.Message != "" {
		return env.Message
	}
	return body
}
