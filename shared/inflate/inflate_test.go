package inflate

import (
	"bytes"
	"compress/gzip" // the standard library's encoder: an independent writer for klauspost's reader
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

// text returns n lines of flow-log-like text.
func text(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "2 123456789012 eni-%08x 10.0.%d.%d 10.0.0.1 443 %d 6 %d %d 1616729292 1616729349 ACCEPT OK\n",
			i%97, i%256, i%251, 1024+i%60000, i%50, i*37)
	}
	return b.Bytes()
}

func gzipped(t testing.TB, members ...[]byte) []byte {
	var b bytes.Buffer
	for _, m := range members {
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestReader(t *testing.T) {
	plain := text(20_000)
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte
		gzip bool
	}{
		{"plain", plain, plain, false},
		{"gzip", gzipped(t, plain), plain, true},
		{"gzip members", gzipped(t, plain[:1000], plain[1000:]), plain, true},
		{"empty", nil, nil, false},
		{"one byte", []byte{0x1f}, []byte{0x1f}, false},
		{"two bytes", []byte("2\n"), []byte("2\n"), false},
		{"empty gzip", gzipped(t, nil), nil, true},
	} {
		// Read in every way iotest knows (short reads, one byte at a time).
		if err := iotest.TestReader(NewReader(bytes.NewReader(tc.in)), tc.want); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		z := NewReader(iotest.OneByteReader(bytes.NewReader(tc.in)))
		got, err := io.ReadAll(z)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s, one byte at a time: read %d bytes, %v; want %d", tc.name, len(got), err, len(tc.want))
		}
		if z.Gzip() != tc.gzip {
			t.Errorf("%s: Gzip() = %v; want %v", tc.name, z.Gzip(), tc.gzip)
		}
	}
}

// A damaged gzip stream is an error wrapping ErrCorrupt and the decoder's
// error, after the text before the damage; a plain input's read error is
// returned as it is.
func TestReaderDamaged(t *testing.T) {
	plain := text(20_000)
	gz := gzipped(t, plain)
	badSum := bytes.Clone(gz)
	badSum[len(badSum)-5] ^= 0xff // the CRC-32 of the trailer
	badData := bytes.Clone(gz)
	for i := 20; i < 60; i++ {
		badData[i] ^= 0x55
	}
	for _, tc := range []struct {
		name     string
		in       []byte
		cause    error // also wrapped, if not nil
		min, max int64 // the offset reported
	}{
		{"truncated", gz[:len(gz)/2], io.ErrUnexpectedEOF, int64(len(gz) / 2), int64(len(gz) / 2)},
		{"bad checksum", badSum, gzip.ErrChecksum, int64(len(gz)) - 8, int64(len(gz))},
		{"bad deflate data", badData, nil, 20, 70},
		{"bad header", []byte("\x1f\x8b\x09garbage"), gzip.ErrHeader, 0, 10},
	} {
		got, err := io.ReadAll(NewReader(bytes.NewReader(tc.in)))
		if !errors.Is(err, ErrCorrupt) || (tc.cause != nil && !errors.Is(err, tc.cause)) {
			t.Errorf("%s: %v; want ErrCorrupt (and %v)", tc.name, err, tc.cause)
		}
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Offset < tc.min || ce.Offset > tc.max {
			t.Errorf("%s: %v; want a *CorruptError at an offset in [%d, %d]", tc.name, err, tc.min, tc.max)
		}
		if !bytes.HasPrefix(plain, got) {
			t.Errorf("%s: the %d bytes read before the error are not the text's first", tc.name, len(got))
		}
	}
	if len(mustRead(t, gz[:len(gz)/2])) == 0 {
		t.Error("truncated: no text before the error")
	}

	boom := errors.New("connection reset")
	_, err := io.ReadAll(NewReader(io.MultiReader(bytes.NewReader(plain[:100]), iotest.ErrReader(boom))))
	if err != boom {
		t.Errorf("plain input failing: %v; want the input's error itself", err)
	}
	_, err = io.ReadAll(NewReader(io.MultiReader(bytes.NewReader(gz[:100]), iotest.ErrReader(boom))))
	if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
		t.Errorf("gzip input failing: %v; want the input's error, not ErrCorrupt", err)
	}
	// net/http's body of a response cut short by the network fails with
	// io.ErrUnexpectedEOF: the input failed, the stream is not damaged.
	_, err = io.ReadAll(NewReader(io.MultiReader(bytes.NewReader(gz[:len(gz)/2]), iotest.ErrReader(io.ErrUnexpectedEOF))))
	if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrCorrupt) {
		t.Errorf("gzip input cut short by its reader: %v; want io.ErrUnexpectedEOF, not ErrCorrupt", err)
	}
	_, err = io.ReadAll(NewReader(io.MultiReader(bytes.NewReader(gz[:1]), iotest.ErrReader(boom))))
	if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
		t.Errorf("gzip input failing in its header: %v; want the input's error, not ErrCorrupt", err)
	}
}

