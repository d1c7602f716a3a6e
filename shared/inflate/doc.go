// Package inflate turns the bytes of a flow-log file into its text: it is
// the one place that knows gzip. A Reader detects gzip by its magic number
// and inflates it with klauspost/compress, or passes plain text through
// unchanged; ReadAhead runs a Reader on its own goroutine, a few blocks
// ahead of the caller, so that inflating a large object takes another core
// than parsing it.
//
// The flow-log reader (flowlog.NewReader) reads through a Reader, so it
// takes plain or gzip text alike; the ingest path (pipeline) reads through
// ReadAhead, whose output is text, which the flow-log reader passes through.
//
// A damaged gzip stream (bad header, bad checksum, corrupt deflate data, or
// cut short) is a *CorruptError, after the text before the damage: it
// matches ErrCorrupt, wraps the decoder's own error and gives the input
// offset the decoder had reached. An error of the input itself (a
// connection reset, a timeout, a body cut short by the network) is never
// damage, even when it leaves the stream cut short: it is returned
// wrapped, and does not match ErrCorrupt, so that a caller can tell a
// permanent fault of the bytes from a read worth retrying.
//
// inflate imports no package of this module: it sits below the parser.
package inflate
