// Package lakesql queries a local lake with embedded DuckDB.
//
// Open exposes a lake folder as the view flows, the same name and the same
// column types as the Athena table of package lake, so a query runs
// unchanged in both places. Partition keys stay strings, as in Athena.
// The reference data beside the flows (lake.ReferencePrefix) is not flows:
// the threat lists are the view threat_lists (empty when there is none),
// as the second Glue table is in AWS. The flows as OCSF 1.1.0 Network
// Activity are the view flows_ocsf, with the SQL of package ocsf, as the
// Glue view is in AWS.
//
// Imports: lake, ocsf (the view's SQL) and DuckDB.
//
// DuckDB is a cgo dependency of some 70 MB: only the CLI and tests import
// this package, never the ingest Lambdas (package lake does not).
package lakesql
