package pipeline

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/inflate"
	"github.com/flowlake/flowlake/shared/lake"
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

// wholeLines passes clean text through unchanged, however it is read (the
// iotest readers, lines longer than the caller's buffer and than
// flowlog.MaxLineBytes, no final newline), and holds back a line cut short
// by a failure.
func TestWholeLines(t *testing.T) {
	eof := func(err error) error { return err }
	long := strings.Repeat("x", 300<<10) + "\n"
	huge := strings.Repeat("y", flowlog.MaxLineBytes+5000) + "\n"
	for _, text := range []string{
		"", "a\n", "a", "a\nb", "a\nb\n\n", strings.Repeat("2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n", 5000),
		"a\n" + long + "b\n", long + huge + "c", huge,
	} {
		if err := iotest.TestReader(&wholeLines{r: strings.NewReader(text), end: eof}, []byte(text)); err != nil {
			t.Errorf("%.20q (%d bytes): %v", text, len(text), err)
		}
		w := &wholeLines{r: iotest.HalfReader(iotest.OneByteReader(strings.NewReader(text))), end: eof}
		if got, err := io.ReadAll(w); err != nil || string(got) != text || w.passed != int64(len(text)) {
			t.Errorf("%.20q one byte at a time: %d bytes, %v; want %d", text, len(got), err, len(text))
		}
	}
	boom := errors.New("boom")
	for _, tc := range []struct{ in, want string }{
		{"a b 12\nc d 34", "a b 12\n"},
		{"a b 12\nc d 34\n", "a b 12\nc d 34\n"},
		{"a b 12", ""},
		{"a\n" + long[:100<<10], "a\n"},
	} {
		w := &wholeLines{r: io.MultiReader(strings.NewReader(tc.in), iotest.ErrReader(boom)), end: eof}
		got, err := io.ReadAll(w)
		if err != boom || string(got) != tc.want {
			t.Errorf("%.20q then an error: %.20q, %v; want %.20q and the error", tc.in, got, err, tc.want)
		}
		// end may turn the failure into the end of the text (damage).
		w = &wholeLines{r: io.MultiReader(strings.NewReader(tc.in), iotest.ErrReader(boom)), end: func(error) error { return io.EOF }}
		if got, err := io.ReadAll(w); err != nil || string(got) != tc.want || w.passed != int64(len(tc.want)) {
			t.Errorf("%.20q then damage: %.20q, %v; want %.20q", tc.in, got, err, tc.want)
		}
	}
}

// damagedCorpus returns n default-format lines with their header as text,
// and gzipped.
func damagedCorpus(t *testing.T, n int) (text, gz []byte) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(flowlog.MustParseFormat(flowlog.DefaultFormat).Header() + "\n")
	for i := range n {
		fmt.Fprintf(&b, "2 123456789012 eni-%08x 10.0.%d.%d 10.1.0.1 %d 443 6 %d %d 1795478400 1795478460 ACCEPT OK\n",
			i%7, i%250, i%200, 1024+i%50000, 1+i%40, 40+i*13)
	}
	return b.Bytes(), gzipBytesT(t, b.Bytes())
}

func gzipBytesT(t *testing.T, b []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return z.Bytes()
}

