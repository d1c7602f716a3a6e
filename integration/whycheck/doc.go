// Package whycheck runs `flowlake why`'s SQL as the --athena path sends
// it: through the AWS SDK's Athena client and detect/athena's Querier, to
// the Athena stand-in (integration/standin, DuckDB over the lake folder),
// for every why scenario in the rich and the v2 default format. Its
// Trino-grammar check lives with the others', in integration/sqlcheck.
package whycheck
