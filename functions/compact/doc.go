// Command compact is the scheduled Lambda function that compacts the
// lake: on each EventBridge schedule (hourly, after the detector) it
// rewrites every closed partition-hour of the lookback window into as few
// objects as the target size allows, sorted by interface then start, and
// folds in what ingest wrote since (late and redelivered objects), as
// package compact describes. A partition-hour that fails is left as it
// was and fails the invocation, so that EventBridge retries it and the
// errors alarm fires.
//
// main only wires: it reads the configuration, loads the AWS configuration
// once, builds the S3 client and starts the handler.
//
// Configuration (environment):
//   - FLOWLAKE_LAKE_BUCKET (required), FLOWLAKE_LAKE_PREFIX (default
//     flows): the lake, as the ingest functions name it;
//   - COMPACT_MIN_AGE (default 3h: hours that ended less long ago are
//     open), COMPACT_LOOKBACK (default 360h), COMPACT_TARGET_BYTES
//     (default 128 MiB), COMPACT_SORT_BYTES (default 256 MiB),
//     COMPACT_TEMP_DIR (default /tmp): see package compact;
//   - FLOWLAKE_METRICS_NAMESPACE, FLOWLAKE_LOG_LEVEL; FLOWLAKE_S3_ENDPOINT
//     for local testing only.
//
// It does not import DuckDB: the binary stays small and cgo-free.
package main
