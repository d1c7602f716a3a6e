package flowlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"unsafe"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// Errors a *ParseError wraps. Compare with errors.Is.
var (
	ErrFieldCount    = errors.New("wrong number of fields")
	ErrSyntax        = errors.New("not a non-negative integer")
	ErrRange         = errors.New("value out of range")
	ErrAddr          = errors.New("not an IPv4 or IPv6 address")
	ErrAction        = errors.New("action not ACCEPT or REJECT")
	ErrLogStatus     = errors.New("log-status not OK, NODATA or SKIPDATA")
	ErrVersion       = errors.New("version below 2")
	ErrLineTooLong   = errors.New("line too long")
	ErrCorruptStream = errors.New("corrupt compressed stream")
)

// ParseError is a line that could not be read as a record. The reader goes
// on with the next line: a bad line never stops the good ones around it.
type ParseError struct {
	Line   int    // 1-based line number in the input (header lines count)
	Column int    // 1-based position of the field in the line, 0 if none
	Field  string // the field's AWS name, "" if the error is about the line
	Err    error  // one of the Err* sentinels
	Value  string // the offending value, truncated, "" if none
}

func (e *ParseError) Error() string {
	var b []byte
	b = fmt.Appendf(b, "line %d: ", e.Line)
	if e.Field != "" {
		b = fmt.Appendf(b, "%s: ", e.Field)
	}
	b = append(b, e.Err.Error()...)
	if e.Value != "" {
		b = fmt.Appendf(b, " (%q)", e.Value)
	}
	return string(b)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Reader limits.
const (
	// MaxLineBytes is the longest line the reader accepts; a longer line is
	// reported as ErrLineTooLong and skipped. CloudWatch Logs events are at
	// most 256 KiB.
	MaxLineBytes = 1 << 20
	// maxIntern bounds the reader's table of interned strings, so hostile
	// input with unique values costs allocations but never unbounded memory.
	maxIntern = 1 << 16
	bufSize   = 256 << 10
)

// Reader reads flow-log records from text, plain or gzip, one line at a time.
// A header line (the bare field names, as at the top of every S3 text file)
// sets the format for the lines after it and is never returned as a record.
// Empty lines are skipped.
type Reader struct {
	src    io.Reader
	buf    []byte
	start  int // next unread byte in buf
	end    int // end of valid data in buf
	eof    bool
	ioErr  error
	sniff  bool // first fill still to check for gzip
	gz     *gzip.Reader
	zipped bool // src is r.gz
	format *Format
	fields []Field
	plan   []step
	hops   int    // of the line being parsed, from parseFrom to parseSlow
	pad    []byte // a copy of a line without wordSlack, for parse
	line   int
	recLn  int
	in     interner
	addrs  addrCache
}

// NewReader returns a Reader of r in the default (v2) format. Gzip input is
// detected and decompressed transparently.
func NewReader(r io.Reader) *Reader {
	rd := &Reader{src: r, sniff: true}
	rd.SetFormat(MustParseFormat(DefaultFormat))
	return rd
}

// Reset makes r read from src as if new, keeping its buffer, its interned
// strings and its format.
func (r *Reader) Reset(src io.Reader) {
	r.src, r.sniff, r.eof, r.ioErr, r.zipped = src, true, false, nil, false
	r.start, r.end, r.line, r.recLn = 0, 0, 0, 0
}

// SetFormat sets the format of the lines that follow, until a header line
// says otherwise.
func (r *Reader) SetFormat(fm *Format) {
	same := r.format != nil && (fm == r.format || fm.Equal(r.format))
	r.format = fm
	r.fields = fm.fields
	if !same { // else the plan and its tables of recent values stay warm
		r.plan = compile(fm.fields)
	}
}

// Format returns the format in effect: the one set, or the last header's.
func (r *Reader) Format() *Format { return r.format }

// Line returns the line number of the record (or error) last returned.
func (r *Reader) Line() int { return r.recLn }

// Read reads the next record. At the end of input it returns io.EOF. A line
// that does not parse gives a *ParseError, and the next call goes on with the
// next line. Any other error is an I/O error and is final.
func (r *Reader) Read() (Record, error) {
	var rec Record
	err := r.ReadInto(&rec)
	return rec, err
}

// ReadInto is Read into a caller's Record, which it resets first. It is the
// allocation-free form for hot loops.
func (r *Reader) ReadInto(rec *Record) error {
	for {
		line, err := r.readLine()
		if err != nil {
			if err == errTooLong {
				return &ParseError{Line: r.recLn, Err: ErrLineTooLong}
			}
			return err
		}
		line = trimSpace(line)
		if len(line) == 0 {
			continue
		}
		if c := line[0]; c >= 'a' && c <= 'z' {
			if fm, ok := parseHeader(line); ok {
				r.SetFormat(fm)
				continue
			}
		}
		return r.parse(line, rec)
	}
}

var errTooLong = errors.New("line too long")

// readLine returns the next line without its '\n'. The slice is valid until
// the next call.
func (r *Reader) readLine() ([]byte, error) {
	skipping := false
	for {
		if i := bytes.IndexByte(r.buf[r.start:r.end], '\n'); i >= 0 {
			line := r.buf[r.start : r.start+i]
			r.start += i + 1
			r.line++
			r.recLn = r.line
			if skipping {
				return nil, errTooLong
			}
			return line, nil
		}
		if r.eof {
			if r.start < r.end {
				line := r.buf[r.start:r.end]
				r.start = r.end
				r.line++
				r.recLn = r.line
				if skipping {
					return nil, errTooLong
				}
				return line, nil
			}
			if skipping {
				r.line++
				r.recLn = r.line
				return nil, errTooLong
			}
			if r.ioErr != nil {
				return nil, r.ioErr
			}
			return nil, io.EOF
		}
		if r.end-r.start >= MaxLineBytes {
			// Drop what we have of the overlong line and keep looking for its end.
			skipping = true
			r.start, r.end = 0, 0
		}
		r.fill()
	}
}

// fill reads more input, growing the buffer for long lines.
func (r *Reader) fill() {
	if r.buf == nil {
		r.buf = make([]byte, bufSize, bufSize+wordSlack)
	}
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		nb := make([]byte, 2*len(r.buf), 2*len(r.buf)+wordSlack)
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	if r.sniff {
		r.sniff = false
		r.sniffGzip()
		if r.eof {
			return
		}
	}
	n, err := io.ReadAtLeast(r.src, r.buf[r.end:], 1)
	r.end += n
	if err != nil {
		r.eof = true
		if err != io.EOF {
			r.ioErr = r.wrapIOErr(err)
		}
	}
}

// sniffGzip reads the first bytes and switches to gzip decoding when they
// are the gzip magic number.
func (r *Reader) sniffGzip() {
	// Read into the buffer (empty: sniffing is the first fill after New or
	// Reset): a local array would escape, an allocation per stream.
	magic := r.buf[r.end : r.end+2]
	n, err := io.ReadFull(r.src, magic)
	if n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		src := io.MultiReader(bytes.NewReader([]byte{0x1f, 0x8b}), r.src)
		var zerr error
		if r.gz == nil {
			r.gz, zerr = gzip.NewReader(src)
		} else {
			zerr = r.gz.Reset(src)
		}
		if zerr != nil {
			r.eof, r.ioErr = true, fmt.Errorf("gzip: %w: %w", ErrCorruptStream, zerr)
			return
		}
		r.src = r.gz
		r.zipped = true
		return
	}
	r.end += n // already in place
	if err != nil {
		r.eof = true
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			r.ioErr = err
		}
	}
}

