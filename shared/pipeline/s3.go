package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/flowlake/flowlake/shared/lake"
)

// GetObjectAPI is the part of the S3 client the S3 handler reads raw
// objects with. *s3.Client implements it.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// GetObjectFunc is a GetObjectAPI in a function.
type GetObjectFunc func(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)

// GetObject implements GetObjectAPI.
func (f GetObjectFunc) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return f(ctx, in, opts...)
}

// S3Handler ingests flow-log files written to S3 by VPC Flow Logs. It takes
// the notification in any of the shapes users wire: an SQS batch of S3
// events (the recommended trigger, with ReportBatchItemFailures), a direct
// S3 event, an EventBridge "Object Created" event, an SNS envelope inside
// SQS, and S3's s3:TestEvent.
type S3Handler struct {
	Pipeline *Pipeline
	S3       GetObjectAPI
	// LakeBucket is the bucket the pipeline's Store writes to ("" for a
	// local lake). Objects under the pipeline's Prefix or RejectsPrefix in
	// it are the lake's own output and are never read; with an empty
	// Prefix, nothing in LakeBucket is.
	LakeBucket string
	// RawPrefix, if set, is the key prefix flow-log files are under;
	// objects elsewhere are skipped.
	RawPrefix string
}

// ObjectResult is what happened to one object.
type ObjectResult struct {
	Bucket   string   `json:"bucket"`
	Key      string   `json:"key"`
	Skipped  string   `json:"skipped,omitempty"` // the reason it was not read
	Error    string   `json:"error,omitempty"`
	Records  int64    `json:"records"`
	Rejected int64    `json:"rejected"`
	Keys     []string `json:"keys,omitempty"`
	// Damaged is set when the object's compressed stream was damaged: the
	// records before it were kept, and the object succeeded.
	Damaged *Damage `json:"damaged,omitempty"`
	Result  *Result `json:"-"`
}

// MessageResult is what happened to one SQS message.
type MessageResult struct {
	MessageID string         `json:"messageId"`
	Objects   []ObjectResult `json:"objects,omitempty"`
	TestEvent bool           `json:"testEvent,omitempty"`
	Error     string         `json:"error,omitempty"` // set: the message is reported as failed
}

// S3Outcome is everything one invocation did.
type S3Outcome struct {
	Shape    string          `json:"shape"` // "sqs", "s3", "eventbridge" or "s3:TestEvent"
	Messages []MessageResult `json:"messages,omitempty"`
	Objects  []ObjectResult  `json:"objects,omitempty"`
}

// SQSResponse returns the partial batch response of an SQS invocation:
// the ids of the messages that failed.
func (o S3Outcome) SQSResponse() events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, m := range o.Messages {
		if m.Error != "" {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageID})
		}
	}
	return resp
}

// Response returns what a Lambda of the outcome's shape returns: for SQS
// the partial batch response, else the outcome itself.
func (o S3Outcome) Response() any {
	if o.Shape == "sqs" {
		return o.SQSResponse()
	}
	return o
}

// All returns the results of every object, of every message.
func (o S3Outcome) All() []ObjectResult {
	all := append([]ObjectResult(nil), o.Objects...)
	for _, m := range o.Messages {
		all = append(all, m.Objects...)
	}
	return all
}

// HandleSQS is the handler of the trigger the stack deploys: an SQS batch
// whose messages are S3 notifications (or SNS envelopes of them, or S3's
// s3:TestEvent). A failed object fails only its own message
// (batchItemFailures, with ReportBatchItemFailures on the event source
// mapping), so the error is nil unless the batch cannot be handled at all.
func (h *S3Handler) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return h.sqs(ctx, ev).SQSResponse(), nil
}

// HandleS3 is the handler of a direct S3 notification trigger. A failed
// object fails the invocation, so that Lambda retries the event.
func (h *S3Handler) HandleS3(ctx context.Context, ev events.S3Event) (S3Outcome, error) {
	refs, err := s3Refs(ev)
	if err != nil {
		return S3Outcome{}, err
	}
	return h.objects(ctx, "s3", refs)
}

