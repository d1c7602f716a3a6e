// Command detect is the scheduled Lambda function of the lake engine: on
// each EventBridge schedule it runs every detection rule as SQL in Athena
// over the last complete hours' partitions (partition projection keeps the
// scan to them) and returns and logs the findings.
//
// Configuration (environment): ATHENA_WORKGROUP (required), ATHENA_DATABASE
// (required), ATHENA_OUTPUT (s3://… for results, if the workgroup does not
// set one), DETECT_ACCOUNTS (comma-separated aws_account values; required
// when the table projects aws_account as injected), DETECT_INTERNAL
// (comma-separated address blocks of ours besides the private ranges),
// DETECT_SETTINGS (semicolon-separated rule.field=value), DETECT_DISABLED
// (comma-separated rule IDs), DETECT_LOOKBACK (default 1h), DETECT_LAG
// (default 15m: flow logs reach S3 about 10 minutes late) and
// DETECT_SAMPLES (true: one more small query per finding for sample
// flows).
//
// It does not import DuckDB: the binary stays small and cgo-free.
package main
