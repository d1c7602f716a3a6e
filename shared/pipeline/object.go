package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/inflate"
	"github.com/flowlake/flowlake/shared/lake"
)

// ErrTooLarge is wrapped by the error of an object over a size limit:
// larger than MaxObjectBytes, or inflating past MaxInflatedBytes or
// MaxInflateRatio times its size (a decompression bomb).
var ErrTooLarge = errors.New("object too large")

// ErrNotFlowLog is wrapped by the reason an object is skipped for: its
// first line is not a flow-log header, as every S3 text delivery has.
var ErrNotFlowLog = errors.New("not a flow-log text file")

// Limits bound the cost of one object. Zero fields take the defaults.
type Limits struct {
	// MaxObjectBytes is the largest object (as stored, compressed) read at
	// all (default DefaultMaxObjectBytes). AWS writes at most 75 MB.
	MaxObjectBytes int64
	// MaxInflatedBytes bounds the text an object may inflate to (default
	// DefaultMaxInflatedBytes).
	MaxInflatedBytes int64
	// MaxInflateRatio bounds text bytes per stored byte, for objects of at
	// least 1 MiB (smaller ones count as 1 MiB); default
	// DefaultMaxInflateRatio. Flow-log text gzips about 8:1.
	MaxInflateRatio int64
}

// Default limits.
const (
	DefaultMaxObjectBytes   = 128 << 20
	DefaultMaxInflatedBytes = 3 << 30
	DefaultMaxInflateRatio  = 100
)

func (l Limits) maxObject() int64 {
	if l.MaxObjectBytes > 0 {
		return l.MaxObjectBytes
	}
	return DefaultMaxObjectBytes
}

// inflateLimit returns how many text bytes an object of size bytes may
// inflate to.
func (l Limits) inflateLimit(size int64) int64 {
	abs := l.MaxInflatedBytes
	if abs <= 0 {
		abs = DefaultMaxInflatedBytes
	}
	ratio := l.MaxInflateRatio
	if ratio <= 0 {
		ratio = DefaultMaxInflateRatio
	}
	if size < 0 {
		return abs
	}
	return min(abs, ratio*max(size, 1<<20))
}

// CheckSize returns an ErrTooLarge error if an object of size bytes is over
// MaxObjectBytes.
func (l Limits) CheckSize(size int64) error {
	if size > l.maxObject() {
		return fmt.Errorf("%w: %d bytes, over the limit of %d", ErrTooLarge, size, l.maxObject())
	}
	return nil
}

// ErrShortRead is wrapped by the error of an object whose body ended, with
// no error, before the length S3 gave for it (Content-Length): the bytes
// did not all arrive, so the read is to be retried, never taken for the
// object's end or for damage.
var ErrShortRead = errors.New("object body ended short of its length")

// Damage is where the compressed stream of a source was found damaged: a
// bad gzip header, checksum or length, corrupt deflate data, or a stream
// that ends inside a member. It is a permanent fault of the object (a
// retry reads the same bytes), so the records before it are kept and the
// source succeeds; the text after it cannot be read. A read that failed
// (a connection reset, a timeout, throttling, fewer bytes than the
// object's length) is never damage: it fails the source, to be retried.
type Damage struct {
	// Offset is the byte of the stored (compressed) object the decoder had
	// reached when it found the damage; for an object cut short, its
	// length.
	Offset int64 `json:"offset"`
	// TextOffset is the length of the text before the damage, up to the
	// end of its last whole line: every record in it was read.
	TextOffset int64 `json:"text_offset"`
	// Line is the first line not read: the one the damage cut short (its
	// part before the damage is dropped, never parsed), or the line after
	// the last when the damage fell between lines.
	Line int `json:"line"`
	// Reason is the decoder's error.
	Reason string `json:"reason"`
}

func (d *Damage) String() string {
	return fmt.Sprintf("damaged at byte %d (line %d, after %d bytes of text): %s", d.Offset, d.Line, d.TextOffset, d.Reason)
}

