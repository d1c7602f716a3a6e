// Package faults breaks one component of the deployed loop at a chosen
// step, lets the retries run, restores it, redelivers what AWS would
// redeliver, and counts what reached the lake and the subscribers:
//
//	cdk synth (go run ./infra, cdk.json's context) ─▶ the template's bootstraps, under the Lambda Runtime Interface Emulator
//	raw objects (versitygw) ─▶ S3 notifications ─▶ the ingest queue (the SQS stand-in, with the template's DLQ and maxReceiveCount)
//	  ─▶ the event source mapping (this suite: batches of the template's size, ReportBatchItemFailures) ─▶ ingest-s3
//	  ─▶ the lake (versitygw) ─▶ dedup table (dynalite, on disk) ─▶ SNS (goaws) ─▶ HTTP subscriber
//	  ─▶ SNS events ─▶ notify-slack ─▶ loopback Slack webhook
//	flowlake redrive (the ingest DLQ back to its queue) and flowlake replay-findings (the dead letters), the real CLI
//
// Each case asserts the lake's rows of its objects as a multiset against
// the records that must land (DuckDB over the lake bucket's folder,
// against the generated text: nothing lost, nothing doubled), and that
// every finding is delivered exactly once. The cases:
//
//   - damaged objects (cut in half, a bad checksum, a bad header) on
//     versitygw: the records before the damage land, the damage is sampled,
//     the messages succeed, and redelivery doubles nothing;
//   - versitygw stopped in the middle of serving a raw object (its
//     process killed once it has sent part of the body): the read fails,
//     the message is retried, and lands once versitygw is back;
//   - versitygw stopped during the lake write: the message fails until
//     the DLQ; versitygw back, flowlake redrive moves it back and it lands;
//   - goaws stopped during publishing: the findings are dead-lettered and
//     the message retried; goaws back, the retry publishes and
//     flowlake replay-findings finds each dead letter not news;
//   - goaws stopped past every retry: the message reaches the DLQ with a
//     dead letter per finding per attempt; goaws back, flowlake
//     replay-findings publishes each finding once, and flowlake redrive
//     brings the message back, whose findings are then not news;
//   - the Slack webhook answering 500 (an invocation's every attempt),
//     then 429 with Retry-After: each finding is posted once;
//   - dynalite stopped before a publish (nothing is published until it
//     is back) and between a publish and its commit (the commit is retried);
//   - the ingest function killed mid-object (the emulator and its bootstrap
//     ended): the message comes back after its visibility timeout.
//
// Load, bounded and on loopback: 32 concurrent ingest invocations on
// objects of one partition-hour, and 1,000 CloudWatch Logs batches in a
// burst, through the handlers (in a child process whose peak RSS is its
// own), with the deployed environment.
//
// What differs from AWS, so that the suite runs in minutes: the queue's
// visibility timeout is 1 s (the template's is six times the function's
// timeout), and the functions' SDK clients try each call twice
// (AWS_MAX_ATTEMPTS=2; the default is 3). It is its own package so that
// goaws, whose state is global, is this test binary's alone.
package faults
