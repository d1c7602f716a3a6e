// Package schedule is the scheduled detector, the Lambda function
// functions/detect: on each EventBridge schedule it runs every detection
// rule as SQL over the last complete hours of the lake (detect.Lake, in
// Athena through detect/athena) and publishes the findings through the
// same Publisher as ingest (notify.Notifier: the dedup table, SNS with its
// message attributes, escalation and dead letters).
//
//	EventBridge scheduled event ─▶ Handler.Handle ─▶ detect.Lake (Athena) ─▶ Publisher
//
// If publishing fails the invocation fails, so that EventBridge's retry
// runs it again; the dedup table keeps the retry from notifying a finding
// twice.
//
// It may import shared/detect (and detect/athena), shared/finding and
// shared/notify. It must not import the lake's writers, the pipeline or
// DuckDB: the detector reads the lake only through SQL.
package schedule