func (r *Reader) wrapIOErr(err error) error {
	if !r.zipped {
		return err
	}
	var ce flate.CorruptInputError
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ce) {
		return fmt.Errorf("gzip after line %d: %w: %w", r.line, ErrCorruptStream, err)
	}
	return fmt.Errorf("gzip after line %d: %w", r.line, err)
}

// step is one field of the current format, precompiled for parse.
type step struct {
	off  uintptr              // of the field in Record
	max  uint64               // for integers: the largest value allowed
	tab  *[recentSlots]recent // for strings: the field's recent values
	bit  FieldSet
	kind Kind
	f    Field
}

// compile returns the plan of a format: a step per field, and past its
// length (within its capacity) a last step of kindEnd.
func compile(fs []Field) []step {
	plan := make([]step, len(fs), len(fs)+1)
	plan[:len(fs)+1][len(fs)] = step{kind: kindEnd}
	for i, f := range fs {
		st := step{f: f, kind: f.Kind(), off: fieldOffset[f], bit: 1 << f}
		switch st.kind {
		case KindPort:
			st.max = 65535
		case KindProtocol:
			st.max = 255
		case KindInt32:
			st.max = 1<<31 - 1
		case KindInt64:
			st.max = 1<<63 - 1
		}
		if f == FieldUnknown || f == FieldVersion {
			st.kind = kindSlow // unknown columns are skipped; version has a lower bound
		}
		if f == FieldVersion {
			st.kind = kindVersion
		}
		plan[i] = st
	}
	// A table of recent values for each string field, in one allocation.
	ns := 0
	for _, st := range plan {
		if st.kind == KindString {
			ns++
		}
	}
	tabs := make([][recentSlots]recent, ns)
	for i := range plan {
		if plan[i].kind == KindString {
			plan[i].tab = &tabs[0]
			tabs = tabs[1:]
		}
	}
	return plan
}

