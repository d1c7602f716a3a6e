// Command ingest-s3 is the Lambda function that turns flow-log files that
// VPC Flow Logs writes to S3 into the Parquet lake.
//
// Trigger: S3 ObjectCreated notifications of the raw bucket delivered
// through SQS (with a DLQ and ReportBatchItemFailures on the event source
// mapping: one bad object fails only its own message): the typed handler
// pipeline.S3Handler.HandleSQS. A message body may also be an SNS envelope
// of an S3 event or an EventBridge "Object Created" event (an EventBridge
// rule targeting the queue); s3:TestEvent is acknowledged. Direct S3 or
// EventBridge triggers of the function are not what it takes (their
// handlers, HandleS3 and HandleEventBridge, are for other wirings). Each
// object is streamed (GetObject → gunzip → parse
// → Parquet), its format taken from its header line; objects that are not
// flow-log text files (another prefix, the lake's own output, AWS-native
// Parquet delivery, no header) are skipped with a logged reason; an object
// over the size limits fails with a reason. Output keys derive from
// bucket, key and ETag (or version), so redeliveries overwrite.
//
// Environment (set by the CDK app):
//
//	FLOWLAKE_LAKE_BUCKET         required: the lake bucket (Parquet and rejects)
//	FLOWLAKE_LAKE_PREFIX         Parquet key prefix (default "flows")
//	FLOWLAKE_REJECTS_PREFIX      key prefix of rejected-line samples (default "rejects")
//	FLOWLAKE_RAW_PREFIX          only keys under this prefix are read (default: any)
//	FLOWLAKE_IP_RANGES           s3://bucket/key or https URL of AWS ip-ranges.json (default: none)
//	FLOWLAKE_GEOIP               MaxMind-format country database, relative to the function's folder (the stack ships geoip-country.mmdb; default: none)
//	FLOWLAKE_ASN                 MaxMind-format ASN database, likewise (the stack ships geoip-asn.mmdb; default: none)
//	FLOWLAKE_MAX_OBJECT_BYTES    largest object read (default 134217728)
//	FLOWLAKE_MAX_INFLATED_BYTES  most text an object may inflate to (default 3221225472)
//	FLOWLAKE_MAX_INFLATE_RATIO   most text bytes per stored byte (default 100)
//	FLOWLAKE_METRICS_NAMESPACE   EMF namespace (default "flowlake")
//	FLOWLAKE_LOG_LEVEL           debug, info (default), warn or error
//	FLOWLAKE_S3_ENDPOINT         local testing only: S3-compatible endpoint, path style
//	FLOWLAKE_ENI_METADATA        "true": eni_* columns from EC2 DescribeNetworkInterfaces (batched, cached)
//	FLOWLAKE_EC2_ENDPOINT        local testing only: EC2 query-API endpoint
//	FLOWLAKE_FINDINGS_TOPIC_ARN  the findings SNS topic: set, each batch runs through the batch detection engine and its findings are published (default: none, no detection here)
//	FLOWLAKE_DEDUP_TABLE         the DynamoDB dedup table: findings go through notify.Notifier, so each is published once (default: none)
//	FLOWLAKE_DEAD_LETTER_BUCKET  bucket of findings that could not be published, kept as JSON with the reason (default: none)
//	FLOWLAKE_DEAD_LETTER_PREFIX  their key prefix (default "dead-letter/notify")
//	FLOWLAKE_SNS_SINGLE          local testing only: "true" publishes one finding per call, for SNS servers without PublishBatch
//	DETECT_SETTINGS              semicolon-separated rule.field=value overrides, as functions/detect
//	DETECT_DISABLED              comma-separated rule IDs not to run
//	DETECT_INTERNAL              comma-separated address blocks of ours besides the private ranges (the VPCs' IPv6 blocks)
//	GOMEMLIMIT                   default: 85% of AWS_LAMBDA_FUNCTION_MEMORY_SIZE
//
// Keep the raw bucket (or FLOWLAKE_RAW_PREFIX) apart from the lake: the
// function skips anything under the lake prefixes of FLOWLAKE_LAKE_BUCKET
// (and the whole bucket when FLOWLAKE_LAKE_PREFIX is "/"), and every
// .parquet key, so it never reads its own output.
//
// With FLOWLAKE_FINDINGS_TOPIC_ARN set, the findings of a batch are
// published after its rows are committed; a failed publish fails the
// batch, so its retry rewrites the same objects and publishes again (the
// dedup table keeps that to one message per finding).
//
// IAM: s3:GetObject on the raw bucket (and the ip-ranges object),
// s3:PutObject and s3:AbortMultipartUpload on the lake bucket; sns:Publish
// on the findings topic and dynamodb:GetItem and dynamodb:PutItem on the
// dedup table, when set.
//
// Logs are JSON (slog) with the request ID; metrics are CloudWatch EMF
// lines on stdout (namespace above, dimension Function=ingest-s3):
// Records, Bytes, ParquetBytes, RejectedLines, NoDataRecords,
// SkipDataRecords, DamagedObjects, ObjectsSkipped, Duration, DeliveryLag.
//
// A damaged object (corrupt or truncated gzip) keeps the records before
// the damage and its message succeeds, with the damage in its rejects
// sample and the DamagedObjects metric; a read that fails (connection
// reset, timeout, throttling, a body short of its length) fails the
// message, so SQS retries it.
//
// main only wires: it loads the AWS configuration once, builds the S3,
// EC2, SNS and DynamoDB clients and hands them to pipeline.Env.Pipeline.
//
// Build: GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -o bootstrap ./functions/ingest-s3
package main
