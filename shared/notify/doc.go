// Package notify publishes findings to one SNS topic, in a shape that
// works for each kind of subscriber, at least once, and without notifying
// the same finding twice.
//
// # Messages
//
// Each finding is one message (BuildMessage) published with
// MessageStructure=json: "default", "sqs" and "lambda" carry the finding
// JSON (finding.Marshal), and http, https and email-json subscribers get
// "default", as SNS does for a protocol without its own key; "email" carries
// the plain text of email.Render, and Subject is email.Subject. Message
// attributes "severity", "rule", "account_id" (String) and
// "severity_rank" (Number, 1 low to 4 critical) let subscriptions filter,
// for example email for high and up:
//
//	{"severity": ["high", "critical"]}   or   {"severity_rank": [{"numeric": [">=", 3]}]}
//
// # Publishing
//
// SNS implements Publisher:
//
//	Publish(ctx context.Context, fs []finding.Finding) error
//
// It sends PublishBatch calls of up to MaxBatch findings and
// MaxMessageBytes in all (or one Publish per finding with Single, for
// servers without PublishBatch). Throttling, 5xx and network errors, of a
// call or of one batch entry, are retried with backoff and jitter; an
// entry SNS rejects as the sender's fault is not. A finding that still
// fails is written to the DeadLetter store with the reason (Undelivered)
// and is reported in the returned *Error: it is never dropped without a
// trace. errors.Is(err, ErrDeadLettered) says every failed finding is
// safe in the store; otherwise the caller should fail, so its trigger
// retries.
//
// Dead letters: S3DeadLetter writes one JSON object per failure at
// s3://bucket/prefix/YYYY/MM/DD/<id>-<unix nanos>.json (create-only, so a
// failure never overwrites another); DirDeadLetter writes the same layout
// to a local folder for the CLI and tests, and ReadDeadLetters reads it
// back. An S3 prefix was chosen over an SQS queue because it keeps the
// whole finding and reason however large, lives with the lake's other
// rejects, and is tested locally against a real S3-compatible server.
//
// # Dedup
//
// Notifier wraps a Publisher with the dedup store: for each finding it
// runs Decide, publishes what is to be notified, and Commits only after
// publishing succeeded, so a failed publish leaves no state and the next
// attempt publishes again. Notifier is itself a Publisher, which is what
// the ingest pipeline and the scheduled detector should be given:
//
//	pub := &notify.Notifier{
//		Dedup:     &dedup.Store{Client: ddb, Table: table},
//		Publisher: &notify.SNS{Client: snsClient, TopicARN: arn, DeadLetter: &notify.S3DeadLetter{...}},
//	}
//
// The ingest pipeline's Publisher also receives the lake.Source of the
// findings; adapt with
//
//	pipeline.PublishFunc(func(ctx context.Context, _ lake.Source, fs []finding.Finding) error {
//		return pub.Publish(ctx, fs)
//	})
//
// The renderers live in the subpackages email and slack; slack.Handler
// is the notify-slack function, and secret.Cache reads its webhook URL.
//
// It may import shared/finding, shared/dedup, shared/emf and its own
// subpackages; it must not import the ingest path (pipeline, lake, flowlog,
// enrich) or the scheduler: it takes findings, not flows.
package notify