// Step kinds beyond the field kinds: kindSlow always takes setField;
// kindVersion is an int32 of at least 2; kindEnd ends a plan.
const (
	kindSlow    Kind = 255
	kindVersion Kind = 254
	kindEnd     Kind = 253 // past the last field
)

// parse fills rec from one non-empty line in the current format.
//
// It walks the line a word (eight bytes) at a time: one word finds the end
// of most tokens and holds the whole of any integer of up to eight digits,
// which is then decoded without a loop. Loads may run up to seven bytes past
// the line, into the slack every line from readLine has (see fill); a line
// without that slack is copied first.
func (r *Reader) parse(line []byte, rec *Record) error {
	*rec = Record{}
	if cap(line)-len(line) < wordSlack {
		r.pad = append(append(r.pad[:0], line...), make([]byte, wordSlack)...)
		line = r.pad[:len(line)]
	}
	// A space just past the line ends the last token like the others. The
	// byte is the line's own '\n', trailing space or slack.
	*(*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(line)), len(line))) = ' '
	r.hops = 0
	return r.parseFrom(line, rec, 0, 0)
}

// maxHops bounds how many times one line goes from parseFrom to parseSlow
// and back, and so the depth of the calls.
const maxHops = 64

// parseFrom is parse from field k, at offset i of line. Its loop makes no
// call that must return to it, so its values stay in registers: a token it
// cannot finish goes to parseSlow, which comes back with another call.
//
// It keeps few values live (the step, not the plan and an index; the set of
// fields in rec, not in a register) so that they fit in registers.
func (r *Reader) parseFrom(line []byte, rec *Record, k, i int) error {
	base := unsafe.Pointer(rec)
	lp := unsafe.Pointer(unsafe.SliceData(line))
	n := len(line)
	// k <= len(r.plan), and the plan's capacity holds its kindEnd step.
	st := (*step)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(r.plan)), uintptr(k)*unsafe.Sizeof(step{})))
	// line is trimmed: it starts and ends with a non-space.
	for ; st.kind != kindEnd; st = (*step)(unsafe.Add(unsafe.Pointer(st), unsafe.Sizeof(step{}))) {
		if i >= n {
			return r.short(line, rec)
		}
		w := load64(lp, i)
		m := spaceBits(w)
		for m&0x80 != 0 { // a run of spaces
			i++
			w = load64(lp, i)
			m = spaceBits(w)
		}
		var j int
		if m != 0 {
			j = i + bits.TrailingZeros64(m)>>3
		} else {
			j = tokenEnd(lp, i+8)
		}
		tl := j - i
		tp := unsafe.Add(lp, i) // the token: tl bytes, 0 < tl
		i = j + 1
		if tl == 1 && byte(w) == '-' {
			continue
		}
		p := unsafe.Add(base, st.off)
		switch st.kind {
		case KindString:
			// A small per-field table indexed by the token's last bytes
			// (ids end in random hex) catches most repeats cheaply.
			// The entry holds the value's words, so a hit reads no
			// string memory.
			wl := lastWord(lp, j, tl, w)
			if e := &st.tab[recentIndex(wl)]; e.tw.is(tp, tl, w, wl) {
				*(*string)(p) = e.s
				rec.Set |= st.bit
				continue
			}
		case KindInt64, KindInt32, KindPort, KindProtocol:
			var v uint64
			ok := false
			if tl <= 8 {
				v, ok = digits(w, tl)
			} else if tl <= 16 {
				var lo uint64
				v, ok = digits(w, 8)
				lo, ok2 := digits(load64(lp, j-tl+8), tl-8)
				v, ok = v*pow10[tl-8]+lo, ok && ok2
			}
			if ok && v <= st.max {
				switch st.kind {
				case KindInt64:
					*(*int64)(p) = int64(v)
				case KindPort:
					*(*uint16)(p) = uint16(v)
				case KindProtocol:
					*(*uint8)(p) = uint8(v)
				default:
					*(*int32)(p) = int32(v)
				}
				rec.Set |= st.bit
				continue
			}
		case kindVersion:
			if tl == 1 && byte(w) >= '2' && byte(w) <= '9' {
				*(*int32)(p) = int32(byte(w) - '0')
				rec.Set |= st.bit
				continue
			}
		case KindAction:
			if tl == 6 {
				if w&(1<<48-1) == accept48 {
					rec.Action = ActionAccept
					rec.Set |= st.bit
					continue
				}
				if w&(1<<48-1) == reject48 {
					rec.Action = ActionReject
					rec.Set |= st.bit
					continue
				}
			}
		case KindLogStatus:
			if tl == 2 && uint16(w) == 'O'|'K'<<8 {
				rec.LogStatus = LogStatusOK
				rec.Set |= st.bit
				continue
			}
		case KindAddr:
			if ent := r.addrs.ent; ent != nil {
				wl := lastWord(lp, j, tl, w)
				if e := &ent[addrIndex(wl)]; e.tw.is(tp, tl, w, wl) {
					*(*netip.Addr)(p) = e.a
					rec.Set |= st.bit
					continue
				}
			}
		}
		k := int((uintptr(unsafe.Pointer(st)) - uintptr(unsafe.Pointer(unsafe.SliceData(r.plan)))) / unsafe.Sizeof(step{}))
		return r.parseSlow(line, rec, k, int(uintptr(tp)-uintptr(lp)))
	}
	if i <= n { // a space and more tokens follow the last field
		return r.short(line, rec)
	}
	return nil
}

