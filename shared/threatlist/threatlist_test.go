package threatlist_test

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/threatlist"
)

const sample = `# Tor exit nodes, made up
address,label
198.51.100.23,tor exit
198.51.100.24 "relay, guard"
203.0.113.0/24	botnet c2
203.0.113.77/32 the c2 itself
2001:db8::1
10.20.0.0/16,lab

`

func mustParse(t testing.TB, text string) *threatlist.List {
	t.Helper()
	l, bad, err := threatlist.Parse("tor-exits", "tor.txt", strings.NewReader(text))
	if err != nil || len(bad) > 0 {
		t.Fatalf("Parse: %v %v", bad, err)
	}
	return l
}

func TestLookup(t *testing.T) {
	l := mustParse(t, sample)
	if l.Len() != 6 {
		t.Errorf("Len() = %d; want 6", l.Len())
	}
	for _, tc := range []struct {
		addr  string
		label string
		ok    bool
	}{
		{"198.51.100.23", "tor exit", true},
		{"198.51.100.24", "relay, guard", true},
		{"198.51.100.25", "", false},
		{"203.0.113.1", "botnet c2", true},
		{"203.0.113.77", "the c2 itself", true},
		{"203.0.113.255", "botnet c2", true},
		{"203.0.114.0", "", false},
		{"203.0.112.255", "", false},
		{"10.20.255.1", "lab", true},
		{"10.21.0.1", "", false},
		{"2001:db8::1", "", true},
		{"2001:db8::2", "", false},
		{"::ffff:198.51.100.23", "", false}, // the lake's text of it is IPv6
	} {
		label, ok := l.Lookup(netip.MustParseAddr(tc.addr))
		if label != tc.label || ok != tc.ok {
			t.Errorf("Lookup(%s) = %q, %v; want %q, %v", tc.addr, label, ok, tc.label, tc.ok)
		}
	}
	var none *threatlist.List
	if _, ok := none.Lookup(netip.MustParseAddr("198.51.100.23")); ok {
		t.Error("nil list: Lookup found an entry")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // the errors, as text
		entries    int
	}{
		{"bad address keeps the rest", "198.51.100.1\nnot-an-addr!,x\n198.51.100.2\n",
			[]string{`tor.txt:2: address: not an IPv4 or IPv6 address or CIDR block ("not-an-addr!")`}, 2},
		{"too short a block", "10.0.0.0/8 private\n192.0.2.1\n",
			[]string{`tor.txt:1: address: IPv4 block shorter than /16 ("10.0.0.0/8")`}, 1},
		{"an IPv6 block", "2001:db8::/32\n", []string{`tor.txt:1: address: IPv6 blocks are not supported: give single addresses ("2001:db8::/32")`}, 0},
		{"a zone", "fe80::1%eth0\n", []string{`tor.txt:1: address: not an IPv4 or IPv6 address or CIDR block ("fe80::1%eth0")`}, 0},
		{"a header only before the first entry", "ip,label\n192.0.2.1\naddress,label\n",
			[]string{`tor.txt:3: address: not an IPv4 or IPv6 address or CIDR block ("address")`}, 1},
		{"a control character in the label", "192.0.2.1 a\x01b\n", []string{`tor.txt:1: label: label holds a control character ("a\x01b")`}, 0},
		{"a bad prefix length", "192.0.2.0/33\n", []string{`tor.txt:1: address: not an IPv4 or IPv6 address or CIDR block ("192.0.2.0/33")`}, 0},
		{"host bits are masked", "192.0.2.7/24\n", nil, 1},
		{"duplicates: the first wins", "192.0.2.1 a\n192.0.2.1 b\n", nil, 1},
		{"a line too long", strings.Repeat("x", threatlist.MaxLineBytes+1) + "\n", []string{"tor.txt:1: line too long"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, bad, err := threatlist.Parse("tor-exits", "tor.txt", strings.NewReader(tc.text))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []string
			for _, e := range bad {
				got = append(got, e.Error())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors = %q; want %q", got, tc.want)
			}
			if l.Len() != tc.entries {
				t.Errorf("Len() = %d; want %d", l.Len(), tc.entries)
			}
		})
	}
	_, bad, _ := threatlist.Parse("x", "", strings.NewReader("10.0.0.0/8\n"))
	if len(bad) != 1 || !errors.Is(bad[0], threatlist.ErrTooShort) || bad[0].Line != 1 || bad[0].Field != "address" ||
		bad[0].Error() != `threat list x:1: address: IPv4 block shorter than /16 ("10.0.0.0/8")` {
		t.Errorf("without a file: %v", bad)
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"tor-exits": true, "vendor_1.v2": true, "": false, "-x": false, "a/b": false, "a b": false,
		strings.Repeat("a", 65): false, "..": false,
	} {
		if err := threatlist.CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v; want ok %v", name, err, ok)
		}
	}
}