// ProcessObject processes the body of a flow-log file as S3 delivery
// writes it: gzip (or plain) text whose first line is the header that
// gives the format. size is the stored size (-1 if unknown). It streams:
// the body is inflated ahead on another goroutine and parsed as it comes,
// never read whole. A body whose first line is not a header is skipped:
// the error wraps ErrNotFlowLog and nothing is written. Res.InputBytes and
// Res.TextBytes are set either way.
//
// A damaged compressed stream keeps what came before it: every whole
// line before the damage is read and written, the damage is described in
// Res.Damage and in the rejects sample, and the error is nil. A read that
// fails (the body's error, or a body shorter than size) is an error, and
// nothing of the conversion in progress is committed.
func (p *Pipeline) ProcessObject(ctx context.Context, src lake.Source, body io.Reader, size int64) (Result, error) {
	return p.processBody(ctx, src, body, size, nil)
}

// ProcessText is ProcessObject for flow-log text that may lack a header,
// such as a file on a laptop (flowlake convert): the records before any
// header line are read in format fm, and a header line sets the format of
// the lines after it. It takes the same streaming path, with the same
// limits, as the ingest functions.
func (p *Pipeline) ProcessText(ctx context.Context, src lake.Source, body io.Reader, size int64, fm *flowlog.Format) (Result, error) {
	if fm == nil {
		fm = flowlog.MustParseFormat(flowlog.DefaultFormat)
	}
	return p.processBody(ctx, src, body, size, fm)
}

// processBody reads body: with fm nil, its first line must be a header.
func (p *Pipeline) processBody(ctx context.Context, src lake.Source, body io.Reader, size int64, fm *flowlog.Format) (Result, error) {
	if err := p.Limits.CheckSize(size); err != nil {
		return Result{}, fmt.Errorf("%s: %w", src.ID, err)
	}
	in := &countReader{r: body, limit: p.Limits.maxObject()}
	ra := inflate.ReadAhead(in)
	defer ra.Close()
	text := &countReader{r: ra, limit: p.Limits.inflateLimit(size)}
	var damage *inflate.CorruptError
	lines := &wholeLines{r: text, end: func(err error) error {
		// The source's final error: the end of the text, damage, or a
		// failed read.
		var ce *inflate.CorruptError
		switch {
		case (err == io.EOF || errors.As(err, &ce)) && in.eof.Load() && size >= 0 && in.n.Load() < size:
			return fmt.Errorf("%w: %d of %d bytes arrived", ErrShortRead, in.n.Load(), size)
		case err == io.EOF:
			return io.EOF
		case errors.As(err, &ce):
			damage = ce
			return io.EOF // the text ends here: what came before it is committed
		}
		return err
	}}
	br := bufio.NewReaderSize(lines, 64<<10)

	var res Result
	var err error
	if fm == nil {
		err = checkHeader(br)
		switch {
		case err == nil:
		case damage != nil && br.Buffered() == 0:
			err = nil // damaged before its first line ended: no record to read, the damage to record
		case !errors.Is(err, ErrNotFlowLog):
			err = fmt.Errorf("read %s: %w", src.ID, err)
		}
	}
	if err == nil {
		rd := flowlog.NewReader(br)
		if fm != nil {
			rd.SetFormat(fm)
		}
		res, err = p.process(ctx, src, rd, func() *Damage {
			if damage == nil {
				return nil
			}
			return &Damage{Offset: damage.Offset, TextOffset: lines.passed, Line: rd.Line() + 1, Reason: damage.Error()}
		})
	}
	res.InputBytes, res.TextBytes = in.n.Load(), text.n.Load()
	switch {
	case err == nil:
	case in.over.Load():
		err = fmt.Errorf("%s: %w: more than %d bytes read", src.ID, ErrTooLarge, p.Limits.maxObject())
	case text.over.Load():
		err = fmt.Errorf("%s: %w: inflates past %d bytes (%d stored): a decompression bomb?", src.ID, ErrTooLarge, text.limit, size)
	case errors.Is(err, ErrNotFlowLog):
		err = fmt.Errorf("%s: %w", src.ID, err)
	}
	return res, err
}