// HandleEventBridge is the handler of an EventBridge rule on S3 "Object
// Created" events. A failed object fails the invocation, so that
// EventBridge retries the event.
func (h *S3Handler) HandleEventBridge(ctx context.Context, ev events.EventBridgeEvent) (S3Outcome, error) {
	refs, err := eventBridgeRefs(ev)
	if err != nil {
		return S3Outcome{}, err
	}
	return h.objects(ctx, "eventbridge", refs)
}

// objects ingests refs and joins the errors of the objects that failed.
func (h *S3Handler) objects(ctx context.Context, shape string, refs []objectRef) (S3Outcome, error) {
	o := S3Outcome{Shape: shape}
	for _, ref := range refs {
		o.Objects = append(o.Objects, h.object(ctx, ref))
	}
	var errs []error
	for _, r := range o.Objects {
		if r.Error != "" {
			errs = append(errs, fmt.Errorf("s3://%s/%s: %s", r.Bucket, r.Key, r.Error))
		}
	}
	return o, errors.Join(errs...)
}

func (h *S3Handler) sqs(ctx context.Context, ev events.SQSEvent) S3Outcome {
	o := S3Outcome{Shape: "sqs"}
	for _, msg := range ev.Records {
		o.Messages = append(o.Messages, h.message(ctx, msg))
	}
	return o
}

// envelope has the fields that tell the event shapes apart.
type envelope struct {
	Records []struct {
		EventSource string `json:"eventSource"`
	} `json:"Records"`
	Event      string `json:"Event"`       // "s3:TestEvent"
	DetailType string `json:"detail-type"` // EventBridge
	Source     string `json:"source"`      // EventBridge: "aws.s3"
	Type       string `json:"Type"`        // SNS: "Notification"
	Message    string `json:"Message"`     // SNS: the S3 event
}

// objectRef is one object a notification names.
type objectRef struct {
	bucket, key, etag, version string
	size                       int64 // -1: unknown
	event                      string
	time                       time.Time
}

// Process decodes an event of any of the shapes the typed handlers take,
// for the CLI (flowlake invoke, flowlake demo), and ingests every object it
// names; per-object and per-message failures are in the outcome. Its
// error is only for an event it cannot decode at all.
func (h *S3Handler) Process(ctx context.Context, raw json.RawMessage) (S3Outcome, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return S3Outcome{}, fmt.Errorf("decode event: %w", err)
	}
	if len(env.Records) > 0 && env.Records[0].EventSource == "aws:sqs" {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return S3Outcome{}, fmt.Errorf("decode SQS event: %w", err)
		}
		return h.sqs(ctx, ev), nil
	}
	refs, shape, err := decodeNotification(raw)
	if err != nil {
		return S3Outcome{}, err
	}
	if shape == "s3:TestEvent" {
		h.Pipeline.log().InfoContext(ctx, "s3:TestEvent acknowledged")
		return S3Outcome{Shape: shape}, nil
	}
	o, _ := h.objects(ctx, shape, refs)
	return o, nil
}

// message ingests the objects of one SQS message.
func (h *S3Handler) message(ctx context.Context, msg events.SQSMessage) MessageResult {
	mr := MessageResult{MessageID: msg.MessageId}
	refs, shape, err := decodeNotification(json.RawMessage(msg.Body))
	if err != nil {
		mr.Error = err.Error()
		h.Pipeline.log().ErrorContext(ctx, "message failed", "messageId", msg.MessageId, "error", err)
		return mr
	}
	if shape == "s3:TestEvent" {
		mr.TestEvent = true
		h.Pipeline.log().InfoContext(ctx, "s3:TestEvent acknowledged", "messageId", msg.MessageId)
		return mr
	}
	for _, ref := range refs {
		r := h.object(ctx, ref)
		if r.Error != "" && mr.Error == "" {
			mr.Error = r.Error
		}
		mr.Objects = append(mr.Objects, r)
	}
	if mr.Error != "" {
		h.Pipeline.log().ErrorContext(ctx, "message failed", "messageId", msg.MessageId, "error", mr.Error)
	}
	return mr
}

