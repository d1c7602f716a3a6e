package lake

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestReadAhead(t *testing.T) {
	plain := corpus(t, 20_000, false)
	gz := corpus(t, 20_000, true)
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"plain", plain}, {"gzip", gz}} {
		ra := ReadAhead(bytes.NewReader(tc.in))
		got, err := io.ReadAll(ra)
		ra.Close()
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: read %d bytes, %v; want the %d bytes of the corpus", tc.name, len(got), err, len(plain))
		}
	}
	ra := ReadAhead(bytes.NewReader(gz[:len(gz)/2]))
	defer ra.Close()
	if _, err := io.ReadAll(ra); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated gzip: %v; want io.ErrUnexpectedEOF", err)
	}
	// Close before the end stops the goroutine.
	ra2 := ReadAhead(bytes.NewReader(gz))
	buf := make([]byte, 10)
	ra2.Read(buf)
	ra2.Close()
}