// short handles a line with too few or too many fields: it may have tabs.
func (r *Reader) short(line []byte, rec *Record) error {
	if detab(line) {
		return r.parse(line, rec)
	}
	return r.countErr(line)
}

// parseSlow reads field k, whose token is at offset i, then goes back to
// parseFrom for the rest of the line (or, after maxHops, reads it itself).
// It takes cache misses, enums, unknown columns, long integers, every error,
// and tabs: a tab is a separator too, but rare enough to look for only
// here. No fast path accepts a token with a tab in it, and no string with a
// tab is ever interned.
func (r *Reader) parseSlow(line []byte, rec *Record, k, i int) error {
	plan := r.plan
	n := len(line)
	for first := true; k < len(plan); k, first = k+1, false {
		if !first && r.hops < maxHops && plan[k].kind != kindSlow {
			r.hops++
			return r.parseFrom(line, rec, k, i)
		}
		if i >= n {
			return r.short(line, rec)
		}
		for line[i] == ' ' { // a run of spaces; line[n] is a space
			i++
		}
		j := i + bytes.IndexByte(line[i:n+1], ' ')
		tok := line[i:j]
		i = j + 1
		if len(tok) == 1 && tok[0] == '-' {
			continue
		}
		if bytes.IndexByte(tok, '\t') >= 0 && detab(line) {
			return r.parse(line, rec)
		}
		st := &plan[k]
		if st.kind == KindString {
			tw := wordsOf(tok)
			e := &st.tab[recentIndex(tw.last)]
			e.s, e.tw = r.in.get(st.f, tok), tw // tw.is refuses tokens too long for it
			*(*string)(unsafe.Add(unsafe.Pointer(rec), st.off)) = e.s
			rec.Set |= st.bit
		} else if err := r.setField(rec, st.f, tok); err != nil {
			return r.fieldErr(st.f, k, tok, err)
		}
	}
	if i <= n {
		return r.short(line, rec)
	}
	return nil
}

