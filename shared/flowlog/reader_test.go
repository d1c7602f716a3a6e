package flowlog

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func readAll(t *testing.T, r *Reader) ([]Record, []*ParseError) {
	t.Helper()
	var recs []Record
	var perrs []*ParseError
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return recs, perrs
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			perrs = append(perrs, pe)
			continue
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		recs = append(recs, rec)
	}
}

func TestAWSExamples(t *testing.T) {
	f, err := os.Open("testdata/aws-examples.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, perrs := readAll(t, NewReader(f))
	if len(perrs) != 0 {
		t.Fatalf("parse errors: %v", perrs)
	}
	if len(recs) != 16 {
		t.Fatalf("got %d records, want 16", len(recs))
	}

	ssh := recs[0]
	want := Record{Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
		SrcAddr: netip.MustParseAddr("172.31.16.139"), DstAddr: netip.MustParseAddr("172.31.16.21"),
		SrcPort: 20641, DstPort: 22, Protocol: 6, Packets: 20, Bytes: 4249,
		Start: 1418530010, End: 1418530070, Action: ActionAccept, LogStatus: LogStatusOK}
	want.Set = MustParseFormat(DefaultFormat).Set()
	if ssh != want {
		t.Errorf("ssh record = %+v; want %+v", ssh, want)
	}

	nodata := recs[2]
	if nodata.LogStatus != LogStatusNoData || nodata.Has(FieldSrcAddr) || nodata.Has(FieldAction) ||
		nodata.Action != ActionNone || nodata.SrcAddr.IsValid() || !nodata.Has(FieldStart) {
		t.Errorf("NODATA record = %+v", nodata)
	}
	if recs[3].LogStatus != LogStatusSkipData {
		t.Errorf("SKIPDATA record log status = %v", recs[3].LogStatus)
	}
	if icmp := recs[4]; icmp.Protocol != 1 || icmp.SrcPort != 0 || !icmp.Has(FieldSrcPort) {
		t.Errorf("ICMP record = %+v", icmp)
	}
	if v6 := recs[6]; !v6.SrcAddr.Is6() || v6.SrcAddr != netip.MustParseAddr("2001:db8:1234:a100:8d6e:3477:df66:f105") {
		t.Errorf("IPv6 srcaddr = %v", v6.SrcAddr)
	}

	// v3 with TCP flags, a reordered format, and the double space of the docs.
	flags := []int32{2, 18, 3, 19}
	for i, want := range flags {
		r := recs[7+i]
		if r.TCPFlags != want || r.Type != "IPv4" || r.VPCID != "vpc-abcdefab012345678" || r.InstanceID != "i-01234567890123456" {
			t.Errorf("v3 record %d = %+v; want tcp-flags %d", i, r, want)
		}
	}
	if r := recs[10]; r.Bytes != 869 || r.Packets != 8 || r.PktSrcAddr != netip.MustParseAddr("10.0.0.62") {
		t.Errorf("double-space record = %+v", r)
	}

	nat := recs[11]
	if nat.Has(FieldInstanceID) || nat.PktDstAddr != netip.MustParseAddr("203.0.113.5") || nat.Has(FieldVersion) {
		t.Errorf("NAT record = %+v", nat)
	}

	s3in := recs[13]
	if s3in.Region != "ap-southeast-2" || s3in.AZID != "apse2-az3" || s3in.PktSrcAWSService != "S3" ||
		s3in.Has(FieldPktDstAWSService) || s3in.FlowDirection != "ingress" || s3in.Has(FieldTrafficPath) ||
		s3in.Has(FieldSublocationType) {
		t.Errorf("v5 ingress record = %+v", s3in)
	}
	if s3out := recs[14]; s3out.TrafficPath != 8 || s3out.PktDstAWSService != "S3" || s3out.FlowDirection != "egress" {
		t.Errorf("v5 egress record = %+v", s3out)
	}
}

func TestEncryptionStatusHeader(t *testing.T) {
	in := "flow-direction traffic-path srcaddr dstaddr srcport dstport encryption-status\ningress - 10.0.133.8 10.0.128.55 43236 80 1\n"
	recs, perrs := readAll(t, NewReader(strings.NewReader(in)))
	if len(perrs) != 0 || len(recs) != 1 {
		t.Fatalf("got %d records, errors %v", len(recs), perrs)
	}
	r := recs[0]
	if r.EncryptionStatus != 1 || !r.Has(FieldEncryptionStatus) || r.Has(FieldTrafficPath) || r.DstPort != 80 {
		t.Errorf("record = %+v", r)
	}
}

// Two custom formats with the same number of fields must each be read in its
// own layout: the format is never guessed from the field count.
func TestSameFieldCountFormats(t *testing.T) {
	a := MustParseFormat("${srcaddr} ${dstaddr} ${srcport} ${dstport}")
	b := MustParseFormat("${dstport} ${srcport} ${dstaddr} ${srcaddr}")
	line := "10.0.0.1 10.0.0.2 1234 443"
	ra := NewReader(strings.NewReader(line))
	ra.SetFormat(a)
	recA, err := ra.Read()
	if err != nil {
		t.Fatal(err)
	}
	if recA.SrcAddr != netip.MustParseAddr("10.0.0.1") || recA.DstPort != 443 {
		t.Errorf("format a: %+v", recA)
	}
	rb := NewReader(strings.NewReader("443 1234 10.0.0.2 10.0.0.1"))
	rb.SetFormat(b)
	recB, err := rb.Read()
	if err != nil {
		t.Fatal(err)
	}
	if recA != recB {
		t.Errorf("format b gave %+v; want %+v", recB, recA)
	}
	// The same count of fields with a format whose types disagree is an error, never a guess.
	rc := NewReader(strings.NewReader(line))
	rc.SetFormat(b)
	if _, err := rc.Read(); !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrAddr) {
		t.Errorf("mismatched format: err = %v; want a typed parse error", err)
	}
}