func mustRead(t *testing.T, in []byte) []byte {
	got, _ := io.ReadAll(NewReader(bytes.NewReader(in)))
	return got
}

// Reset reuses the reader: plain and gzip inputs in turn read right, and a
// plain input read after Reset allocates nothing.
func TestReaderReset(t *testing.T) {
	plain := text(2000)
	gz := gzipped(t, plain)
	z := NewReader(nil)
	buf := make([]byte, 64<<10)
	for i, in := range [][]byte{gz, plain, gz, gz, plain} {
		z.Reset(bytes.NewReader(in))
		var got []byte
		for {
			n, err := z.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("input %d: read %d bytes; want %d", i, len(got), len(plain))
		}
	}
	br := bytes.NewReader(plain)
	allocs := testing.AllocsPerRun(100, func() {
		br.Reset(plain)
		z.Reset(br)
		for {
			if _, err := z.Read(buf); err != nil {
				break
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Reset and read of a plain input: %v allocations; want 0", allocs)
	}
}

func TestReadAhead(t *testing.T) {
	plain := text(200_000) // several blocks
	gz := gzipped(t, plain)
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"plain", plain}, {"gzip", gz}} {
		ra := ReadAhead(bytes.NewReader(tc.in))
		got, err := io.ReadAll(ra)
		ra.Close()
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: read %d bytes, %v; want the %d bytes of the text", tc.name, len(got), err, len(plain))
		}
	}

	ra := ReadAhead(bytes.NewReader(gz[:len(gz)/2]))
	got, err := io.ReadAll(ra)
	ra.Close()
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, io.ErrUnexpectedEOF) || len(got) == 0 || !bytes.HasPrefix(plain, got) {
		t.Errorf("truncated gzip: %d bytes, %v; want the text before the cut, then ErrCorrupt and io.ErrUnexpectedEOF", len(got), err)
	}

	// Close before the end stops the goroutine, which was waiting for a
	// free block (it reads at most four ahead); later reads give the
	// blocks already read, then an error instead of blocking.
	ra = ReadAhead(bytes.NewReader(gz))
	head := make([]byte, 10)
	if _, err := io.ReadFull(ra, head); err != nil || !bytes.Equal(head, plain[:10]) {
		t.Fatalf("first bytes: %q, %v; want %q", head, err, plain[:10])
	}
	ra.Close()
	type result struct {
		n   int
		err error
	}
	res := make(chan result, 1)
	go func() {
		rest, err := io.ReadAll(ra) // ends only once the goroutine has returned
		res <- result{len(rest), err}
	}()
	select {
	case r := <-res:
		if r.err == nil || r.err == io.EOF || r.n > 4<<20 {
			t.Errorf("reads after Close: %d more bytes, then %v; want at most the 4 MiB read ahead, then an error", r.n, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reads after Close still block 10s later: the read-ahead goroutine did not stop")
	}
	if err := ra.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// BenchmarkReadAhead measures inflating through ReadAhead, the ingest
// path's decompression, on about 10 MB of text.
func BenchmarkReadAhead(b *testing.B) {
	gz := gzipped(b, text(100_000))
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(gz)))
	for range b.N {
		ra := ReadAhead(bytes.NewReader(gz))
		for {
			if _, err := ra.Read(buf); err != nil {
				break
			}
		}
		ra.Close()
	}
}
