// Package lake turns flow-log records into a partitioned Parquet data lake
// that Athena (through a Glue table with partition projection) and DuckDB
// (through hive partitioning) query with the same SQL.
//
// One definition drives everything: a Schema is an ordered list of Column
// values (name, Athena type, doc, encoding and an accessor that reads the
// value from a flowlog.Record). FlowColumns returns the columns of every
// flow-log field, named and typed as in AWS's Athena DDL with '-' as '_',
// plus start_time and end_time. Other packages (enrichment) append their
// own columns and call NewSchema. From a Schema come the Parquet layout
// (Writer), the Glue table as plain data (Schema.Table), the Athena DDL
// (DDL) and the DuckDB view (built by package lakesql).
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
// when large). Peak memory is bounded by the row-group size and the number
// of open partitions, not by the input size. The work is pipelined:
// ReadAhead inflates gzip on one goroutine, the reader parses on another,
// and Parquet encoding runs on all cores, one column per goroutine, with
// zstd, dictionaries for ids, enums and addresses, and delta for times.
//
// An object holds only the columns its input's formats carry (a default
// format file has 16, not 62); Athena and DuckDB read a column that a file
// lacks as NULL, so every query sees the whole table.
package lake
