// Package flowlog reads AWS VPC (and transit gateway) flow-log records.
//
// A Reader works like encoding/csv: NewReader wraps an io.Reader of text,
// plain or gzip, and Read returns one Record per line until io.EOF. The
// format of the lines is a Format, compiled from a "${field} ..." format
// string by ParseFormat, or taken from the header line that begins every S3
// text file. Every field of every record version is known: v2 (the default
// format), v3, v4, v5, v7 (ECS), v8 (reject-reason), resource-id,
// encryption-status, v11 (interface-type, the next hop, the EC2 tags) and
// the v6 transit-gateway fields. A header may name columns this package
// does not know (a field AWS adds later): their values are kept, by name,
// in Record.Extra, so no column of a file is lost.
//
// "-" is null for every field: the field is absent from Record.Set and its
// struct field is the zero value. Integers are range-checked (ports 0–65535,
// protocol 0–255, counters and times 0 to 2^63−1), addresses are netip.Addr,
// action and log-status are closed enums, and every other enum stays an open
// string so new values from AWS never break parsing.
//
// A line that does not parse gives a *ParseError naming the line, the column
// (the field's position in the line), the field and the reason (a sentinel
// such as ErrAddr); the next Read goes on with the next line. A header line
// is never a record: Reader.HeaderLines counts them. Reading a record does
// not allocate once its string values have been seen: the reader interns
// them in a bounded table.
//
// It imports only the standard library, shared/inflate and shared/internal:
// nothing of flowlake above the parser (shared/layers guards it).
package flowlog

// The files, in the order a line goes through them: reader.go (the API,
// buffering and gzip), parse.go (the parse loop and its slow path), word.go
// (the word-at-a-time tricks the loop inlines), cache.go (the tables of
// recent, interned and parsed values) and value.go (each kind of value, the
// plain way). unsafe.go holds every use of package unsafe; loadword_*.go
// choose, by build tags, between unchecked word loads and portable ones.
