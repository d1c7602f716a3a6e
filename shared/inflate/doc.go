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
// cut short) is an error that wraps ErrCorrupt and the decoder's own error,
// after the text before the damage.
//
// inflate imports no package of this module: it sits below the parser.
package inflate
