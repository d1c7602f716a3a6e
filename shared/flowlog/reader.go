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
	r.format = fm
	r.fields = fm.fields
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
		r.buf = make([]byte, bufSize)
	}
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		nb := make([]byte, 2*len(r.buf))
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
	var magic [2]byte
	n, err := io.ReadFull(r.src, magic[:])
	if n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		src := io.MultiReader(bytes.NewReader(magic[:]), r.src)
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
	r.end += copy(r.buf[r.end:], magic[:n])
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

// parse fills rec from one non-empty line in the current format.
func (r *Reader) parse(line []byte, rec *Record) error {
	*rec = Record{}
	if bytes.IndexByte(line, '\t') >= 0 {
		for k, c := range line {
			if c == '\t' {
				line[k] = ' '
			}
		}
	}
	fs := r.fields
	i, n := 0, 0
	for {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			break
		}
		j := i + indexSpace(line[i:])
		if n >= len(fs) {
			return r.countErr(line, n)
		}
		if j-i != 1 || line[i] != '-' {
			if err := r.setField(rec, fs[n], line[i:j]); err != nil {
				return r.fieldErr(fs[n], n, line[i:j], err)
			}
		}
		n++
		i = j
	}
	if n != len(fs) {
		return r.countErr(line, n)
	}
	return nil
}

const (
	lo7 = 0x7f7f7f7f7f7f7f7f
	sp8 = 0x2020202020202020
)

// indexSpace returns the index of the first ' ' in b, or len(b). It tests
// eight bytes at a time.
func indexSpace(b []byte) int {
	k := 0
	for ; k+8 <= len(b); k += 8 {
		x := binary.LittleEndian.Uint64(b[k:]) ^ sp8
		// Exact zero-byte test: the high bit is set only in bytes that are 0.
		m := ^((x&lo7 + lo7) | x | lo7)
		if m != 0 {
			return k + bits.TrailingZeros64(m)/8
		}
	}
	for ; k < len(b); k++ {
		if b[k] == ' ' {
			return k
		}
	}
	return len(b)
}

func (r *Reader) countErr(line []byte, _ int) error {
	got := 0
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			break
		}
		got++
		i += indexSpace(line[i:])
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
	var ip [4]byte
	i := 0
	for k := 0; k < 4; k++ {
		if k > 0 {
			if i >= len(b) || b[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
		st := i
		v := 0
		for i < len(b) && i-st < 3 && b[i] >= '0' && b[i] <= '9' {
			v = v*10 + int(b[i]-'0')
			i++
		}
		if i == st || v > 255 || (i-st > 1 && b[st] == '0') {
			return netip.Addr{}, false
		}
		ip[k] = byte(v)
	}
	if i != len(b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// interner turns repeated byte strings into shared strings without
// allocating: the field's last value, then a direct-mapped cache, then a
// bounded map.
type interner struct {
	last  [numFields]string
	slots [internSlots]string
	m     map[string]string
}

const internSlots = 4096

func (in *interner) get(f Field, b []byte) string {
	if s := in.last[f]; equal(s, b) {
		return s
	}
	h := uint64(len(b)) ^ uint64(f)<<56
	if len(b) >= 8 {
		h ^= binary.LittleEndian.Uint64(b[len(b)-8:])*0x9E3779B97F4A7C15 ^ binary.LittleEndian.Uint64(b)
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	h *= 0xff51afd7ed558ccd
	slot := &in.slots[h>>(64-12)]
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
	in.last[f] = s
	return s
}

// equal is s == string(b), with the common short cases compared a word at
// a time and inline.
func equal(s string, b []byte) bool {
	n := len(b)
	if len(s) != n {
		return false
	}
	if n >= 8 && n <= 16 {
		p := unsafe.StringData(s)
		return *(*uint64)(unsafe.Pointer(p)) == binary.LittleEndian.Uint64(b) &&
			*(*uint64)(unsafe.Add(unsafe.Pointer(p), n-8)) == binary.LittleEndian.Uint64(b[n-8:])
	}
	return s == string(b)
}

// addrCache remembers the last few addresses parsed, so the packet-level
// addresses that repeat srcaddr and dstaddr cost a compare, not a parse.
type addrCache struct {
	next int
	ent  [4]struct {
		n   int
		tok [40]byte
		a   netip.Addr
	}
}

func (c *addrCache) parse(tok []byte) (netip.Addr, error) {
	for k := range c.ent {
		e := &c.ent[k]
		if e.n == len(tok) && string(e.tok[:e.n]) == string(tok) {
			return e.a, nil
		}
	}
	a, err := parseAddr(tok)
	if err != nil || len(tok) > len(c.ent[0].tok) {
		return a, err
	}
	e := &c.ent[c.next&3]
	c.next++
	e.n = copy(e.tok[:], tok)
	e.a = a
	return a, nil
}
