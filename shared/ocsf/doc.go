// Package ocsf maps the lake's flow records to OCSF 1.1.0 Network Activity
// (class_uid 4001) as Amazon Security Lake publishes the mapping for VPC
// Flow Logs, as the view flows_ocsf over the table flows.
//
// One definition drives both engines: Fields is the list of the view's
// OCSF fields, each a leaf (an expression, in the SQL that Trino and DuckDB
// share, over the flows table's columns) or an object of fields (an OCSF
// object, such as src_endpoint) or a map of entries (unmapped), and each
// names where its rule comes from. AthenaView renders them in Trino's dialect
// for Athena (the Glue view's SQL, objects as CAST(ROW(...) AS ROW(...)))
// with the Glue column types (Hive) and the view's column types (Trino);
// DuckDBViewSQL renders them for DuckDB (objects as struct_pack), for
// flowlake query. The two differ only in how an object and a map are
// built and in their type names; every leaf is the same text in both.
//
// The mapping's sources are files of the ocsf/examples repository (their
// paths are the constants Dossier, Pipeline and Sample): the dossier of
// OCSF 1.1.0 for VPC Flow Logs, which lists which flow-log field becomes
// which OCSF field and under which condition; the Data Prepper pipeline
// of the same version, which gives the values of those conditions
// (ACCEPT is activity 6 Traffic, REJECT 5 Refuse, traffic-path n is
// boundary n+3, ...); and the sample event of the dossier, which shows the
// times in milliseconds, disposition_id and type_uid 400105 for a REJECT.
// Where they disagree or say nothing, the field's Source says what was
// chosen and why.
//
// Imports: ocsf may import shared/lake (the table's name and columns, which
// the view reads); it must not import DuckDB, lakesql, pipeline, a
// function, the CLI or the CDK, so the Glue view (infra) and the DuckDB
// view (lakesql) both take their SQL from here and neither engine's driver
// comes with it.
package ocsf
