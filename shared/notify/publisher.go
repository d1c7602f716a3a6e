package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/flowlake/flowlake/shared/finding"
)

// Publisher publishes findings. *SNS and *Notifier are Publishers; the
// ingest pipeline and the scheduled detector each declare the same method
// as their own interface.
//
// Publish returns nil when every finding was published. Otherwise it
// returns an error (an *Error when the publisher can say which findings
// failed): the caller should fail its invocation, so that its trigger
// retries, unless errors.Is(err, ErrDeadLettered) says every failed
// finding is safe in the dead-letter store.
type Publisher interface {
	Publish(ctx context.Context, fs []finding.Finding) error
}

// API is the part of the SNS client that SNS uses.
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
	PublishBatch(ctx context.Context, in *sns.PublishBatchInput, opts ...func(*sns.Options)) (*sns.PublishBatchOutput, error)
}

// MaxBatch is the most entries SNS takes in one PublishBatch call.
const MaxBatch = 10

// SNS publishes each finding as one message (BuildMessage) to one topic,
// with MessageStructure=json, at least once: throttling, 5xx and network
// errors are retried with backoff, per call and per batch entry; a finding
// that still fails goes to DeadLetter with the reason.
type SNS struct {
	Client   API
	TopicARN string
	// Single makes one Publish call per finding instead of PublishBatch
	// calls of up to MaxBatch findings (and MaxMessageBytes in all); for
	// SNS-compatible servers that lack PublishBatch, such as goaws.
	Single bool
	// DeadLetter keeps the findings that could not be published. With
	// none, they are only reported in the returned error.
	DeadLetter DeadLetter
	// Attempts is how many times a finding is sent at most (default 5).
	// The SDK client retries within each of these on its own.
	Attempts int
	// Backoff is the wait before the second round, doubled each round up
	// to MaxBackoff, with jitter (defaults 200 ms and 5 s).
	Backoff, MaxBackoff time.Duration
	// Sleep waits (nil: a timer ctx can cancel); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for dead letters (nil: time.Now).
	Now func() time.Time
	// Log receives a line per retry, failure and dead letter (nil:
	// slog.Default()).
	Log *slog.Logger
	// Metrics counts the dead letters (nil: none).
	Metrics *Metrics
}

func (p *SNS) log() *slog.Logger { return logger(p.Log) }

// logger returns l, or slog.Default() when l is nil.
func logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}

// SleepContext waits for d, or until ctx is done (then it returns ctx's
// error): the wait between retries of the notify publishers.
func SleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrDeadLettered is matched by a Publish error when every finding that
// failed was written to the dead-letter store.
var ErrDeadLettered = errors.New("undelivered findings were dead-lettered")

// Failure is a finding that could not be published.
type Failure struct {
	ID string
	// Reason is the last error publishing it.
	Reason error
	// DeadLetter is the error writing it to the dead-letter store: nil
	// when it is stored there.
	DeadLetter error
}

// Error reports the findings that Publish could not publish.
type Error struct {
	Failed []Failure
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "publish: %d findings not published", len(e.Failed))
	for i, f := range e.Failed {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Failed)-3)
			break
		}
		fmt.Fprintf(&b, "; %s: %v", f.ID, f.Reason)
		if f.DeadLetter != nil {
			fmt.Fprintf(&b, " (dead letter failed too: %v)", f.DeadLetter)
		}
	}
	if e.deadLettered() {
		b.WriteString(" (all dead-lettered)")
	}
	return b.String()
}

func (e *Error) deadLettered() bool {
	for _, f := range e.Failed {
		if f.DeadLetter != nil {
			return false
		}
	}
	return true
}

// Is matches ErrDeadLettered when every failure was dead-lettered.
func (e *Error) Is(target error) bool { return target == ErrDeadLettered && e.deadLettered() }

// Unwrap returns the reasons and dead-letter errors.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, f := range e.Failed {
		errs = append(errs, f.Reason)
		if f.DeadLetter != nil {
			errs = append(errs, f.DeadLetter)
		}
	}
	return errs
}

