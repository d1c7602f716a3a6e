// Command ingest-cwlogs is the Lambda function that turns CloudWatch Logs
// subscription batches of a flow-log log group into the Parquet lake.
//
// Trigger: a subscription filter on the flow log's log group. The work is
// done by pipeline.CloudWatchHandler: the payload is decoded (base64,
// gzip, JSON), a CONTROL_MESSAGE is acknowledged and ignored, and each log
// event's message is parsed as one record in the configured format (no
// header). Records land under the log group owner's account and the
// function's own region (AWS_REGION) when the format has no region
// field. Output keys derive from the batch's log group, stream and
// first and last log-event ids, so CloudWatch Logs' retries (for up to
// 24 h) overwrite instead of duplicating. An error makes CloudWatch retry.
//
// Environment (set by the CDK app):
//
//	FLOWLAKE_FLOW_LOG_FORMAT     the ${...} format the flow log was created with (default: the v2 default format)
//	FLOWLAKE_LAKE_BUCKET         required: the lake bucket (Parquet and rejects)
//	FLOWLAKE_LAKE_PREFIX         Parquet key prefix (default "flows")
//	FLOWLAKE_REJECTS_PREFIX      key prefix of rejected-line samples (default "rejects")
//	FLOWLAKE_IP_RANGES           s3://bucket/key or https URL of AWS ip-ranges.json (default: none)
//	FLOWLAKE_GEOIP               MaxMind-format country database, relative to the function's folder (the stack ships geoip-country.mmdb; default: none)
//	FLOWLAKE_ASN                 MaxMind-format ASN database, likewise (the stack ships geoip-asn.mmdb; default: none)
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
// With FLOWLAKE_FINDINGS_TOPIC_ARN set, the findings of a batch are
// published after its rows are committed; a failed publish fails the
// batch, so its retry rewrites the same objects and publishes again (the
// dedup table keeps that to one message per finding).
//
// IAM: s3:PutObject and s3:AbortMultipartUpload on the lake bucket
// (s3:GetObject on the ip-ranges object); sns:Publish on the findings
// topic and dynamodb:GetItem and dynamodb:PutItem on the dedup table, when
// set; lambda:InvokeFunction for
// logs.amazonaws.com. Exclude this function's own log group from any
// account-level subscription policy.
//
// Logs are JSON (slog) with the request ID; metrics are CloudWatch EMF
// lines on stdout (dimension Function=ingest-cwlogs): Records, Bytes,
// ParquetBytes, RejectedLines, NoDataRecords, SkipDataRecords, Duration,
// DeliveryLag.
//
// main only wires: it loads the AWS configuration once, builds the S3,
// EC2, SNS and DynamoDB clients and hands them to pipeline.Env.Pipeline.
//
// Build: GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -o bootstrap ./functions/ingest-cwlogs
package main