func TestHeaderSwitchesFormat(t *testing.T) {
	in := "srcaddr dstaddr\n10.0.0.1 10.0.0.2\ndstport srcport\n80 1024\n"
	r := NewReader(strings.NewReader(in))
	recs, perrs := readAll(t, r)
	if len(perrs) != 0 || len(recs) != 2 {
		t.Fatalf("got %d records, errors %v", len(recs), perrs)
	}
	if recs[1].DstPort != 80 || recs[1].SrcPort != 1024 || recs[1].Has(FieldSrcAddr) {
		t.Errorf("second record = %+v", recs[1])
	}
	if got := r.Format().String(); got != "${dstport} ${srcport}" {
		t.Errorf("Format() = %q", got)
	}
}

// HeaderLines counts the header lines read, whether or not they change the
// format: a header Equal to the format in effect leaves Format as it was.
func TestHeaderLines(t *testing.T) {
	v2 := MustParseFormat(DefaultFormat).Header()
	in := v2 + "\n2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n" + v2 + "\nsrcaddr dstaddr\n10.0.0.1 10.0.0.2\n"
	r := NewReader(strings.NewReader(in))
	def := r.Format()
	if n := r.HeaderLines(); n != 0 {
		t.Errorf("HeaderLines() = %d before reading; want 0", n)
	}
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	if n := r.HeaderLines(); n != 1 || r.Format() != def || r.Line() != 2 {
		t.Errorf("after a default-format header: HeaderLines() = %d, Format() changed %v, Line() = %d; want 1, false, 2",
			n, r.Format() != def, r.Line())
	}
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	if n := r.HeaderLines(); n != 3 || r.Format().String() != "${srcaddr} ${dstaddr}" {
		t.Errorf("HeaderLines() = %d, Format() = %v; want 3, ${srcaddr} ${dstaddr}", n, r.Format())
	}
	if _, err := r.Read(); err != io.EOF || r.HeaderLines() != 3 {
		t.Errorf("Read() = %v, HeaderLines() = %d at the end; want EOF, 3", err, r.HeaderLines())
	}
	r.Reset(strings.NewReader("10.0.0.1 10.0.0.2\n"))
	if _, err := r.Read(); err != nil || r.HeaderLines() != 0 {
		t.Errorf("after Reset: Read() = %v, HeaderLines() = %d; want nil, 0", err, r.HeaderLines())
	}
	// A format set Equal to the one in effect leaves Format as it was.
	cur := r.Format()
	if r.SetFormat(MustParseFormat(cur.String())); r.Format() != cur {
		t.Errorf("SetFormat(an equal format) changed Format()")
	}
}

