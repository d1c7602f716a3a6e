// Package lake turns flow-log records into a partitioned Parquet data lake
// that Athena (through a Glue table with partition projection) and DuckDB
// (through hive partitioning) query with the same SQL.
//
// One definition drives everything: a Schema is an ordered list of Column
// values (name, Athena type, doc, encoding and an accessor that reads the
// value). FlowColumns returns the columns of every flow-log field, named
// and typed as in AWS's Athena DDL with '-' as '_', plus start_time and
// end_time; their accessors read a flowlog.Record. Columns that another
// package computes for each group of records (enrichment) come from
// HookedColumns: a ColumnDef gives a column's name, type and doc, and a
// ChunkSource its values, a chunk of rows per call, once Converter.Hook has
// run for the group. The lake knows nothing of what they hold. From a
// Schema come the Parquet layout (Writer), the Glue table as plain data
// (Schema.Table), the Athena DDL (DDL) and the DuckDB view (built by
// package lakesql).
//
// The table definition (TableSchema, Table, DDL) stays in this package
// because it describes exactly the objects the package writes: the same
// columns and Parquet types, the partition keys and key layout of
// Partition and objectKey (the projection's storage.location.template),
// zstd, the Parquet SerDe. Kept together, the writer and its catalog cannot
// drift apart. TableSchema is the one place that names enrich's columns
// (enrich.Columns, read as ColumnDefs), because the table is the whole
// table; the writer reads them only through the generic interfaces.
//
// Objects are laid out Hive-style,
//
//	<prefix>/aws_account=<id>/aws_region=<region>/day=<yyyy-MM-dd>/hour=<HH>/<source hash>-<part>.parquet
//
// and their names derive from the Source they came from, so converting the
// same source again overwrites the same objects and never duplicates rows.
// The table uses partition projection: nothing ever adds partitions.
//
// Convert reads a flowlog.Reader to the end and writes through a Store:
// DirStore for a local folder, S3Store for a bucket (streamed, multipart
// when large, through the SDK's transfer manager). Peak memory is bounded
// by the row-group size and the number of open partitions, not by the
// input size. The work is pipelined: decompression happens before the lake
// (package inflate, one goroutine), the reader parses on another, and
// Parquet encoding runs on all cores, one column per goroutine, with zstd,
// dictionaries for ids, enums and addresses, and delta for times.
//
// An object holds only the columns its input's formats carry (a default
// format file has 16, not 62); Athena and DuckDB read a column that a file
// lacks as NULL, so every query sees the whole table.
//
// Reference data sits beside the flows under reference/: WriteThreatList
// writes a threat list (package threatlist) as the rows of the
// threat_lists table (ThreatListsTable), which the threat-list-match rule
// joins, and keeps its source text for ingest to load.
//
// Imports: lake may import flowlog (records), enrich (only for
// TableSchema's column definitions), threatlist (the reference table's
// rows), parquet-go and the S3 SDK; it must
// not import pipeline, a function, the CLI or DuckDB. It uses no unsafe.
//
// The Parquet writer is the lake's own (fileWriter, one leafEncoder per
// leaf column: pages encoded straight from typed values, bounds kept as
// the dictionary is built), on parquet-go's bit-level encodings, Thrift
// structures and footer schema. Its tests compare every type, encoding and
// level it writes with what parquet-go's writer (refWriter, kept as the
// tests' reference, with its zero-copy strings from
// shared/internal/pqvalue) writes for the same rows, read back by
// parquet-go, and check its page index with arrow-go.
package lake
