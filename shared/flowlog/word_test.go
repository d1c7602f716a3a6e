package flowlog

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"strings"
	"testing"
)

// spaceBits marks the first space of a word exactly, at its byte's high
// bit, sets no bit below it or outside the bytes' high bits, and is zero
// only for a word without a space: for every choice of which bytes are
// spaces, with the other bytes the values a borrow could confuse.
func TestSpaceBits(t *testing.T) {
	for _, other := range []byte{0, 0x1f, 0x21, 0x7f, 0x80, 0xa0, 0xdf, 0xff, '-', 'a'} {
		for mask := range 256 {
			var b [8]byte
			first := -1
			for k := range b {
				b[k] = other
				if mask&(1<<k) != 0 {
					b[k] = ' '
					if first < 0 {
						first = k
					}
				}
			}
			m := spaceBits(binary.LittleEndian.Uint64(b[:]))
			if m&^hi8 != 0 {
				t.Errorf("spaceBits(%q) = %#x: bits outside the bytes' high bits", b, m)
			}
			if first < 0 {
				if m != 0 {
					t.Errorf("spaceBits(%q) = %#x; want 0", b, m)
				}
				continue
			}
			if got := bits.TrailingZeros64(m) >> 3; got != first {
				t.Errorf("spaceBits(%q): lowest byte %d; want %d", b, got, first)
			}
		}
	}
}

// tokenEnd finds the next space from any offset, as bytes.IndexByte does.
func TestTokenEnd(t *testing.T) {
	line := "2 123456789010 eni-1235b8ca123456789 172.31.16.139 a-token-of-more-than-sixteen-bytes x"
	text := append([]byte(line+" "), "\xff\xff\xff\xff\xff\xff\xff"...) // a line and its slack (see parse)
	for j := 0; j <= len(line); j++ {
		if got, want := tokenEnd(text, j), j+strings.IndexByte(line[j:]+" ", ' '); got != want {
			t.Errorf("tokenEnd(%q, %d) = %d; want %d", line, j, got, want)
		}
	}
}

// digits agrees with strconv for every length and rejects a non-digit in
// any position.
func TestDigits(t *testing.T) {
	for n := 1; n <= 8; n++ {
		for _, s := range []string{"00000000", "99999999", "12345678", "10000000", "00000009", "87654321"} {
			tok := s[:n]
			w := binary.LittleEndian.Uint64([]byte(tok + "\x00 ab\xff-.."[:8-n]))
			v, ok := digits(w, n)
			want, _ := strconv.ParseUint(tok, 10, 64)
			if !ok || v != want {
				t.Errorf("digits(%q) = %d, %v; want %d", tok, v, ok, want)
			}
		}
		for k := 0; k < n; k++ {
			for _, bad := range []byte{'/', ':', ' ', 0, 0xff, 'a', '-'} {
				b := []byte("12345678")
				b[k] = bad
				if v, ok := digits(binary.LittleEndian.Uint64(b), n); ok {
					t.Errorf("digits(%q, %d) = %d, true; want false", b, n, v)
				}
			}
		}
	}
}

// lastWord is the token's last eight bytes, or all of a shorter token
// zero-padded, wherever the token is in the line.
func TestLastWord(t *testing.T) {
	for _, pre := range []string{"", "x ", "abc  "} {
		for n := 1; n <= 20; n++ {
			tok := strings.Repeat("0123456789", 2)[:n]
			text := []byte(pre + tok + " \xff\xfe\xfd\xfc\xfb\xfa\xf9")
			i, j := len(pre), len(pre)+n
			var want [8]byte
			copy(want[:], tok[max(n-8, 0):])
			if got := lastWord(text, j, n, loadWord(text, i)); got != binary.LittleEndian.Uint64(want[:]) {
				t.Errorf("lastWord(%q in %q) = %#x; want the bytes %q", tok, text, got, want)
			}
		}
	}
}

// tokenWords.is tells apart tokens that differ in any one byte, at every
// length it decides (1 to 24) and wherever the token is in the line, and
// says no to longer ones; wordsOf reads the same words as the line does.
func TestTokenWords(t *testing.T) {
	for _, pre := range []string{"", "abc "} {
		for n := 1; n <= maxWordsLen; n++ {
			tok := []byte(strings.Repeat("0123456789abcdef", 3)[:n])
			tw := wordsOf(tok)
			// The token in a line with its slack (see parse).
			text := append(append([]byte(pre), tok...), " \xfe\xfd\xfc\xfb\xfa\xf9\xf8"...)
			i, j := len(pre), len(pre)+n
			is := func() bool {
				w := loadWord(text, i)
				return tw.is(text, i, n, w, lastWord(text, j, n, w))
			}
			if got, want := is(), n <= 24; got != want {
				t.Errorf("n=%d at %d: is(same) = %v; want %v", n, i, got, want)
			}
			for k := i; k < j; k++ {
				text[k] ^= 0x02
				if is() {
					t.Errorf("n=%d at %d: is says equal with byte %d changed", n, i, k)
				}
				if wordsOf(text[i:j]) == tw {
					t.Errorf("n=%d at %d: wordsOf equal with byte %d changed", n, i, k)
				}
				text[k] ^= 0x02
			}
			if !bytes.Equal(text[i:j], tok) {
				t.Fatalf("text %q changed", text)
			}
		}
	}
}
