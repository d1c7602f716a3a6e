package inflate

import (
	"errors"
	"io"
	"sync"
)

// errClosed is what a read-ahead reader returns once closed, after any
// text it had read.
var errClosed = errors.New("read ahead: closed")

// ReadAhead returns a reader of r's text that reads, and inflates if r is
// gzip (as Reader does), in its own goroutine, a few blocks ahead of the
// caller. It moves decompression off the parsing goroutine, so a 75 MB gzip
// object is inflated on one core while it is parsed on another. Memory is
// bounded: four blocks of 1 MiB. Close stops the goroutine; it does not
// close r.
func ReadAhead(r io.Reader) io.ReadCloser {
	const blocks, blockSize = 4, 1 << 20
	a := &aheadReader{
		full: make(chan []byte, blocks),
		free: make(chan []byte, blocks),
		stop: make(chan struct{}),
	}
	for range blocks {
		a.free <- make([]byte, blockSize)
	}
	go a.fill(NewReader(r))
	return a
}

type aheadReader struct {
	full chan []byte
	free chan []byte
	stop chan struct{}
	once sync.Once
	cur  []byte // unread part of the current block
	blk  []byte // the current block, to give back
	err  error  // set by fill before it closes full
}

func (a *aheadReader) fill(src io.Reader) {
	defer close(a.full)
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.stop:
			a.err = errClosed
			return
		}
		// A block given back after Close may win the select above: never
		// fill it, so that Close bounds what later reads return.
		select {
		case <-a.stop:
			a.err = errClosed
			return
		default:
		}
		// Fill the block; only a clean io.EOF ends the stream (a truncated
		// gzip member is an error).
		buf = buf[:cap(buf)]
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var m int
			m, err = src.Read(buf[n:])
			n += m
		}
		if n > 0 {
			a.full <- buf[:n] // never blocks: full holds every block
		}
		if err != nil {
			a.err = err
			return
		}
	}
}

// Read implements io.Reader. At the end of the text it returns io.EOF; a
// read or inflate error comes after the text before it.
func (a *aheadReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.blk != nil {
			a.free <- a.blk
			a.blk = nil
		}
		blk, ok := <-a.full
		if !ok {
			return 0, a.err
		}
		a.blk, a.cur = blk, blk
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops reading ahead. It returns at once; the goroutine ends when
// its read in progress returns. Reads after Close return the blocks
// already read, then an error.
func (a *aheadReader) Close() error {
	a.once.Do(func() { close(a.stop) })
	return nil
}