// detab replaces every tab in line with a space and reports whether there
// was any.
func detab(line []byte) bool {
	if bytes.IndexByte(line, '\t') < 0 {
		return false
	}
	for k, c := range line {
		if c == '\t' {
			line[k] = ' '
		}
	}
	return true
}

const (
	lo1 = 0x0101010101010101
	hi8 = 0x8080808080808080
	sp8 = 0x2020202020202020
	ch0 = 0x3030303030303030 // eight '0'
	hiN = 0xf0f0f0f0f0f0f0f0

	// wordSlack is the readable bytes parse needs past a line's end.
	wordSlack = 8
)

// load64 is the little-endian word at p+i, unaligned. The caller
// guarantees eight readable bytes.
func load64(p unsafe.Pointer, i int) uint64 {
	v := *(*uint64)(unsafe.Add(p, i))
	if bigEndian {
		v = bits.ReverseBytes64(v)
	}
	return v
}

// spaceBits has the high bit of each byte of w that is a space, and
// perhaps of bytes above the lowest space (a borrow), never below it: its
// lowest set bit is exact, and it is zero only if w has no space.
func spaceBits(w uint64) uint64 {
	x := w ^ sp8
	return (x - lo1) &^ x & hi8
}

// tokenEnd is the offset of the first space at or after j in the line at
// lp, which ends in one.
func tokenEnd(lp unsafe.Pointer, j int) int {
	for {
		if m := spaceBits(load64(lp, j)); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
}

// digits decodes the first n (1 to 8) bytes of w, little-endian, as decimal
// digits. It reports false if any of them is not a digit.
func digits(w uint64, n int) (uint64, bool) {
	s := uint(64-8*n) & 63
	// The token's bytes moved to the top of the word, behind leading '0's.
	t := w<<s | ch0&^(^uint64(0)<<s)
	if (t&hiN)|((t+0x0606060606060606)&hiN)>>4 != 0x3333333333333333 {
		return 0, false
	}
	t = (t & 0x0f0f0f0f0f0f0f0f) * 2561 >> 8
	t = (t & 0x00ff00ff00ff00ff) * 6553601 >> 16
	return (t & 0x0000ffff0000ffff) * 42949672960001 >> 32, true
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// ACCEPT and REJECT as little-endian six-byte words.
const (
	accept48 = 'A' | 'C'<<8 | 'C'<<16 | 'E'<<24 | 'P'<<32 | 'T'<<40
	reject48 = 'R' | 'E'<<8 | 'J'<<16 | 'E'<<24 | 'C'<<32 | 'T'<<40
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

// is reports whether tw are the words of the token of tl bytes at tp (in a
// line, with slack), whose first word is w and last eight bytes wl (see
// lastWord). It decides tokens of up to 24 bytes, without a call or a
// loop (parse's loop inlines it); longer tokens are never a match, and
// take the slow path.
func (tw *tokenWords) is(tp unsafe.Pointer, tl int, w, wl uint64) bool {
	return tw.n == tl && tw.last == wl && tl <= 24 && (tl <= 8 || tw.w[0] == w && (tl <= 16 || tw.w[1] == load64(tp, 8)))
}

// recent is an entry of a string field's table of recent values: the
// value and its words, so that a hit reads no string memory.
type recent struct {
	s  string
	tw tokenWords
}

// lastWord is the last (up to) eight bytes of a token of tl bytes ending
// at j, whose first word is w: for tokens under eight bytes, w masked to
// them.
func lastWord(lp unsafe.Pointer, j, tl int, w uint64) uint64 {
	if tl >= 8 {
		return load64(lp, j-8)
	}
	return w & (1<<(uint(tl*8)&63) - 1)
}

// recentIndex picks a token's slot in a field's table of recent values
// from its last word (ids end in random hex).
func recentIndex(wl uint64) uint64 {
	return (wl * 0x9E3779B97F4A7C15) >> (64 - recentBits)
}

func (r *Reader) countErr(line []byte) error {
	got := 0
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			break
		}
		got++
		for i < len(line) && line[i] != ' ' {
			i++
		}
	}
	return &ParseError{Line: r.recLn, Err: fmt.Errorf("%w: got %d, want %d", ErrFieldCount, got, len(r.fields))}
}

func (r *Reader) fieldErr(f Field, n int, tok []byte, err error) error {
	name := f.String()
	if f == FieldUnknown {
		name = r.format.names[n]
	}
	v := tok
	if len(v) > 64 {
		v = v[:64]
	}
	return &ParseError{Line: r.recLn, Column: n + 1, Field: name, Err: err, Value: string(v)}
}

// setField parses tok as field f into rec. "-" is null for every field.
func (r *Reader) setField(rec *Record, f Field, tok []byte) error {
	if f == FieldUnknown {
		return nil
	}
	p := rec.ptr(f)
	switch fields[f].kind {
	case KindString:
		*(*string)(p) = r.in.get(f, tok)
	case KindAddr:
		a, err := r.addrs.parse(tok)
		if err != nil {
			return err
		}
		*(*netip.Addr)(p) = a
	case KindInt64:
		v, err := parseUint(tok, 1<<63-1)
		if err != nil {
			return err
		}
		*(*int64)(p) = int64(v)
	case KindPort:
		v, err := parseUint(tok, 65535)
		if err != nil {
			return err
		}
		*(*uint16)(p) = uint16(v)
	case KindProtocol:
		v, err := parseUint(tok, 255)
		if err != nil {
			return err
		}
		*(*uint8)(p) = uint8(v)
	case KindInt32:
		v, err := parseUint(tok, 1<<31-1)
		if err != nil {
			return err
		}
		if f == FieldVersion && v < 2 {
			return ErrVersion
		}
		*(*int32)(p) = int32(v)
	case KindAction:
		switch string(tok) {
		case "ACCEPT":
			rec.Action = ActionAccept
		case "REJECT":
			rec.Action = ActionReject
		default:
			return ErrAction
		}
	case KindLogStatus:
		switch string(tok) {
		case "OK":
			rec.LogStatus = LogStatusOK
		case "NODATA":
			rec.LogStatus = LogStatusNoData
		case "SKIPDATA":
			rec.LogStatus = LogStatusSkipData
		default:
			return ErrLogStatus
		}
	}
	rec.Set |= 1 << f
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// parseUint parses decimal digits into a value no greater than max.
func parseUint(b []byte, max uint64) (uint64, error) {
	if len(b) == 0 {
		return 0, ErrSyntax
	}
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	if len(b) > 19 {
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, ErrSyntax
			}
		}
		return 0, ErrRange
	}
	var v uint64
	for _, c := range b {
		c -= '0'
		if c > 9 {
			return 0, ErrSyntax
		}
		v = v*10 + uint64(c)
	}
	if v > max {
		return 0, ErrRange
	}
	return v, nil
}