// decodeNotification returns the objects of an S3 event, an EventBridge
// event or an SNS envelope of either, and the shape it found.
func decodeNotification(raw json.RawMessage) ([]objectRef, string, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, "", fmt.Errorf("decode notification: %w", err)
	}
	switch {
	case env.Event == "s3:TestEvent":
		return nil, "s3:TestEvent", nil
	case env.Type == "Notification" && env.Message != "":
		refs, _, err := decodeNotification(json.RawMessage(env.Message))
		return refs, "sns", err
	case env.Source == "aws.s3" || env.DetailType != "":
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, "", fmt.Errorf("decode EventBridge event: %w", err)
		}
		refs, err := eventBridgeRefs(ev)
		return refs, "eventbridge", err
	case len(env.Records) > 0:
		var ev events.S3Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, "", fmt.Errorf("decode S3 event: %w", err)
		}
		refs, err := s3Refs(ev)
		return refs, "s3", err
	}
	return nil, "", errors.New("decode notification: not an S3, EventBridge or SNS event")
}

// eventBridgeDetail is the detail of an S3 "Object Created" EventBridge
// event: hyphenated names, a lower-case etag, and a key that is not
// URL-encoded.
type eventBridgeDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		Size      *int64 `json:"size"`
		ETag      string `json:"etag"`
		VersionID string `json:"version-id"`
	} `json:"object"`
	Reason string `json:"reason"`
}

// s3Refs returns the objects of an S3 event.
func s3Refs(ev events.S3Event) ([]objectRef, error) {
	var refs []objectRef
	for _, r := range ev.Records {
		if r.EventSource != "aws:s3" {
			return nil, fmt.Errorf("decode S3 event: unexpected eventSource %q", r.EventSource)
		}
		refs = append(refs, objectRef{
			bucket: r.S3.Bucket.Name, key: r.S3.Object.URLDecodedKey, // S3 URL-encodes keys in events
			etag: r.S3.Object.ETag, version: r.S3.Object.VersionID, size: r.S3.Object.Size,
			event: r.EventName, time: r.EventTime,
		})
	}
	return refs, nil
}

// eventBridgeRefs returns the object of an EventBridge S3 event.
func eventBridgeRefs(ev events.EventBridgeEvent) ([]objectRef, error) {
	if ev.Source != "aws.s3" {
		return nil, fmt.Errorf("decode EventBridge event: source %q, not aws.s3", ev.Source)
	}
	var d eventBridgeDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return nil, fmt.Errorf("decode EventBridge detail: %w", err)
	}
	ref := objectRef{bucket: d.Bucket.Name, key: d.Object.Key, etag: d.Object.ETag, version: d.Object.VersionID,
		size: -1, event: ev.DetailType, time: ev.Time}
	if d.Object.Size != nil {
		ref.size = *d.Object.Size
	}
	if ev.DetailType == "Object Created" {
		ref.event = "ObjectCreated:" + d.Reason
	}
	return []objectRef{ref}, nil
}

// skipReason returns why an object is not to be read, or "".
func (h *S3Handler) skipReason(ref objectRef) string {
	p := h.Pipeline
	switch {
	case !strings.HasPrefix(ref.event, "ObjectCreated:"):
		return "not an object-created event (" + ref.event + ")"
	case ref.bucket == "" || ref.key == "":
		return "no bucket or key in the event"
	case h.LakeBucket != "" && ref.bucket == h.LakeBucket && (p.Prefix == "" ||
		hasDirPrefix(ref.key, p.Prefix) || hasDirPrefix(ref.key, p.rejectsPrefix())):
		return "the lake's own output"
	case strings.HasSuffix(ref.key, ".parquet"):
		return "Parquet delivery is not supported (use text delivery)"
	case strings.HasSuffix(ref.key, "/"):
		return "a folder marker"
	case h.RawPrefix != "" && !hasDirPrefix(ref.key, h.RawPrefix):
		return "outside the raw prefix " + h.RawPrefix
	}
	return ""
}