func TestHeaderUnknownNames(t *testing.T) {
	in := "srcaddr next-hop-type dstport\n10.0.0.1 igw 443\n"
	r := NewReader(strings.NewReader(in))
	recs, perrs := readAll(t, r)
	if len(perrs) != 0 || len(recs) != 1 || recs[0].DstPort != 443 {
		t.Fatalf("records %+v, errors %v", recs, perrs)
	}
	if u := r.Format().Unknown(); len(u) != 1 || u[0] != "next-hop-type" {
		t.Errorf("Unknown() = %q", u)
	}
}

func TestBadLinesKeepGoodOnes(t *testing.T) {
	lines := []string{
		"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK",   // 1 good
		"2 123456789010 eni-1 10.0.0.1 10.0.0.999 1 2 6 1 1 1 2 ACCEPT OK", // 2 dstaddr
		"", // 3 empty
		"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 65536 6 1 1 1 2 ACCEPT OK",                 // 4 dstport range
		"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 256 1 1 1 2 ACCEPT OK",                   // 5 protocol range
		"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 -1 1 1 2 ACCEPT OK",                    // 6 packets syntax
		"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ALLOW OK",                      // 7 action
		"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT MAYBE",                  // 8 log-status
		"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT",                        // 9 count
		"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 9223372036854775808 1 2 ACCEPT OK",   // 10 bytes range
		"1 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK",                     // 11 version
		"2 123456789010 eni-1 fe80::1%eth0 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK",                 // 12 zone
		"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 9223372036854775807 1 2 ACCEPT OK\r", // 13 good, max bytes, CRLF
		"   \t  ", // 14 blank
		"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK extra", // 15 count
		"2  123456789010   eni-1 10.0.0.1\t10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK",   // 16 good, whitespace runs
	}
	want := []struct {
		line, column int
		field        string
		err          error
	}{
		{2, 5, "dstaddr", ErrAddr}, {4, 7, "dstport", ErrRange}, {5, 8, "protocol", ErrRange},
		{6, 9, "packets", ErrSyntax}, {7, 13, "action", ErrAction}, {8, 14, "log-status", ErrLogStatus},
		{9, 0, "", ErrFieldCount}, {10, 10, "bytes", ErrRange}, {11, 1, "version", ErrVersion},
		{12, 4, "srcaddr", ErrAddr}, {15, 0, "", ErrFieldCount},
	}
	recs, perrs := readAll(t, NewReader(strings.NewReader(strings.Join(lines, "\n"))))
	if len(recs) != 3 {
		t.Errorf("got %d good records, want 3", len(recs))
	}
	if len(recs) == 3 && recs[1].Bytes != 1<<63-1 {
		t.Errorf("max bytes = %d", recs[1].Bytes)
	}
	if len(perrs) != len(want) {
		t.Fatalf("got %d errors %v, want %d", len(perrs), perrs, len(want))
	}
	for i, w := range want {
		pe := perrs[i]
		if pe.Line != w.line || pe.Column != w.column || pe.Field != w.field || !errors.Is(pe, w.err) {
			t.Errorf("error %d = %v (line %d column %d field %q); want line %d column %d field %q %v",
				i, pe, pe.Line, pe.Column, pe.Field, w.line, w.column, w.field, w.err)
		}
	}
	// Line, column and field, as encoding/csv's ParseError gives line and
	// column; an error about the whole line has neither column nor field.
	if got := perrs[0].Error(); got != `line 2, column 5: dstaddr: not an IPv4 or IPv6 address ("10.0.0.999")` {
		t.Errorf("Error() = %q", got)
	}
	if got := perrs[6].Error(); got != `line 9: wrong number of fields: got 13, want 14` {
		t.Errorf("Error() = %q", got)
	}
}

