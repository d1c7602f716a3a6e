// Package layers holds no code: its test guards the arrows between
// flowlake's packages, as each package's doc comment states them.
//
//	event ─▶ decode ─▶ parse ─▶ enrich ─▶ partition, Parquet ─▶ catalog ─▶ detect ─▶ publish
//	       functions/*, pipeline   flowlog   enrich    lake                 lake      detect    notify
//
// The rules: no shared package imports a function, the CLI, the CDK app or
// the integration tests, and no shared package's tests need integration/
// (npm, servers); the parser (flowlog) imports nothing of flowlake above
// it; every step imports only the steps before it; no Lambda binary links
// DuckDB or the CDK.
package layers