// hasDirPrefix reports whether key is under the folder prefix.
func hasDirPrefix(key, prefix string) bool {
	prefix = strings.Trim(prefix, "/")
	return prefix == "" || strings.HasPrefix(key, prefix+"/")
}

// object ingests one object.
func (h *S3Handler) object(ctx context.Context, ref objectRef) ObjectResult {
	p := h.Pipeline
	r := ObjectResult{Bucket: ref.bucket, Key: ref.key}
	if reason := h.skipReason(ref); reason != "" {
		r.Skipped = reason
		p.skipped(ctx, ref.bucket, ref.key, reason)
		return r
	}
	res, err := h.read(ctx, ref)
	if errors.Is(err, ErrNotFlowLog) || errors.Is(err, errGone) {
		r.Skipped = err.Error()
		p.skipped(ctx, ref.bucket, ref.key, r.Skipped)
		return r
	}
	if err != nil {
		r.Error = err.Error()
		p.log().ErrorContext(ctx, "object failed", "bucket", ref.bucket, "key", ref.key, "error", err,
			"too_large", errors.Is(err, ErrTooLarge))
		return r
	}
	if d := res.Damage; d != nil {
		// Permanent: a retry reads the same bytes. The records before the
		// damage are in the lake; the rest of the object cannot be read.
		p.log().WarnContext(ctx, "object damaged: the records before the damage were kept", "bucket", ref.bucket, "key", ref.key,
			"offset", d.Offset, "line", d.Line, "text_offset", d.TextOffset, "records", res.Records, "rejects_key", res.RejectsKey, "error", d.Reason)
	}
	p.report(ctx, res, "bucket", ref.bucket, "key", ref.key)
	r.Records, r.Rejected, r.Keys, r.Damaged, r.Result = res.Records, res.Rejected, res.Keys, res.Damage, &res
	return r
}

var errGone = errors.New("object no longer exists")

// read streams one object into the lake.
func (h *S3Handler) read(ctx context.Context, ref objectRef) (Result, error) {
	p := h.Pipeline
	if ref.size > 0 {
		if err := p.Limits.CheckSize(ref.size); err != nil {
			return Result{}, fmt.Errorf("s3://%s/%s: %w", ref.bucket, ref.key, err)
		}
	}
	in := &s3.GetObjectInput{Bucket: aws.String(ref.bucket), Key: aws.String(ref.key)}
	if ref.version != "" {
		in.VersionId = aws.String(ref.version)
	}
	out, err := h.S3.GetObject(ctx, in)
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return Result{}, fmt.Errorf("%w: %w", errGone, err)
		}
		return Result{}, fmt.Errorf("get s3://%s/%s: %w", ref.bucket, ref.key, err)
	}
	defer out.Body.Close()
	size := ref.size
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	// The ETag of what is read names the objects, so that the keys match
	// the content even if the object was replaced since the event.
	etag, version := ref.etag, ref.version
	if out.ETag != nil && *out.ETag != "" {
		etag = *out.ETag
	}
	if out.VersionId != nil && *out.VersionId != "" && *out.VersionId != "null" {
		version = *out.VersionId
	}
	src := lake.S3Source(ref.bucket, ref.key, etag, version)
	src.Time = KeyTime(ref.key, ref.time)
	return p.ProcessObject(ctx, src, out.Body, size) // its errors name the source
}

// fileTime matches the time in a flow-log file name:
// …_vpcflowlogs_<region>_<flow log id>_20180620T1620Z_<hash>.log.gz.
var fileTime = regexp.MustCompile(`_(\d{8}T\d{4}Z)_[^/]*$`)

// KeyTime returns the time of a flow-log file from its name, as VPC Flow
// Logs writes it to S3 (…_20180620T1620Z_<hash>.log.gz), or def.
func KeyTime(key string, def time.Time) time.Time {
	if m := fileTime.FindStringSubmatch(key); m != nil {
		if t, err := time.Parse("20060102T1504Z", m[1]); err == nil {
			return t
		}
	}
	return def
}