func TestGzipAndLongLines(t *testing.T) {
	var plain bytes.Buffer
	plain.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	good := "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n"
	plain.WriteString(good)
	plain.WriteString(strings.Repeat("x", MaxLineBytes+10) + "\n")
	for range 1000 {
		plain.WriteString(good)
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(plain.Bytes())
	zw.Close()

	for name, in := range map[string][]byte{"plain": plain.Bytes(), "gzip": zipped.Bytes()} {
		recs, perrs := readAll(t, NewReader(bytes.NewReader(in)))
		if len(recs) != 1001 || len(perrs) != 1 || !errors.Is(perrs[0], ErrLineTooLong) || perrs[0].Line != 3 {
			t.Errorf("%s: %d records, errors %v", name, len(recs), perrs)
		}
	}

	// A truncated gzip stream is an error, after the records before the cut.
	cut := zipped.Bytes()[:zipped.Len()-12]
	r := NewReader(bytes.NewReader(cut))
	var err error
	n := 0
	for {
		_, err = r.Read()
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				continue
			}
			break
		}
		n++
	}
	if !errors.Is(err, ErrCorruptStream) {
		t.Errorf("truncated gzip: err = %v after %d records; want ErrCorruptStream", err, n)
	}
}

func TestParseFormatErrors(t *testing.T) {
	for _, tc := range []struct {
		in  string
		err error
	}{
		{"", ErrEmptyFormat},
		{"   ", ErrEmptyFormat},
		{"${version} ${nope}", ErrUnknownField},
		{"${version} srcaddr", ErrMalformedFormat},
		{"${version", ErrMalformedFormat},
		{"${}", ErrMalformedFormat},
		{"${a${b}}", ErrMalformedFormat},
		{"${srcaddr} ${srcaddr}", ErrDuplicateField},
	} {
		_, err := ParseFormat(tc.in)
		if !errors.Is(err, tc.err) {
			t.Errorf("ParseFormat(%q) = %v; want %v", tc.in, err, tc.err)
		}
	}
	fm, err := ParseFormat("${tgw-id} ${packets-lost-mtu-exceeded} ${reject-reason} ${ecs-task-id} ${resource-id}")
	if err != nil {
		t.Fatal(err)
	}
	if fm.Len() != 5 || fm.Fields()[1] != FieldPacketsLostMTUExceeded {
		t.Errorf("fields = %v", fm.Fields())
	}
}

// Every known field, in one format, parses and round-trips.
func TestAllFieldsRoundTrip(t *testing.T) {
	fm := FormatOf(Fields()...)
	if fm.Len() != NumFields {
		t.Fatalf("NumFields = %d, format has %d", NumFields, fm.Len())
	}
	var line []byte
	for i, f := range fm.Fields() {
		if i > 0 {
			line = append(line, ' ')
		}
		switch f.Kind() {
		case KindString:
			line = append(line, "v-"+f.String()...)
		case KindAddr:
			line = append(line, "2600:1f18::"+string(rune('a'+i%6))...)
		case KindAction:
			line = append(line, "REJECT"...)
		case KindLogStatus:
			line = append(line, "SKIPDATA"...)
		case KindInt64:
			line = append(line, "5000000000"...)
		default:
			line = append(line, "7"...)
		}
	}
	r := NewReader(bytes.NewReader(line))
	r.SetFormat(fm)
	rec, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Set != fm.Set() {
		t.Errorf("Set = %b; want %b", rec.Set, fm.Set())
	}
	if got := rec.AppendText(nil, fm); string(got) != string(line) {
		t.Errorf("round trip:\n got %s\nwant %s", got, line)
	}
	if rec.ECSTaskID != "v-ecs-task-id" || rec.TGWPairAttachmentID != "v-tgw-pair-attachment-id" || rec.PacketsLostTTLExpired != 5e9 {
		t.Errorf("record = %+v", rec)
	}
	for _, f := range Fields() {
		if f.Kind() == KindString && rec.String(f) != "v-"+f.String() {
			t.Errorf("String(%v) = %q", f, rec.String(f))
		}
	}
}

