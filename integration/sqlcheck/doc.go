// Package sqlcheck parses the SQL flowlake sends to Athena with the
// engines' own grammars (dt-sql-parser, from npm, through
// stack.ParseSQL): every rule's aggregate and evidence query, every
// saved query and the SQL of the view flows_ocsf with Trino's, the lake DDL with Hive's (Athena runs DDL on
// Hive). It lives under integration/ because it needs Node.js and npm
// packages; the shared packages' own tests need neither.
package sqlcheck