// FailedIDs returns the IDs of the findings err says were not published,
// and whether err says which (an *Error); for any other non-nil error all
// are to be taken as failed.
func FailedIDs(err error) (map[string]bool, bool) {
	var pe *Error
	if !errors.As(err, &pe) {
		return nil, false
	}
	ids := make(map[string]bool, len(pe.Failed))
	for _, f := range pe.Failed {
		ids[f.ID] = true
	}
	return ids, true
}

// pending is a finding on its way.
type pending struct {
	f    *finding.Finding
	msg  Message
	last error // the last retryable error
}

// Publish sends fs to the topic. See Publisher for what the error means.
func (p *SNS) Publish(ctx context.Context, fs []finding.Finding) error {
	var failed []Failure
	fail := func(f *finding.Finding, reason error, attempts int) {
		failed = append(failed, Failure{ID: f.ID, Reason: reason, DeadLetter: p.deadLetter(ctx, f, reason, attempts)})
	}
	var queue []*pending
	for i := range fs {
		m, err := BuildMessage(fs[i])
		if err != nil {
			fail(&fs[i], err, 0)
			continue
		}
		if m.Trimmed {
			p.log().WarnContext(ctx, "sample flows left out of the message to fit SNS's limit", "id", fs[i].ID)
		}
		queue = append(queue, &pending{f: &fs[i], msg: m})
	}
	attempts := p.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	published := 0
	for round := 1; len(queue) > 0; round++ {
		var retry []*pending
		for _, batch := range p.batches(queue) {
			again, done, perm := p.send(ctx, batch)
			published += done
			for _, x := range perm {
				p.log().ErrorContext(ctx, "publish failed", "id", x.f.ID, "rule", x.f.Rule, "error", x.last)
				fail(x.f, x.last, round)
			}
			retry = append(retry, again...)
		}
		queue = retry
		if len(queue) == 0 {
			break
		}
		if round >= attempts || ctx.Err() != nil {
			for _, x := range queue {
				p.log().ErrorContext(ctx, "publish failed after retries", "id", x.f.ID, "rule", x.f.Rule, "attempts", round, "error", x.last)
				fail(x.f, fmt.Errorf("%d attempts: %w", round, x.last), round)
			}
			break
		}
		wait := p.backoff(round)
		p.log().WarnContext(ctx, "publish retry", "findings", len(queue), "round", round, "wait", wait, "error", queue[0].last)
		if err := p.sleep(ctx, wait); err != nil {
			for _, x := range queue {
				fail(x.f, fmt.Errorf("%w (before that: %w)", err, x.last), round)
			}
			break
		}
	}
	p.log().InfoContext(ctx, "published findings", "topic", p.TopicARN, "published", published, "failed", len(failed))
	if len(failed) > 0 {
		return &Error{Failed: failed}
	}
	return nil
}