// Each kind of damage keeps every record before it: the conversion
// succeeds with the records of the text's whole lines before the damage,
// the damage (offset, line) goes to the result and the rejects sample,
// and converting the same object again gives the same objects.
func TestProcessObjectDamaged(t *testing.T) {
	text, gz := damagedCorpus(t, 60000)
	badSum := bytes.Clone(gz)
	badSum[len(badSum)-6] ^= 0xff // the CRC-32 in the trailer
	badLen := bytes.Clone(gz)
	badLen[len(badLen)-2] ^= 0xff // ISIZE
	badBlock := bytes.Clone(gz)
	badBlock[10] |= 0x06 // the first deflate block's type: 3 is reserved
	// Two members, as a concatenated file is: the second's header damaged.
	half := bytes.IndexByte(text[len(text)/2:], '\n') + len(text)/2 + 1
	first := gzipBytesT(t, text[:half])
	members := append(bytes.Clone(first), append([]byte("\x1f\x8c"), gzipBytesT(t, text[half:])[2:]...)...)
	for _, tc := range []struct {
		name       string
		in         []byte
		all        bool  // every record survives (the damage is after the text)
		minOff     int64 // the damage's offset is at least this
		maxOff     int64
		minRecords int64
	}{
		{"truncated", gz[:len(gz)/2], false, int64(len(gz) / 2), int64(len(gz) / 2), 20000},
		{"bad checksum", badSum, true, int64(len(gz)) - 8, int64(len(gz)), 60000},
		{"bad length", badLen, true, int64(len(gz)) - 8, int64(len(gz)), 60000},
		{"bad deflate block type", badBlock, false, 10, 20, 0},
		{"bad second member header", members, false, int64(len(first)), int64(len(first) + 10), 29000},
		{"bad header", append([]byte("\x1f\x8b\x09"), gz[3:]...), false, 0, 10, 0},
		{"cut in its header", gz[:5], false, 0, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTestLake(t)
			src := lake.S3Source("raw", "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/x_20261124T0005Z_1.log.gz", "e1", "")
			res, err := tl.p.ProcessObject(context.Background(), src, bytes.NewReader(tc.in), int64(len(tc.in)))
			if err != nil {
				t.Fatalf("ProcessObject = %v; want the damage recorded, and no error", err)
			}
			d := res.Damage
			if d == nil || d.Offset < tc.minOff || d.Offset > tc.maxOff || !strings.Contains(d.Reason, "corrupt compressed stream") {
				t.Fatalf("Damage = %+v; want an offset in [%d, %d]", d, tc.minOff, tc.maxOff)
			}
			kept := text[:d.TextOffset]
			if !bytes.HasPrefix(text, kept) || (len(kept) > 0 && kept[len(kept)-1] != '\n') {
				t.Fatalf("the text before the damage (%d bytes) is not whole lines of the object's text", len(kept))
			}
			lines := int64(bytes.Count(kept, []byte("\n")))
			want := max(lines-1, 0) // less the header
			if res.Records != want || res.Records < tc.minRecords || (tc.all && res.Records != 60000) || tl.rows(t) != want {
				t.Errorf("records = %d, %d rows; want the %d whole lines before the damage (at least %d)", res.Records, tl.rows(t), want, tc.minRecords)
			}
			if d.Line != int(lines)+1 {
				t.Errorf("Damage.Line = %d; want %d, the first line not read", d.Line, lines+1)
			}
			rj := readRejects(t, filepath.Join(tl.dir, res.RejectsKey))
			if len(rj) != 1 || !rj[0].Damaged || *rj[0].Offset != d.Offset || rj[0].Line != d.Line {
				t.Errorf("rejects sample = %+v; want the damage", rj)
			}
			first := tl.files(t)
			if _, err := tl.p.ProcessObject(context.Background(), src, bytes.NewReader(tc.in), int64(len(tc.in))); err != nil {
				t.Fatal(err)
			}
			if again := tl.files(t); !slices.Equal(again, first) || tl.rows(t) != want {
				t.Errorf("again: %v, %d rows; want %v, %d rows", again, tl.rows(t), first, want)
			}
		})
	}
}

