// Package queries holds the lake's saved queries: one name, description and
// SQL each, over the table flows with the lake's column and partition
// names. The CDK app saves them as Athena named queries; the flowlake CLI
// can run the same SQL through DuckDB, since each stays in the subset the
// two engines share (no engine-specific functions; the day partition is
// compared as a yyyy-MM-dd string).
//
// Every query reads the last Lookback days only (a predicate on the day
// partition, which partition projection turns into a bounded scan).
//
// It may import shared/lake (the table's name); it must not import DuckDB or
// the detector: the queries are text, run by whoever holds a database.
package queries