// batches groups the queue into calls: one finding each when Single,
// otherwise up to MaxBatch entries and MaxMessageBytes in all.
func (p *SNS) batches(queue []*pending) [][]*pending {
	var out [][]*pending
	var cur []*pending
	size := 0
	for _, x := range queue {
		n := x.msg.Size()
		if len(cur) > 0 && (p.Single || len(cur) == MaxBatch || size+n > MaxMessageBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, x)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// send makes one call and sorts its findings into those to retry, the
// count published, and those failed for good.
func (p *SNS) send(ctx context.Context, batch []*pending) (retry []*pending, done int, perm []*pending) {
	if p.Single {
		x := batch[0]
		_, err := p.Client.Publish(ctx, &sns.PublishInput{
			TopicArn: aws.String(p.TopicARN), Message: aws.String(x.msg.Body), MessageStructure: aws.String("json"),
			Subject: aws.String(x.msg.Subject), MessageAttributes: x.msg.Attributes,
		})
		if err == nil {
			return nil, 1, nil
		}
		x.last = fmt.Errorf("sns publish %s to %s: %w", x.f.ID, p.TopicARN, err)
		if Retryable(err) {
			return batch, 0, nil
		}
		return nil, 0, batch
	}
	in := &sns.PublishBatchInput{TopicArn: aws.String(p.TopicARN)}
	for i, x := range batch {
		in.PublishBatchRequestEntries = append(in.PublishBatchRequestEntries, types.PublishBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), Message: aws.String(x.msg.Body), MessageStructure: aws.String("json"),
			Subject: aws.String(x.msg.Subject), MessageAttributes: x.msg.Attributes,
		})
	}
	out, err := p.Client.PublishBatch(ctx, in)
	if err != nil {
		for _, x := range batch {
			x.last = fmt.Errorf("sns publish batch of %d to %s: %w", len(batch), p.TopicARN, err)
		}
		if Retryable(err) {
			return batch, 0, nil
		}
		return nil, 0, batch
	}
	ok := make(map[string]bool, len(out.Successful))
	for _, s := range out.Successful {
		ok[aws.ToString(s.Id)] = true
	}
	bad := make(map[string]types.BatchResultErrorEntry, len(out.Failed))
	for _, f := range out.Failed {
		bad[aws.ToString(f.Id)] = f
	}
	for i, x := range batch {
		id := strconv.Itoa(i)
		if ok[id] {
			done++
			continue
		}
		e, reported := bad[id]
		if !reported {
			// Neither listed: not known to be published, so send again.
			x.last = fmt.Errorf("sns publish batch: entry %s of %s missing from the response", id, x.f.ID)
			retry = append(retry, x)
			continue
		}
		x.last = fmt.Errorf("sns publish batch: %s: %s: %s", x.f.ID, aws.ToString(e.Code), aws.ToString(e.Message))
		if !e.SenderFault || throttleCode(aws.ToString(e.Code)) {
			retry = append(retry, x)
		} else {
			perm = append(perm, x)
		}
	}
	return retry, done, perm
}

func throttleCode(code string) bool {
	c := strings.ToLower(code)
	return strings.Contains(c, "throttl") || strings.Contains(c, "toomanyrequests") || strings.Contains(c, "limitexceeded")
}

// Retryable reports whether a failed SNS call may succeed if made again:
// throttling, a server fault (5xx), or a network error. The context's own
// cancellation is not.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if throttleCode(ae.ErrorCode()) || ae.ErrorFault() == smithy.FaultServer {
			return true
		}
		switch ae.ErrorCode() {
		case "InternalError", "InternalFailure", "ServiceUnavailable", "KMSThrottlingException":
			return true
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		if s := re.HTTPStatusCode(); s == 429 || s >= 500 {
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne)
}

func (p *SNS) backoff(round int) time.Duration {
	base, ceiling := p.Backoff, p.MaxBackoff
	if base <= 0 {
		base = 200 * time.Millisecond
	}
	if ceiling <= 0 {
		ceiling = 5 * time.Second
	}
	d := min(base<<(round-1), ceiling)
	return d/2 + rand.N(d/2+1)
}

func (p *SNS) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	return SleepContext(ctx, d)
}

// deadLetter stores f with its reason, and returns why it could not.
func (p *SNS) deadLetter(ctx context.Context, f *finding.Finding, reason error, attempts int) error {
	if p.DeadLetter == nil {
		return errors.New("no dead-letter store configured")
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	u := Undelivered{Finding: *f, Reason: reason.Error(), TopicARN: p.TopicARN, Attempts: attempts, FailedAt: now().UTC()}
	// The finding must not be lost to a caller's deadline: give the
	// write its own few seconds even when ctx is done.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := p.DeadLetter.Put(dctx, u); err != nil {
		p.log().ErrorContext(ctx, "dead letter failed", "id", f.ID, "error", err)
		return err
	}
	p.log().WarnContext(ctx, "finding dead-lettered", "id", f.ID, "rule", f.Rule, "reason", u.Reason)
	p.Metrics.deadLettered(ctx, f)
	return nil
}
