package flowlog

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

// testdata/v11-examples.log holds records of our own making (AWS's
// examples page shows no version-11 record): a header with the version-11
// fields, then one whose columns include names no version defines.
func TestVersion11(t *testing.T) {
	f, err := os.Open("testdata/v11-examples.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f)
	recs, perrs := readAll(t, r)
	if len(perrs) != 0 || len(recs) != 7 {
		t.Fatalf("%d records, errors %v; want 7 and none", len(recs), perrs)
	}
	nat := recs[0]
	want := Record{Version: 11, AccountID: "123456789012", InterfaceID: "eni-0a1b2c3d4e5f60718",
		SrcAddr: netip.MustParseAddr("10.0.1.25"), DstAddr: netip.MustParseAddr("52.94.236.248"),
		SrcPort: 49152, DstPort: 443, Protocol: 6, Packets: 12, Bytes: 3480, Start: 1781100000, End: 1781100060,
		Action: ActionAccept, LogStatus: LogStatusOK,
		InterfaceType: "interface", NextHopInterfaceID: "eni-0f1e2d3c4b5a69788", NextHopSubnetID: "subnet-0aa1bb2cc3dd4ee5f",
		NextHopAZID: "apne1-az4", NextHopVPCID: "vpc-0123456789abcdef0", NextHopInterfaceType: "regional_nat_gateway",
		InstanceTag: "payments", InterfaceTag: "web"}
	want.Set = MustParseFormat(DefaultFormat + " ${interface-type} ${next-hop-interface-id} ${next-hop-subnet-id} ${next-hop-az-id}" +
		" ${next-hop-vpc-id} ${next-hop-interface-type} ${instance-tag} ${interface-tag}").Set()
	if nat != want {
		t.Errorf("NAT record = %+v; want %+v", nat, want)
	}
	if rec := recs[2]; rec.Has(FieldNextHopInterfaceID) || rec.Has(FieldInterfaceTag) || rec.InstanceTag != "payments" {
		t.Errorf("'-' next hop: %+v", rec)
	}
	for _, f := range []Field{FieldInterfaceType, FieldNextHopInterfaceID, FieldNextHopSubnetID, FieldNextHopAZID,
		FieldNextHopVPCID, FieldNextHopInterfaceType, FieldInstanceTag, FieldInterfaceTag} {
		if f.Version() != 11 || f.Kind() != KindString {
			t.Errorf("%v: version %d, kind %v; want 11, string", f, f.Version(), f.Kind())
		}
	}
	// The second header's unknown columns land in Extra, '-' left out.
	fm := r.Format()
	if got := fm.Unknown(); !slices.Equal(got, []string{"asg-tag", "instance-tag-2", "future-field"}) || !fm.Has(FieldExtra) {
		t.Errorf("Unknown() = %q, Has(FieldExtra) = %v", got, fm.Has(FieldExtra))
	}
	for i, want := range []string{"asg-tag web-asg instance-tag-2 team-a future-field 42", "instance-tag-2 team-b", ""} {
		rec := recs[4+i]
		if rec.Extra != want || rec.Has(FieldExtra) != (want != "") {
			t.Errorf("record %d: Extra %q (set %v); want %q", 4+i, rec.Extra, rec.Has(FieldExtra), want)
		}
	}
	if v, ok := recs[4].ExtraValue("future-field"); !ok || v != "42" {
		t.Errorf(`ExtraValue("future-field") = %q, %v`, v, ok)
	}
	if _, ok := recs[5].ExtraValue("asg-tag"); ok {
		t.Error("a '-' value is in Extra")
	}
	var names []string
	for n := range recs[4].ExtraFields() {
		names = append(names, n)
	}
	if !slices.Equal(names, fm.Unknown()) {
		t.Errorf("ExtraFields names = %q", names)
	}
	// Written back in its format, a record reads the same, extras and all.
	for _, rec := range recs[4:] {
		line := rec.AppendText(nil, fm)
		if again, ok := readOne(fm, line); !ok || again != rec {
			t.Errorf("%q reads back as %+v; want %+v", line, again, rec)
		}
	}
}

// Version 11 takes the parse loop's fast path, and so does a two-digit
// version up to 99; below 2 is still an error.
func TestVersionDigits(t *testing.T) {
	for _, tc := range []struct {
		tok  string
		want int32
		err  error
	}{{"2", 2, nil}, {"9", 9, nil}, {"10", 10, nil}, {"11", 11, nil}, {"99", 99, nil}, {"123", 123, nil},
		{"07", 7, nil}, {"1", 0, ErrVersion}, {"01", 0, ErrVersion}, {"0", 0, ErrVersion}, {"1a", 0, ErrSyntax}} {
		r := NewReader(strings.NewReader(tc.tok + " eni-1"))
		r.SetFormat(MustParseFormat("${version} ${interface-id}"))
		rec, err := r.Read()
		if !errors.Is(err, tc.err) || rec.Version != tc.want {
			t.Errorf("version %q: %d, %v; want %d, %v", tc.tok, rec.Version, err, tc.want, tc.err)
		}
	}
}

// An unknown ${field} is still an error, which names the nearest field.
func TestUnknownFieldNearest(t *testing.T) {
	for _, tc := range []struct{ format, nearest string }{
		{"${version} ${interface-typ}", "interface-type"},
		{"${next_hop_vpc}", "next-hop-vpc-id"},
		{"${instance-tags}", "instance-tag"},
		{"${srcadr}", "srcaddr"},
	} {
		_, err := ParseFormat(tc.format)
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, ErrUnknownField) || fe.Nearest.String() != tc.nearest ||
			!strings.Contains(err.Error(), "${"+tc.nearest+"}") {
			t.Errorf("ParseFormat(%q) = %v; want ErrUnknownField naming ${%s}", tc.format, err, tc.nearest)
		}
	}
}

// A header naming a column twice, known or not, is no header: the values of
// one map key would be ambiguous.
func TestHeaderDuplicateUnknown(t *testing.T) {
	for _, h := range []string{"version srcaddr future future", "version srcaddr srcaddr", "version log-status log_status"} {
		if _, ok := parseHeader([]byte(h)); ok {
			t.Errorf("parseHeader(%q) is a header", h)
		}
	}
	if fm, ok := parseHeader([]byte("version future srcaddr past")); !ok || fm.Len() != 4 || len(fm.Unknown()) != 2 {
		t.Errorf("parseHeader with two unknown names: %v, %v", fm, ok)
	}
}

// Reading records with unknown columns allocates nothing once their values
// have been seen: Extra is interned.
func TestExtraZeroAllocs(t *testing.T) {
	fm, _ := parseHeader([]byte("version srcaddr asg-tag dstaddr future-field"))
	in := ""
	for i := range 64 {
		in += "11 10.0.0.1 web-asg 10.0.0." + string(rune('0'+i%8)) + " 42\n"
	}
	var sr strings.Reader
	r := NewReader(&sr)
	var rec Record
	read := func() {
		sr.Reset(in)
		r.Reset(&sr)
		r.SetFormat(fm)
		for {
			if err := r.ReadInto(&rec); err != nil {
				break
			}
		}
	}
	read()
	if n := testing.AllocsPerRun(100, read); n != 0 {
		t.Errorf("%v allocations per pass; want 0", n)
	}
	if rec.Extra != "asg-tag web-asg future-field 42" {
		t.Errorf("Extra = %q", rec.Extra)
	}
}
