package flowlog

import (
	"encoding/binary"
	"math/bits"
)

// The reader's word tricks: each reads or decides eight bytes of a line at
// once (SWAR, "SIMD within a register") and makes no call, so the parse
// loop that inlines them keeps its values in registers. A word is
// little-endian: its lowest byte is the first in the line. word_test.go
// tests each against the plain loop it replaces.

const (
	lo1 = 0x0101010101010101
	hi8 = 0x8080808080808080
	sp8 = 0x2020202020202020 // eight ' '
	ch0 = 0x3030303030303030 // eight '0'
	hiN = 0xf0f0f0f0f0f0f0f0

	// wordSlack is the bytes after a line that the parser may read: a word
	// loaded at the line's last byte reads seven past it, and the first is
	// set to the space that ends the last token. The reader's buffer keeps
	// them (see Reader.fill).
	wordSlack = 8
)

// spaceBits has the high bit of each byte of w that is a space, and
// perhaps of bytes above the lowest space (a borrow), never below it: its
// lowest set bit is exact, and it is zero only if w has no space.
func spaceBits(w uint64) uint64 {
	x := w ^ sp8
	return (x - lo1) &^ x & hi8
}

// tokenEnd is the offset of the first space at or after j in text, which
// has one at or after j and wordSlack bytes after it (see parse).
func tokenEnd(text []byte, j int) int {
	for {
		if m := spaceBits(loadWord(text, j)); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
}

// digits decodes the first n (1 to 8) bytes of w as decimal digits. It
// reports false if any of them is not a digit.
func digits(w uint64, n int) (uint64, bool) {
	s := uint(64-8*n) & 63
	// The token's bytes moved to the top of the word, behind leading '0's.
	t := w<<s | ch0&^(^uint64(0)<<s)
	// Every byte is '0'..'9' (0x30..0x39) if its high nibble is 3 and adding
	// 6 does not carry it out of 3.
	if (t&hiN)|((t+0x0606060606060606)&hiN)>>4 != 0x3333333333333333 {
		return 0, false
	}
	// Pairs of digits, then of pairs, then of quads: 10a+b, 100ab+cd, ...
	t = (t & 0x0f0f0f0f0f0f0f0f) * 2561 >> 8
	t = (t & 0x00ff00ff00ff00ff) * 6553601 >> 16
	return (t & 0x0000ffff0000ffff) * 42949672960001 >> 32, true
}

// pow10[n] is 10ⁿ, to join the two halves of a 9- to 16-digit integer.
var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// ACCEPT, REJECT and OK as little-endian words of their bytes.
const (
	accept48 = 'A' | 'C'<<8 | 'C'<<16 | 'E'<<24 | 'P'<<32 | 'T'<<40
	reject48 = 'R' | 'E'<<8 | 'J'<<16 | 'E'<<24 | 'C'<<32 | 'T'<<40
	ok16     = 'O' | 'K'<<8
)

// tokenWords are the words that decide whether two tokens of up to
// maxWordsLen bytes are equal: w[k] is bytes 8k to 8k+8, for each whole
// word before the last eight bytes; last is the last eight bytes (a token
// under eight bytes, zero-padded); n is the length.
type tokenWords struct {
	w    [4]uint64
	last uint64
	n    int
}

const maxWordsLen = 40

// wordsOf returns the words of tok, which may be of any length (only its
// first maxWordsLen bytes count: callers check the length). It reads tok
// through a copy, so tok needs no slack.
func wordsOf(tok []byte) tokenWords {
	var b [maxWordsLen + 8]byte
	copy(b[:maxWordsLen], tok)
	tw := tokenWords{n: len(tok)}
	for k := 0; k < len(tw.w) && 8*(k+1) < len(tok); k++ {
		tw.w[k] = binary.LittleEndian.Uint64(b[8*k:])
	}
	tw.last = binary.LittleEndian.Uint64(b[max(min(len(tok), maxWordsLen)-8, 0):])
	return tw
}

// is reports whether tw are the words of the token of tl bytes at offset i
// of text (a line and its slack), whose first word is w and last eight
// bytes wl (see lastWord). It decides tokens of up to 24 bytes with no call
// and no loop, and inlines into the parse loop; a longer token is never a
// match and takes the slow path.
func (tw *tokenWords) is(text []byte, i, tl int, w, wl uint64) bool {
	return tw.n == tl && tw.last == wl && tl <= 24 &&
		(tl <= 8 || tw.w[0] == w && (tl <= 16 || tw.w[1] == loadWord(text, i+8)))
}

// lastWord is the last (up to) eight bytes of the token of tl bytes that
// ends at offset j of text, whose first word is w: for a token under eight
// bytes, w masked to it.
func lastWord(text []byte, j, tl int, w uint64) uint64 {
	if tl >= 8 {
		return loadWord(text, j-8)
	}
	return w & (1<<(uint(tl*8)&63) - 1)
}
