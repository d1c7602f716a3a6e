// Package pqvalue makes Parquet values of Go strings without copying them,
// for the lake's reference writer (parquet-go's, which its tests compare
// the lake's own writer with), so that the baseline costs what the lake's
// writer did.
//
// parquet-go v0.32.0 builds a BYTE_ARRAY value from a []byte only
// (parquet.ByteArrayValue); its own string constructor, which references
// the string's bytes, is unexported. Copying each string into a buffer
// instead costs the lake 5.6% more instructions in BenchmarkEncode (the
// rich format, measured 2026-12-02), so this package holds the one conversion,
// and the one use of unsafe, that the lake needs. The value refers to the
// string's memory, which Go never modifies: parquet-go only reads it.
//
// pqvalue imports only parquet-go; only packages of shared/ may import it.
package pqvalue

import (
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// String returns the BYTE_ARRAY value of s, referring to s's bytes, with
// repetition and definition levels 0. Its bytes must not be modified.
func String(s string) parquet.Value {
	return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
}