func parseInt64(b []byte) (int64, error) {
	v, err := parseUint(b, 1<<63-1)
	return int64(v), err
}

func parseInt32(b []byte) (int32, error) {
	v, err := parseUint(b, 1<<31-1)
	return int32(v), err
}

// parseAddr parses an IPv4 address on a fast path and anything else with
// netip. Zones are refused: flow logs never carry them.
func parseAddr(b []byte) (netip.Addr, error) {
	if a, ok := parseIPv4(b); ok {
		return a, nil
	}
	if len(b) == 0 || bytes.IndexByte(b, ':') < 0 || bytes.IndexByte(b, '%') >= 0 {
		return netip.Addr{}, ErrAddr
	}
	a, err := netip.ParseAddr(unsafe.String(&b[0], len(b)))
	if err != nil {
		return netip.Addr{}, ErrAddr
	}
	return a, nil
}

// parseIPv4 parses dotted-quad IPv4 with netip's rules (no leading zeros).
func parseIPv4(b []byte) (netip.Addr, bool) {
	if len(b) < 7 || len(b) > 15 {
		return netip.Addr{}, false
	}
	var ip, v uint32
	digits, dots := 0, 0
	for _, c := range b {
		if c == '.' {
			if digits == 0 || v > 255 {
				return netip.Addr{}, false
			}
			ip, v, digits = ip<<8|v, 0, 0
			dots++
			continue
		}
		d := uint32(c - '0')
		if d > 9 || (digits > 0 && v == 0) {
			return netip.Addr{}, false
		}
		v = v*10 + d
		digits++
	}
	if dots != 3 || digits == 0 || v > 255 {
		return netip.Addr{}, false
	}
	ip = ip<<8 | v
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), true
}

