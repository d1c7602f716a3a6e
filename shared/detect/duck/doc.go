// Package duck runs the lake engine of package detect in embedded DuckDB,
// over a local lake opened with lakesql: it is the detect.Querier of
// `flowlake detect` and of the tests. It links DuckDB (cgo), so Lambda
// functions must not import it; they use Athena.
package duck
