package inflate

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// ErrCorrupt is wrapped by the error of a damaged gzip stream: a bad header
// or checksum, corrupt deflate data, or a stream cut short.
var ErrCorrupt = errors.New("corrupt compressed stream")

// CorruptError is the error of a damaged gzip stream. It matches
// ErrCorrupt and wraps the decoder's own error (gzip.ErrHeader,
// gzip.ErrChecksum, flate.CorruptInputError, io.ErrUnexpectedEOF).
type CorruptError struct {
	// Offset is how many bytes of the input the decoder had consumed when
	// it found the damage: the stored (compressed) offset of the damage,
	// to within the few bytes the decoder holds in its bit buffer. For a
	// stream cut short it is the input's length.
	Offset int64
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("gzip: %v at byte %d: %v", ErrCorrupt, e.Offset, e.Err)
}

// Unwrap returns ErrCorrupt and the decoder's error.
func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// IsGzip reports whether b begins with the gzip magic number.
func IsGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// Reader reads the text of a plain or gzip stream. It reads the first two
// bytes of its input to tell which, on the first Read; plain input is then
// passed through without a copy. The zero value reads nothing until Reset.
type Reader struct {
	in      sniffed       // the input, its first bytes put back
	buf     *bufio.Reader // the input, buffered for the inflater (kept across Resets)
	gz      *gzip.Reader  // kept across Resets
	src     io.Reader     // after the first Read: &in, or gz
	started bool
	zipped  bool  // src is gz
	err     error // sticky: a gzip header that could not be read
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	z := new(Reader)
	z.Reset(r)
	return z
}

// Reset makes z read r, as if new, keeping its buffers.
func (z *Reader) Reset(r io.Reader) {
	z.in = sniffed{r: r}
	z.src, z.started, z.zipped, z.err = nil, false, false, nil
}

// Gzip reports whether the input is gzip. It is known once Read has been
// called.
func (z *Reader) Gzip() bool { return z.zipped }

// Read reads text: the input's bytes, inflated if it is gzip. A damaged
// gzip stream gives an error wrapping ErrCorrupt once the text before the
// damage has been read.
func (z *Reader) Read(p []byte) (int, error) {
	if !z.started {
		z.start()
	}
	if z.err != nil {
		return 0, z.err
	}
	n, err := z.src.Read(p)
	if err != nil && err != io.EOF && z.Gzip() {
		err = z.gzipError(err)
	}
	return n, err
}

// consumed returns how many input bytes the inflater has taken: those read
// from the input less those still buffered for it.
func (z *Reader) consumed() int64 {
	return z.in.read - int64(z.buf.Buffered())
}

// start reads the first bytes and chooses the source.
func (z *Reader) start() {
	z.started = true
	z.src = &z.in
	if !IsGzip(z.in.sniff()) {
		return
	}
	if z.buf == nil {
		z.buf = bufio.NewReaderSize(&z.in, 64<<10)
	} else {
		z.buf.Reset(&z.in)
	}
	var err error
	if z.gz == nil {
		z.gz, err = gzip.NewReader(z.buf)
	} else {
		err = z.gz.Reset(z.buf)
	}
	if err != nil {
		z.err = z.gzipError(err)
		return
	}
	z.src, z.zipped = z.gz, true
}

// gzipError wraps an error met while inflating: a *CorruptError for
// damage, else the input's own error, as it is.
func (z *Reader) gzipError(err error) error {
	if z.in.failed != nil {
		// The input failed (a connection reset, a timeout): not damage,
		// whatever the inflater made of the missing bytes.
		return fmt.Errorf("gzip: %w", err)
	}
	var ce flate.CorruptInputError
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ce) {
		return &CorruptError{Offset: z.consumed(), Err: err}
	}
	return fmt.Errorf("gzip: %w", err)
}

// sniffed is an input whose first bytes were read to tell its kind: they
// are read again first.
type sniffed struct {
	r     io.Reader
	head  [2]byte
	n     int   // bytes of head still to read
	off   int   // next byte of head
	err   error // of reading head, after it
	ready bool  // head has been read

	read   int64 // bytes read from r
	failed error // the first error of r other than io.EOF
}

// sniff reads the first two bytes (fewer at the end of input) and returns
// them; they stay to be read.
func (s *sniffed) sniff() []byte {
	if !s.ready {
		s.ready = true
		s.n, s.err = io.ReadFull(s.r, s.head[:])
		s.read += int64(s.n)
		if s.err != nil && s.err != io.EOF && s.err != io.ErrUnexpectedEOF {
			s.failed = s.err
		}
		if s.err == io.ErrUnexpectedEOF {
			s.err = io.EOF // a one-byte input is a complete one
		}
	}
	return s.head[s.off : s.off+s.n]
}

func (s *sniffed) Read(p []byte) (int, error) {
	if s.n == 0 {
		if s.err != nil {
			return 0, s.err
		}
		return s.input(p)
	}
	n := copy(p, s.head[s.off:s.off+s.n])
	s.off += n
	s.n -= n
	if s.n > 0 || n == len(p) {
		return n, nil
	}
	if s.err != nil {
		return n, s.err
	}
	m, err := s.input(p[n:])
	return n + m, err
}

// input reads r, counting its bytes and keeping its first failure.
func (s *sniffed) input(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.read += int64(n)
	if err != nil && err != io.EOF && s.failed == nil {
		s.failed = err
	}
	return n, err
}
