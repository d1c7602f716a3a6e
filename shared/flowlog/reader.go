package flowlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/flowlake/flowlake/shared/inflate"
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
	ErrCorruptStream = inflate.ErrCorrupt // a damaged gzip stream
)

// ParseError is a line that could not be read as a record. The reader goes
// on with the next line: a bad line never stops the good ones around it.
//
// Like encoding/csv's ParseError it gives the line and the column, where
// a column is a field of the line: column 5 of a default-format line is
// its dstaddr, whatever the widths of the fields before it.
type ParseError struct {
	Line   int    // 1-based line number in the input (header lines count)
	Column int    // 1-based position of the field among the line's fields, 0 if the error is about the line
	Field  string // the field's name in the format, "" if the error is about the line
	Err    error  // one of the Err* sentinels
	Value  string // the offending value, truncated, "" if none
}

// Error returns "line L, column C: FIELD: reason (VALUE)", or "line L:
// reason" for an error about the whole line (its field count, its length).
func (e *ParseError) Error() string {
	b := fmt.Appendf(nil, "line %d", e.Line)
	if e.Column > 0 {
		b = fmt.Appendf(b, ", column %d", e.Column)
	}
	b = append(b, ": "...)
	if e.Field != "" {
		b = append(append(b, e.Field...), ": "...)
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
	bufSize      = 256 << 10
)

// Reader reads flow-log records from text, plain or gzip, one line at a time.
// A header line (the bare field names, as at the top of every S3 text file)
// sets the format for the lines after it and is never returned as a record.
// Empty lines are skipped.
type Reader struct {
	src     io.Reader
	buf     []byte
	start   int // next unread byte in buf
	end     int // end of valid data in buf
	eof     bool
	ioErr   error
	text    inflate.Reader // the input, inflated if it is gzip; src is &text
	format  *Format
	known   FieldSet // the format's set, without FieldExtra: a record's set before its '-' fields leave it
	fields  []Field
	plan    []step // compiled from format
	hops    int    // of the line being parsed, from parseFrom to parseSlow
	line    int    // lines read
	recLn   int    // the line of the record (or error) last returned
	headers int    // header lines read
	in      interner
	addrs   addrCache
	extra   []byte // the unknown columns of the line being parsed (see parse)
}

// NewReader returns a Reader of r in the default (v2) format. Gzip input is
// detected and decompressed transparently.
func NewReader(r io.Reader) *Reader {
	rd := &Reader{}
	rd.text.Reset(r)
	rd.src = &rd.text
	rd.SetFormat(MustParseFormat(DefaultFormat))
	return rd
}

// Reset makes r read from src as if new, keeping its buffer, its interned
// strings and its format.
func (r *Reader) Reset(src io.Reader) {
	r.text.Reset(src)
	r.src, r.eof, r.ioErr = &r.text, false, nil
	r.start, r.end, r.line, r.recLn, r.headers = 0, 0, 0, 0, 0
}

// SetFormat sets the format of the lines that follow, until a header line
// says otherwise. A format Equal to the one in effect changes nothing:
// Format keeps returning the one in effect, and its compiled plan and
// tables of recent values stay warm.
func (r *Reader) SetFormat(fm *Format) {
	if r.format != nil && (fm == r.format || fm.Equal(r.format)) {
		return
	}
	r.format, r.fields, r.plan = fm, fm.fields, compile(fm.fields)
	r.known = fm.set.Without(FieldExtra)
}

// Format returns the format in effect: the one set, or the last header's
// (unless it was Equal to the one before).
func (r *Reader) Format() *Format { return r.format }

// HeaderLines returns the number of header lines read since NewReader or
// Reset. A header line is never returned as a record, so this is how a
// caller tells that one was read: S3 delivery begins every file with one.
func (r *Reader) HeaderLines() int { return r.headers }

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
			continue // empty or blank
		}
		// A record begins with a digit or '-', a header with a field name.
		if c := line[0]; c >= 'a' && c <= 'z' {
			if fm, ok := parseHeader(line); ok {
				r.headers++
				r.SetFormat(fm)
				continue
			}
		}
		return r.parse(line, rec)
	}
}

var errTooLong = errors.New("line too long")

// readLine returns the next line without its '\n'. The slice is valid until
// the next call, and it is a slice of r.buf: its capacity runs at least
// wordSlack bytes past its end (see fill).
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
		r.buf = newBuf(bufSize)
	}
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		nb := newBuf(2 * len(r.buf))
		copy(nb, r.buf[:r.end])
		r.buf = nb
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

// newBuf returns a buffer of n bytes whose capacity holds wordSlack bytes
// more. Reads fill only its length, so every line in it is followed by
// wordSlack bytes of the buffer, for parse to read and to end with a space.
func newBuf(n int) []byte {
	return make([]byte, n, n+wordSlack)
}

// wrapIOErr adds the line to an error of a gzip stream (package inflate
// detects and inflates gzip, and its errors say what failed).
func (r *Reader) wrapIOErr(err error) error {
	if !r.text.Gzip() {
		return err
	}
	return fmt.Errorf("after line %d: %w", r.line, err)
}
