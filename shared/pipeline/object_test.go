package pipeline

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// checkHeader takes a first line that the reader reads as a header, even
// one in the default format, and refuses anything else without consuming
// the input.
func TestCheckHeader(t *testing.T) {
	v2 := flowlog.MustParseFormat(flowlog.DefaultFormat).Header()
	rich := flowlog.MustParseFormat(flowlog.RichFormat).Header()
	rec := "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK"
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{v2 + "\n" + rec + "\n", true}, // the default format's header changes no format
		{rich + "\n", true},
		{v2, true},                       // a header and no records
		{v2 + "\r\n" + rec + "\n", true}, // CRLF
		{"srcaddr next-hop-type dstport\n10.0.0.1 igw 443\n", true}, // an unknown name
		{rec + "\n", false},
		{"", false},
		{"\n" + v2 + "\n", false}, // the first line is blank
		{"hello world\n", false},  // name-like, but no field
		{strings.Repeat("a", 5000), false},
	} {
		br := bufio.NewReaderSize(strings.NewReader(tc.in), 4096)
		err := checkHeader(br)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrNotFlowLog) {
			t.Errorf("checkHeader(%.40q) = %v; want ok %v", tc.in, err, tc.ok)
		}
		if b, _ := br.Peek(min(len(tc.in), br.Size())); string(b) != tc.in[:len(b)] || len(b) != min(len(tc.in), br.Size()) {
			t.Errorf("checkHeader(%.40q) consumed input", tc.in)
		}
	}
}
