// Package pipeline is the one path flow logs take into the lake, for every
// entry point: both ingest Lambdas, the flowlake CLI (invoke) and the
// integration tests run it.
//
//	event ─▶ decode ─▶ parse ─▶ enrich ─▶ write Parquet ─▶ detect ─▶ publish
//	(handlers)  (flowlog)  (Enricher) (lake.Converter)  (Detector) (Publisher)
//
// The handlers decode the trigger's event: CloudWatchHandler takes a
// CloudWatch Logs subscription batch, S3Handler takes S3 ObjectCreated
// notifications delivered through SQS (with partial batch failures),
// directly, or through EventBridge. Each hands a lake.Source and a record
// stream to Pipeline.Process, which converts it with a lake.Converter whose
// Hook enriches each group of records and shows it to the Detector; after
// the Parquet objects are committed, the findings go to the Publisher.
//
// Idempotence: object keys derive from the source (bucket, key and ETag or
// version; or the log-event ids of a CloudWatch batch), so a redelivered
// event overwrites the same objects and never duplicates rows. The sample
// of rejected lines goes to <RejectsPrefix>/<source hash>.jsonl, also
// overwritten on retry.
//
// Streaming: an S3 object is read once, gunzipped ahead on another core
// (inflate.ReadAhead) and parsed as it arrives; memory is bounded by the
// converter's row groups, not by the object. Limits guard against hostile
// input: an object over MaxObjectBytes, or one that inflates past
// MaxInflatedBytes or MaxInflateRatio times its size, fails with
// ErrTooLarge and a reason.
//
// Damage and failed reads: a damaged compressed stream (a bad gzip header,
// checksum or length, corrupt deflate data, a stream that ends inside a
// member: inflate.CorruptError) is a permanent fault of the object, so the
// conversion commits the records of every whole line before it, records
// the damage (Result.Damage with the stored byte offset, an entry in the
// rejects sample, the DamagedObjects metric, a log line) and succeeds: a
// retry would read the same bytes. A line the damage cuts short is never
// parsed. A read that fails instead (the body's error: a connection
// reset, a timeout, throttling; or a body shorter than its length,
// ErrShortRead) fails the source and commits nothing in progress, so its
// trigger retries. Deflate damage in the middle of a member usually
// inflates to wrong text that only the checksum at the member's end
// tells: those lines are parsed (most are rejected) and the damage is
// recorded at the end.
//
// Detection at ingest: NewDetector gives each source its own detector;
// BatchDetectors runs the batch engine (detect.Batch) over the whole
// source and Process publishes what it proves. Env.Pipeline wires it from
// the environment (notify.ConfigFromEnv, DETECT_*): SNS through
// notify.Notifier with the dedup table and dead letters, the same
// publisher the scheduled detector (package schedule) uses. With
// FLOWLAKE_THREAT_LISTS, the batch engine looks flows' peers up in the
// threat lists kept under the lake bucket's reference/ (S3ThreatLists,
// read once on the first source: LazyBatchDetectors).
//
// The small interfaces the pipeline needs are declared here (Enricher,
// Detector, Publisher, GetObjectAPI); each main.go loads the AWS
// configuration once, builds the real clients (Clients) and hands them to
// Env.Pipeline; tests plug in function types. Logs are slog JSON with the Lambda request
// ID (NewLogger); metrics are CloudWatch Embedded Metric Format lines
// (Metrics).
//
// It may import every step it runs (flowlog, inflate, enrich, lake, detect,
// dedup, notify, emf); it must not import a function, the CLI or DuckDB (no
// Lambda binary links it; shared/layers guards both).
package pipeline
