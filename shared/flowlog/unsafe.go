package flowlog

import (
	"encoding/binary"
	"unsafe"
)

// Every use of package unsafe in flowlog is in this file, each behind a
// small function that states what its caller guarantees; unsafe_test.go
// tests each one on its own. They all inline (TestInlining), so calling
// them costs what writing the unsafe expression in place would.

// loadWord returns the eight bytes b[i:i+8] as a little-endian word. The
// caller guarantees 0 <= i and i+8 <= len(b).
//
// Where unalignedLE holds (a little-endian CPU that loads unaligned words
// at full speed; see loadword_fast.go) it is one load, and the bounds are
// not checked. Everywhere else it is binary.LittleEndian.Uint64, which
// checks them and which the compiler turns into one load (byte-swapped on
// big-endian CPUs) where unaligned loads are allowed, and into byte loads
// where they are not. Build with -tags purego to run the checked form on
// any CPU: the tests then prove that no load leaves its slice.
//
// The unchecked load saves 15% of the reader's instructions on the rich
// format and 11% on the default one (callgrind over BenchmarkReader, per
// record: 3,615 checked, 3,091 unchecked; default 2,007 and 1,777).
func loadWord(b []byte, i int) uint64 {
	if !unalignedLE {
		return binary.LittleEndian.Uint64(b[i:])
	}
	return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}

// fieldAt returns a pointer to the struct field of rec at offset off,
// which the caller guarantees is fieldOffset[f] of a field f whose Go type
// is T. fieldOffset's init panics unless every field's struct field has the
// Go type of its Kind, and every caller takes T from the Kind.
func fieldAt[T any](rec *Record, off uintptr) *T {
	return (*T)(unsafe.Add(unsafe.Pointer(rec), off))
}

// parseFrom walks its plan by pointer, with stepAt, nextStep and
// stepIndex, rather than by index: the loop then keeps one register for the
// step, not three for the plan and an index. That saves 5% of the reader's
// instructions (callgrind over BenchmarkReader, per record: 3,254 with
// &plan[k], 3,087 by pointer; default 1,865 and 1,771).

// stepAt returns &plan[k], unchecked. The caller guarantees
// 0 <= k <= len(plan): k == len(plan) is the kindEnd step that compile
// keeps in the plan's capacity.
func stepAt(plan []step, k int) *step {
	return (*step)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(plan)), uintptr(k)*unsafe.Sizeof(step{})))
}

// nextStep returns the step after st in its plan. The caller guarantees
// that st is not the plan's kindEnd step.
func nextStep(st *step) *step {
	return (*step)(unsafe.Add(unsafe.Pointer(st), unsafe.Sizeof(step{})))
}

// stepIndex returns k such that st == &plan[k]. The caller guarantees that
// st is a step of plan (or its kindEnd step).
func stepIndex(plan []step, st *step) int {
	return int((uintptr(unsafe.Pointer(st)) - uintptr(unsafe.Pointer(unsafe.SliceData(plan)))) / unsafe.Sizeof(step{}))
}

// bytesString returns b as a string that shares b's memory. The caller
// guarantees that the string is not kept past the call it is passed to
// and that b does not change during that call.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
