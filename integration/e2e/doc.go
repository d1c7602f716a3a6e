// Package e2e runs what AWS runs, end to end on loopback, and asserts
// every hop:
//
//	cdk synth (go run ./infra, cdk.json's context) ─▶ the template and its four bootstraps
//	raw objects (versitygw, the AWS S3 layout) ─▶ SQS-shaped S3 notifications ─▶ ingest-s3
//	CloudWatch Logs subscription payloads (small batches per stream) ─▶ ingest-cwlogs
//	  ─▶ the lake (Parquet in the lake bucket's folder)
//	EventBridge scheduled events ─▶ detect ─▶ the Athena stand-in (package standin)
//	EventBridge scheduled events ─▶ compact ─▶ the lake (one object per hour; the
//	  same rows before and after, and after every event is redelivered)
//	ingest and detect ─▶ dedup table (dynalite) ─▶ SNS (goaws) ─▶ HTTP subscriber
//	  ─▶ SNS Lambda events ─▶ notify-slack (webhook URL from a loopback
//	     Secrets Manager) ─▶ loopback Slack webhook
//	the template's saved queries (AWS::Athena::NamedQuery) ─▶ the Athena stand-in
//
// Each function is the bootstrap the synth built (with the app's own build
// flags, for this machine's CPU: infra's FLOWLAKE_BOOTSTRAP_GOARCH), run
// under the Lambda Runtime Interface Emulator with the environment the
// template gives it. Only the template's references are replaced, by the
// loopback servers' names and endpoints (stack.Locals): the buckets, the
// topic, the dedup table, the account and region, and AWS's ip-ranges URL
// (a local TLS server, trusted through SSL_CERT_FILE). Endpoints and
// credentials are the SDK's own environment variables
// (AWS_ENDPOINT_URL_<SERVICE>), and FLOWLAKE_S3_ENDPOINT for path-style S3;
// FLOWLAKE_SNS_SINGLE because goaws has no PublishBatch.
//
// Every ingest event is delivered twice and every hourly schedule fires
// twice; each injected attack must still reach the subscriber and Slack
// exactly once, the benign traffic nothing, and the host sweep, which
// CloudWatch Logs delivers in batches too small for the batch engine, must
// be published by the scheduled detector. It is its own package so that
// goaws, whose state is global, is this test binary's alone.
package e2e
