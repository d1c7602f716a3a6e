package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

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

// ProcessObject processes the body of a flow-log file as S3 delivery
// writes it: gzip (or plain) text whose first line is the header that
// gives the format. size is the stored size (-1 if unknown). It streams:
// the body is inflated ahead on another goroutine and parsed as it comes,
// never read whole. A body whose first line is not a header is skipped:
// the error wraps ErrNotFlowLog and nothing is written. Res.InputBytes and
// Res.TextBytes are set either way.
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
	br := bufio.NewReaderSize(text, 64<<10)

	var res Result
	var err error
	if fm == nil {
		err = checkHeader(br)
	}
	if err == nil {
		rd := flowlog.NewReader(br)
		if fm != nil {
			rd.SetFormat(fm)
		}
		res, err = p.Process(ctx, src, rd)
	}
	res.InputBytes, res.TextBytes = in.n.Load(), text.n.Load()
	var ce flate.CorruptInputError
	switch {
	case err == nil:
	case in.over.Load():
		err = fmt.Errorf("%s: %w: more than %d bytes read", src.ID, ErrTooLarge, p.Limits.maxObject())
	case text.over.Load():
		err = fmt.Errorf("%s: %w: inflates past %d bytes (%d stored): a decompression bomb?", src.ID, ErrTooLarge, text.limit, size)
	case errors.Is(err, ErrNotFlowLog):
		err = fmt.Errorf("%s: %w", src.ID, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce):
		err = fmt.Errorf("%w (truncated or damaged gzip): %w", flowlog.ErrCorruptStream, err)
	}
	return res, err
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
	return n, err
}
