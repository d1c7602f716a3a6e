// Package e2e runs the whole flowlake path end to end on loopback, with the
// real binaries and SDK clients, and asserts every hop:
//
//	raw objects (versitygw, the AWS S3 layout)
//	  ─▶ SQS-shaped S3 events ─▶ ingest-s3 bootstrap under the Lambda RIE
//	  ─▶ the lake (Parquet in the lake bucket's folder)
//	  ─▶ scheduled detection (the lake engine's SQL in DuckDB over that folder)
//	  ─▶ notify.Notifier (dynalite dedup) ─▶ notify.SNS ─▶ goaws ─▶ HTTP subscriber
//	  ─▶ notify-slack bootstrap under the RIE (webhook URL from a loopback
//	     Secrets Manager) ─▶ loopback Slack webhook
//	  ─▶ the saved queries in DuckDB
//
// The ingest function also runs the batch detection engine and publishes
// through the same dedup table (FLOWLAKE_FINDINGS_TOPIC_ARN,
// FLOWLAKE_DEDUP_TABLE), so a finding both engines see is still delivered
// once. Everything is delivered twice (ingest and detect+publish both run
// again, as SQS and the schedule redeliver), and each injected scenario
// must still yield its finding exactly once: one SNS delivery, one Slack
// post. It is its own package so that goaws, whose state is global, is
// this test binary's alone.
package e2e