// wholeLines passes text on in whole lines: the bytes after the last '\n'
// it has seen are held back until the line ends, or the text does. So a
// stream that fails or is damaged never hands the reader the line it cut
// short, which could parse as a wrong record (a number cut to fewer
// digits). end maps the source's final error (io.EOF or another) to the
// one to return: io.EOF ends the text there, dropping a line held back
// unless the source itself ended. A line longer than flowlog.MaxLineBytes
// is passed on as it comes: the reader rejects it whole anyway.
type wholeLines struct {
	r      io.Reader
	end    func(error) error
	tail   []byte // read, after the last '\n' passed on
	ready  []byte // whole lines to pass on, read while p was too short
	err    error  // end's answer, once the source failed or ended
	passed int64  // bytes passed on
}

func (w *wholeLines) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if len(w.ready) > 0 {
			n := copy(p, w.ready)
			w.ready = w.ready[n:]
			w.passed += int64(n)
			return n, nil
		}
		if w.err != nil {
			return 0, w.err
		}
		var n int
		var err error
		if len(w.tail) < len(p) {
			// The usual case: the held-back line, then new text, in p.
			c := copy(p, w.tail)
			n, err = w.r.Read(p[c:])
			m := c + n
			if i := bytes.LastIndexByte(p[c:m], '\n'); i >= 0 {
				w.tail = append(w.tail[:0], p[c+i+1:m]...)
				w.settle(err)
				w.passed += int64(c + i + 1)
				return c + i + 1, nil
			}
			w.tail = append(w.tail[:0], p[:m]...)
		} else {
			// A line longer than p so far: read on into the tail.
			w.tail = slices.Grow(w.tail, 64<<10)
			k := len(w.tail)
			n, err = w.r.Read(w.tail[k:cap(w.tail)])
			w.tail = w.tail[:k+n]
			if i := bytes.LastIndexByte(w.tail[k:], '\n'); i >= 0 {
				w.ready, w.tail = w.tail[:k+i+1], bytes.Clone(w.tail[k+i+1:])
			}
		}
		if len(w.tail) > flowlog.MaxLineBytes {
			w.ready, w.tail = w.tail, nil // too long to be a record: pass it on
		}
		w.settle(err)
	}
}

// settle takes the source's error, if any, once: at its clean end the
// held-back line is the text's last; at any other end it is dropped.
func (w *wholeLines) settle(err error) {
	if err == nil {
		return
	}
	w.err = w.end(err)
	if err == io.EOF && w.err == io.EOF {
		w.ready = append(w.ready, w.tail...)
	}
	w.tail = nil
}

// checkHeader returns nil if the first line of br is a flow-log header
// line, without consuming it.
func checkHeader(br *bufio.Reader) error {
	b, err := br.Peek(br.Size())
	if len(b) == 0 {
		if err != nil && err != io.EOF {
			return err
		}
		return fmt.Errorf("%w: empty", ErrNotFlowLog)
	}
	line, _, found := bytes.Cut(b, []byte{'\n'})
	if !found && err == nil {
		return fmt.Errorf("%w: first line longer than %d bytes", ErrNotFlowLog, br.Size())
	}
	hr := flowlog.NewReader(bytes.NewReader(line))
	var rec flowlog.Record
	if err := hr.ReadInto(&rec); err != io.EOF || hr.HeaderLines() != 1 {
		return fmt.Errorf("%w: first line is not a header", ErrNotFlowLog)
	}
	return nil
}

// countReader counts the bytes read through it and fails past limit. Its
// counters are atomic: the read-ahead goroutine may still be reading when
// a failed conversion returns.
type countReader struct {
	r     io.Reader
	limit int64 // 0: none
	n     atomic.Int64
	over  atomic.Bool
	eof   atomic.Bool // r returned io.EOF
}

func (c *countReader) Read(p []byte) (int, error) {
	if c.over.Load() {
		return 0, ErrTooLarge
	}
	if c.limit > 0 && int64(len(p)) > c.limit-c.n.Load()+1 {
		p = p[:c.limit-c.n.Load()+1]
	}
	n, err := c.r.Read(p)
	if c.n.Add(int64(n)) > c.limit && c.limit > 0 {
		c.over.Store(true)
		return n, ErrTooLarge
	}
	if err == io.EOF {
		c.eof.Store(true)
	}
	return n, err
}
