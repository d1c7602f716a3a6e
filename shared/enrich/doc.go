// Package enrich answers "who, what, where, which way" for every flow-log
// record: it fills a Fields value with the enrichment columns the lake
// appends to its schema (Columns lists them with their Athena types).
//
// Build one Enricher per process with New (or NewFromPaths for the CLI's
// --ip-ranges, --geoip and --asn files) and call Enrich on each batch:
//
//	e, err := enrich.New(ctx, enrich.Config{
//		IPRanges: enrich.S3Source{Client: s3c, Bucket: b, Key: "ip-ranges.json"},
//		EC2:      ec2.NewFromConfig(awsCfg, enrich.WithThrottleRetries),
//	})
//	out := make([]enrich.Fields, len(recs))
//	stats := e.Enrich(ctx, recs, out)
//
// Where the values come from:
//   - the record alone, without I/O (protocol_name, tcp_flag_names,
//     src/dst_ip_class, direction, src/dst_service, peer_addr): precomputed
//     tables and bit tests;
//   - AWS's ip-ranges.json (src/dst_aws_service and _region), read from a
//     Source (a file by mtime, an S3 object by ETag with If-None-Match) and
//     refreshed when it changes; lookups are one binary search over the
//     ranges flattened into disjoint intervals, most specific prefix first;
//   - optional MaxMind-format databases (src/dst_country, _asn, _as_org),
//     looked up for public addresses only and cached;
//   - EC2 DescribeNetworkInterfaces (eni_* columns, and direction when
//     flow-direction is absent): the unknown ENIs of a batch are asked for
//     in one paginated request filtered by network-interface-id, and cached
//     with a TTL, negative caching and in-flight de-duplication.
//
// Enrich never fails: when EC2 or ip-ranges cannot be read the affected
// columns are NULL, a warning is logged and Stats counts it. Filling a
// record allocates nothing once the caches are warm.
//
// Wiring into a columnar writer: Columns (or ColumnsIn, for some source
// groups) gives each column's name, Athena type, doc and the flow-log field
// it depends on; a ColumnReader over the batch's Fields reads a column's
// values a chunk of rows at a time (the lake takes both through
// lake.HookedColumns, and names no field of Fields). For JSON output,
// Fields.AppendPairs gives the set columns as (name, value) pairs in schema
// order. enrich imports no package of the lake: the lake depends on it.
//
// Direction is never guessed: it is flow-direction when present, else
// egress when srcaddr is one of the ENI's own addresses, ingress when
// dstaddr is, else NULL.
package enrich
