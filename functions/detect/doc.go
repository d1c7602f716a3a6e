// Command detect is the scheduled Lambda function of the lake engine: on
// each EventBridge schedule it runs every detection rule as SQL in Athena
// over the last complete hours' partitions (partition projection keeps the
// scan to them) and publishes the findings to the findings topic through
// the dedup table, as the ingest functions do (package schedule).
//
// main only wires: it reads the configuration, loads the AWS configuration
// once, builds the Athena, SNS, DynamoDB and S3 clients and starts the
// handler.
//
// Configuration (environment):
//   - ATHENA_WORKGROUP, ATHENA_DATABASE (required), ATHENA_OUTPUT (s3://…
//     for results, if the workgroup does not set one); DETECT_LOOKBACK
//     (default 1h), DETECT_LAG (default 15m: flow logs reach S3 about 10
//     minutes late), DETECT_SAMPLES (default true: one more small query
//     per finding for sample flows): see package schedule;
//   - DETECT_ACCOUNTS, DETECT_INTERNAL, DETECT_SETTINGS, DETECT_DISABLED:
//     see detect.ConfigFromEnv;
//   - FLOWLAKE_FINDINGS_TOPIC_ARN, FLOWLAKE_DEDUP_TABLE,
//     FLOWLAKE_DEAD_LETTER_BUCKET, FLOWLAKE_DEAD_LETTER_PREFIX: see
//     notify.ConfigFromEnv.
//
// It does not import DuckDB: the binary stays small and cgo-free.
package main