func TestRows(t *testing.T) {
	l := mustParse(t, "2001:db8::1 v6\n203.0.113.0/24 c2\n203.0.113.77 boss\n198.51.100.23\n198.51.100.24\n10.20.0.0/23 lab\n")
	var got []string
	for _, r := range l.Rows() {
		got = append(got, fmt.Sprintf("%s %s %d-%d %q", r.List, r.Key, r.Lo, r.Hi, r.Label))
	}
	want := []string{
		`tor-exits 2001:db8::1 0-0 "v6"`,
		`tor-exits 10.20.0 0-255 "lab"`,
		`tor-exits 10.20.1 0-255 "lab"`,
		`tor-exits 198.51.100 23-24 ""`,
		`tor-exits 203.0.113 0-76 "c2"`,
		`tor-exits 203.0.113 77-77 "boss"`,
		`tor-exits 203.0.113 78-255 "c2"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLookupAllocs(t *testing.T) {
	l := mustParse(t, sample)
	addrs := []netip.Addr{netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2001:db8::9")}
	if n := testing.AllocsPerRun(100, func() {
		for _, a := range addrs {
			l.Lookup(a)
		}
	}); n != 0 {
		t.Errorf("Lookup allocates %v times; want 0", n)
	}
}

func BenchmarkLookup(b *testing.B) {
	var text strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&text, "185.%d.%d.%d tor exit\n", 100+i%50, i/50, i%250)
	}
	for i := range 50 {
		fmt.Fprintf(&text, "45.%d.0.0/20 blocklist\n", i)
	}
	l := mustParse(b, text.String())
	a := netip.MustParseAddr("93.184.216.34")
	b.ReportAllocs()
	for b.Loop() {
		l.Lookup(a)
	}
}

func BenchmarkParse(b *testing.B) {
	var text strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&text, "185.%d.%d.%d,tor exit\n", 100+i%50, i/50, i%250)
	}
	b.SetBytes(int64(text.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, bad, err := threatlist.Parse("tor", "", strings.NewReader(text.String())); err != nil || bad != nil {
			b.Fatal(bad, err)
		}
	}
}

// FuzzParse: any input parses without panicking; every entry it keeps is
// found by Lookup, and its rows hold only what Lookup says.
func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("address,label\n1.2.3.4,x\n")
	f.Add("10.0.0.0/8\n::ffff:1.2.3.4 y\n\"1.2.3.0/24\",\"a \"\"b\"\"\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		l, bad, err := threatlist.Parse("fuzz", "f.txt", strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range bad {
			if e.Line < 1 || e.Err == nil {
				t.Errorf("bad error %+v", e)
			}
		}
		for _, e := range l.Entries() {
			if _, ok := l.Lookup(e.Prefix.Addr()); !ok {
				t.Errorf("entry %s not found", e.Prefix)
			}
		}
		if l.Len() > 20 {
			return // Rows is 256 lookups a /24
		}
		for _, r := range l.Rows() {
			if r.Lo > r.Hi || r.Lo < 0 || r.Hi > 255 {
				t.Errorf("row %+v", r)
			}
		}
	})
}