func TestFieldNames(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields() {
		if seen[f.String()] {
			t.Errorf("duplicate name %q", f.String())
		}
		seen[f.String()] = true
		if g, ok := LookupField(f.String()); !ok || g != f {
			t.Errorf("LookupField(%q) = %v, %v", f.String(), g, ok)
		}
		if g, ok := LookupField(f.Column()); !ok || g != f {
			t.Errorf("LookupField(%q) = %v, %v", f.Column(), g, ok)
		}
		if f.Version() < 2 || f.Doc() == "" {
			t.Errorf("field %v: version %d, doc %q", f, f.Version(), f.Doc())
		}
	}
	if len(seen) != 68 {
		t.Errorf("%d fields; want 68 (40 VPC v2–v8, resource-id, encryption-status, 8 v11, 18 transit gateway)", len(seen))
	}
	if _, ok := LookupField("extra"); ok || FieldExtra.String() != "extra" {
		t.Errorf("FieldExtra is a field of formats")
	}
}

// Integers of every length from 1 to 20 digits read as strconv reads them,
// including at the very end of the input.
func TestIntegerLengths(t *testing.T) {
	fm := MustParseFormat("${packets} ${bytes}")
	for n := 1; n <= 20; n++ {
		tok := strings.Repeat("9876543210", 2)[:n]
		want, err := strconv.ParseInt(tok, 10, 64)
		for _, line := range []string{tok + " " + tok, "  " + tok + "   " + tok + "\n"} {
			r := NewReader(strings.NewReader(line))
			r.SetFormat(fm)
			rec, rerr := r.Read()
			if (err == nil) != (rerr == nil) || (err == nil && (rec.Packets != want || rec.Bytes != want)) {
				t.Errorf("%q: got %d %d, %v; want %d, %v", line, rec.Packets, rec.Bytes, rerr, want, err)
			}
		}
	}
}

// A tab in place of any one space, or of all of them, reads as the space
// would: tabs are looked for only when a token fails, so every kind of
// field is tried.
func TestTabsAnywhere(t *testing.T) {
	lines := []struct{ format, line string }{
		{DefaultFormat, "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"},
		{DefaultFormat, "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"},
		{"${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}",
			"vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK"},
	}
	read := func(format, line string) (Record, error) {
		r := NewReader(strings.NewReader(line))
		r.SetFormat(MustParseFormat(format))
		return r.Read()
	}
	for _, tc := range lines {
		want, err := read(tc.format, tc.line)
		if err != nil {
			t.Fatalf("%q: %v", tc.line, err)
		}
		variants := []string{strings.ReplaceAll(tc.line, " ", "\t"), strings.ReplaceAll(tc.line, " ", " \t ")}
		for k, c := range tc.line {
			if c == ' ' {
				variants = append(variants, tc.line[:k]+"\t"+tc.line[k+1:])
			}
		}
		for _, v := range variants {
			// A fresh reader, and one that has already interned the values.
			for _, warm := range []bool{false, true} {
				r := NewReader(strings.NewReader(tc.line + "\n" + v))
				r.SetFormat(MustParseFormat(tc.format))
				if warm {
					if _, err := r.Read(); err != nil {
						t.Fatal(err)
					}
				} else {
					r = NewReader(strings.NewReader(v))
					r.SetFormat(MustParseFormat(tc.format))
				}
				got, err := r.Read()
				if err != nil || got != want {
					t.Errorf("%q (warm %v): %+v, %v; want %+v", v, warm, got, err, want)
				}
			}
		}
	}
}

// One record per Reset, with the format set again each time (as the
// CloudWatch Logs path reads messages), allocates nothing once warm: the
// same format keeps its compiled plan and tables.
func TestResetSetFormatZeroAllocs(t *testing.T) {
	fm := MustParseFormat("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id}")
	same := MustParseFormat(fm.String()) // equal, not the same pointer
	msg := "5 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK vpc-0a1b2c3d"
	var sr strings.Reader
	r := NewReader(&sr)
	var rec Record
	k := 0
	read := func() {
		sr.Reset(msg)
		r.Reset(&sr)
		if k++; k%2 == 0 {
			r.SetFormat(fm)
		} else {
			r.SetFormat(same)
		}
		if err := r.ReadInto(&rec); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		read()
	}
	if n := testing.AllocsPerRun(1000, read); n != 0 {
		t.Errorf("%v allocations per message; want 0", n)
	}
	if rec.VPCID != "vpc-0a1b2c3d" || rec.DstPort != 22 {
		t.Errorf("read %+v", rec)
	}
}
