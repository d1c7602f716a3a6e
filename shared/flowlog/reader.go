package flowlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"unsafe"

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
	format *Format
	fields []Field
	line   int
	recLn  int
	in     interner
}

// NewReader returns a Reader of r in the default (v2) format. Gzip input is
// detected and decompressed transparently.
func NewReader(r io.Reader) *Reader {
	rd := &Reader{src: r, sniff: true}
	rd.SetFormat(MustParseFormat(DefaultFormat))
	return rd
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
		if err != io.EOF && err != io.ErrUnexpectedEOF {
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
		zr, zerr := gzip.NewReader(io.MultiReader(bytes.NewReader(magic[:]), r.src))
		if zerr != nil {
			r.eof, r.ioErr = true, fmt.Errorf("gzip: %w: %w", ErrCorruptStream, zerr)
			return
		}
		r.gz = zr
		r.src = zr
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
	if r.gz != nil && !errors.Is(err, ErrCorruptStream) {
		var ioe interface{ Timeout() bool }
		if !errors.As(err, &ioe) {
			return fmt.Errorf("gzip after line %d: %w: %w", r.line, ErrCorruptStream, err)
		}
	}
	return err
}

// parse fills rec from one non-empty line in the current format.
func (r *Reader) parse(line []byte, rec *Record) error {
	*rec = Record{}
	fs := r.fields
	i, n := 0, 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		if n >= len(fs) {
			return r.countErr(line, n)
		}
		if err := r.setField(rec, fs[n], line[i:j]); err != nil {
			return r.fieldErr(fs[n], n, line[i:j], err)
		}
		n++
		i = j
	}
	if n != len(fs) {
		return r.countErr(line, n)
	}
	return nil
}

func (r *Reader) countErr(line []byte, _ int) error {
	got := 0
	for i := 0; i < len(line); {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		got++
		for i < len(line) && !isSpace(line[i]) {
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
	if len(tok) == 1 && tok[0] == '-' {
		return nil
	}
	var err error
	switch f {
	case FieldUnknown:
		return nil
	case FieldVersion:
		var v uint64
		v, err = parseUint(tok, 1<<31-1)
		if err == nil && v < 2 {
			err = ErrVersion
		}
		rec.Version = int32(v)
	case FieldAccountID:
		rec.AccountID = r.in.get(f, tok)
	case FieldInterfaceID:
		rec.InterfaceID = r.in.get(f, tok)
	case FieldSrcAddr:
		rec.SrcAddr, err = parseAddr(tok)
	case FieldDstAddr:
		rec.DstAddr, err = parseAddr(tok)
	case FieldSrcPort:
		var v uint64
		v, err = parseUint(tok, 65535)
		rec.SrcPort = uint16(v)
	case FieldDstPort:
		var v uint64
		v, err = parseUint(tok, 65535)
		rec.DstPort = uint16(v)
	case FieldProtocol:
		var v uint64
		v, err = parseUint(tok, 255)
		rec.Protocol = uint8(v)
	case FieldPackets:
		rec.Packets, err = parseInt64(tok)
	case FieldBytes:
		rec.Bytes, err = parseInt64(tok)
	case FieldStart:
		rec.Start, err = parseInt64(tok)
	case FieldEnd:
		rec.End, err = parseInt64(tok)
	case FieldAction:
		switch string(tok) {
		case "ACCEPT":
			rec.Action = ActionAccept
		case "REJECT":
			rec.Action = ActionReject
		default:
			err = ErrAction
		}
	case FieldLogStatus:
		switch string(tok) {
		case "OK":
			rec.LogStatus = LogStatusOK
		case "NODATA":
			rec.LogStatus = LogStatusNoData
		case "SKIPDATA":
			rec.LogStatus = LogStatusSkipData
		default:
			err = ErrLogStatus
		}
	case FieldTCPFlags:
		rec.TCPFlags, err = parseInt32(tok)
	case FieldTrafficPath:
		rec.TrafficPath, err = parseInt32(tok)
	case FieldEncryptionStatus:
		rec.EncryptionStatus, err = parseInt32(tok)
	case FieldPktSrcAddr:
		rec.PktSrcAddr, err = parseAddr(tok)
	case FieldPktDstAddr:
		rec.PktDstAddr, err = parseAddr(tok)
	case FieldPacketsLostNoRoute:
		rec.PacketsLostNoRoute, err = parseInt64(tok)
	case FieldPacketsLostBlackhole:
		rec.PacketsLostBlackhole, err = parseInt64(tok)
	case FieldPacketsLostMTUExceeded:
		rec.PacketsLostMTUExceeded, err = parseInt64(tok)
	case FieldPacketsLostTTLExpired:
		rec.PacketsLostTTLExpired, err = parseInt64(tok)
	default:
		p := rec.strField(f)
		if p == nil {
			return nil
		}
		*p = r.in.get(f, tok)
	}
	if err != nil {
		return err
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
// allocating: a one-entry cache per field, then a bounded map.
type interner struct {
	last [numFields]string
	m    map[string]string
}

func (in *interner) get(f Field, b []byte) string {
	if s := in.last[f]; s == string(b) {
		return s
	}
	s, ok := in.m[string(b)]
	if !ok {
		s = string(b)
		if in.m == nil {
			in.m = make(map[string]string, 256)
		}
		if len(in.m) < maxIntern {
			in.m[s] = s
		}
	}
	in.last[f] = s
	return s
}