// Deflate data damaged in the middle usually inflates to wrong text,
// which the checksum at the end of the member finds: the records read are
// kept, wrong lines are rejected as usual, and the damage is recorded at
// the end.
func TestProcessObjectDamagedMidStream(t *testing.T) {
	_, gz := damagedCorpus(t, 60000)
	mid := bytes.Clone(gz)
	for i := len(gz) / 2; i < len(gz)/2+64; i++ {
		mid[i] = 0xff
	}
	tl := newTestLake(t)
	res, err := tl.p.ProcessObject(context.Background(), lake.Source{ID: "mid", Account: "1", Region: "r"}, bytes.NewReader(mid), int64(len(mid)))
	if err != nil || res.Damage == nil || res.Damage.Offset < int64(len(gz))-8 || res.Records < 29000 || tl.rows(t) != res.Records {
		t.Fatalf("ProcessObject = %+v, %v; want the damage found at the end, after at least the first half's records", res, err)
	}
	if !strings.Contains(res.Damage.Reason, "checksum") {
		t.Errorf("Damage.Reason = %q; want the checksum's", res.Damage.Reason)
	}
}

// The line the damage cuts short is never parsed: here it would parse, as
// a record with fewer digits of bytes than it has. The gzip stream is
// flushed in the middle of that line, so everything before the cut
// inflates.
func TestProcessObjectCutLineDropped(t *testing.T) {
	hdr := "srcaddr dstaddr bytes\n"
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(hdr + "10.0.0.1 10.0.0.2 123456\n10.0.0.3 10.0.0.4 1234"))
	zw.Flush()
	cut := z.Len()
	zw.Write([]byte("56\n10.0.0.5 10.0.0.6 7\n"))
	zw.Close()
	tl := newTestLake(t)
	res, err := tl.p.ProcessObject(context.Background(), lake.Source{ID: "cut", Account: "1", Region: "r"}, bytes.NewReader(z.Bytes()[:cut]), int64(cut))
	if err != nil || res.Records != 1 || res.Damage == nil || res.Damage.Line != 3 || res.Rejected != 0 {
		t.Fatalf("ProcessObject = %+v, %v; want 1 record, the damage at line 3 and nothing rejected", res, err)
	}
}

// A read that fails is not damage: the conversion fails and commits
// nothing, whether the input failed or ended short of its length, gzip or
// plain.
func TestProcessObjectReadFails(t *testing.T) {
	text, gz := damagedCorpus(t, 60000)
	reset := fmt.Errorf("read tcp: %w", syscall.ECONNRESET)
	for _, tc := range []struct {
		name string
		body io.Reader
		size int64
		want error
	}{
		{"gzip reset", io.MultiReader(bytes.NewReader(gz[:len(gz)/2]), iotest.ErrReader(reset)), int64(len(gz)), syscall.ECONNRESET},
		{"gzip cut by the network", io.MultiReader(bytes.NewReader(gz[:len(gz)/2]), iotest.ErrReader(io.ErrUnexpectedEOF)), int64(len(gz)), io.ErrUnexpectedEOF},
		{"gzip short", bytes.NewReader(gz[:len(gz)/2]), int64(len(gz)), ErrShortRead},
		{"plain reset", io.MultiReader(bytes.NewReader(text[:len(text)/2]), iotest.ErrReader(reset)), int64(len(text)), syscall.ECONNRESET},
		{"plain short", bytes.NewReader(text[:len(text)/2]), int64(len(text)), ErrShortRead},
		{"timeout", io.MultiReader(bytes.NewReader(gz[:len(gz)/3]), iotest.ErrReader(context.DeadlineExceeded)), int64(len(gz)), context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTestLake(t)
			res, err := tl.p.ProcessObject(context.Background(), lake.Source{ID: "s3://raw/x", Account: "1", Region: "r"}, tc.body, tc.size)
			if !errors.Is(err, tc.want) || errors.Is(err, inflate.ErrCorrupt) || res.Damage != nil || !strings.Contains(err.Error(), "s3://raw/x") {
				t.Errorf("ProcessObject = %v, damage %+v; want %v, not damage, naming the source", err, res.Damage, tc.want)
			}
			if f := tl.files(t); len(f) != 0 {
				t.Errorf("a failed read committed %v", f)
			}
		})
	}
}
