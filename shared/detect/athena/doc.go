// Package athena runs the lake engine's SQL in Amazon Athena: Querier
// implements detect.Querier with the Athena API (StartQueryExecution,
// GetQueryExecution until the query ends, then every page of
// GetQueryResults), as package duck does with DuckDB on a laptop.
//
// It may import shared/detect and the AWS SDK's Athena client. It must not
// import DuckDB (cgo) or the lake's writers: the scheduled detector's
// binary stays small and cgo-free.
package athena