// interner turns repeated byte strings into shared strings without
// allocating: a direct-mapped cache, then a bounded map. In front of it
// parse keeps a small table of recent values per string field (step.tab).
type interner struct {
	slots [internSlots]string
	m     map[string]string
}

const (
	internSlots = 4096
	recentBits  = 8
	recentSlots = 1 << recentBits
)

func (in *interner) get(f Field, b []byte) string {
	slot := &in.slots[hashBytes(b, uint64(f))>>(64-12)]
	s := *slot
	if !equal(s, b) {
		var ok bool
		s, ok = in.m[string(b)]
		if !ok {
			s = string(b)
			if in.m == nil {
				in.m = make(map[string]string, 256)
			}
			if len(in.m) < maxIntern {
				in.m[s] = s
			}
		}
		*slot = s
	}
	return s
}

// equal is s == string(b), comparing a word at a time without a call for
// strings of 8 to 32 bytes, the length of AWS ids.
func equal(s string, b []byte) bool {
	n := len(b)
	if len(s) != n {
		return false
	}
	if n < 8 || n > 32 {
		return s == string(b)
	}
	p := unsafe.Pointer(unsafe.StringData(s))
	q := unsafe.Pointer(unsafe.SliceData(b))
	for k := 0; k < n-8; k += 8 {
		if *(*uint64)(unsafe.Add(p, k)) != *(*uint64)(unsafe.Add(q, k)) {
			return false
		}
	}
	return *(*uint64)(unsafe.Add(p, n-8)) == *(*uint64)(unsafe.Add(q, n-8))
}

// addrCache maps address tokens to parsed addresses in a direct-mapped
// table. Flow logs repeat addresses heavily: one end of every record is the
// interface's own address, and pkt-srcaddr/pkt-dstaddr mostly repeat
// srcaddr/dstaddr.
type addrCache struct {
	ent *[addrSlots]addrEntry
}

type addrEntry struct {
	tw tokenWords // of the token
	a  netip.Addr
}

const addrSlots = 1024

// addrIndex picks a token's slot in the address cache from its last word.
func addrIndex(wl uint64) uint64 {
	return (wl * 0xC2B2AE3D27D4EB4F) >> (64 - 10)
}

func (c *addrCache) parse(tok []byte) (netip.Addr, error) {
	if c.ent == nil {
		c.ent = new([addrSlots]addrEntry)
	}
	tw := wordsOf(tok)
	e := &c.ent[addrIndex(tw.last)]
	if len(tok) <= maxWordsLen && e.tw == tw {
		return e.a, nil
	}
	a, err := parseAddr(tok)
	if err != nil || len(tok) > maxWordsLen {
		return a, err
	}
	e.tw, e.a = tw, a
	return a, nil
}

// hashBytes is a fast hash of short byte strings, seeded with seed. Ids
// and addresses differ most in their last bytes, so it mixes the last
// eight with the length; collisions only cost a miss, never a wrong value.
func hashBytes(b []byte, seed uint64) uint64 {
	h := uint64(len(b))<<56 ^ seed<<48
	if len(b) >= 8 {
		h ^= binary.LittleEndian.Uint64(b[len(b)-8:])
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	return h * 0x9E3779B97F4A7C15
}
