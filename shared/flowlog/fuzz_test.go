package flowlog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// seeds returns (format, line) pairs from the examples in testdata (AWS's
// documentation examples, and version-11 records of our own): each header
// line sets the format of the records below it. A header with columns this
// package does not know stays a header line (ParseFormat refuses unknown
// names), so that FuzzLine reads it as one.
func seeds(f *testing.F) [][2]string {
	f.Helper()
	var out [][2]string
	for _, name := range []string{"testdata/aws-examples.log", "testdata/v11-examples.log"} {
		file, err := os.Open(name)
		if err != nil {
			f.Fatal(err)
		}
		format := DefaultFormat
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			line := sc.Text()
			if fm, ok := parseHeader([]byte(line)); ok {
				format = fm.String()
				if len(fm.Unknown()) > 0 {
					format = fm.Header()
				}
				continue
			}
			out = append(out, [2]string{format, line})
		}
		file.Close()
	}
	return out
}

// fuzzFormat compiles the format of a FuzzLine input: a "${...}" format
// string, or the bare names of a header line, which may name columns this
// package does not know.
func fuzzFormat(s string) (*Format, bool) {
	if fm, err := ParseFormat(s); err == nil {
		return fm, true
	}
	return parseHeader([]byte(s))
}

// readOne reads every record of in under fm and returns the first, if any.
func readOne(fm *Format, in []byte) (Record, bool) {
	r := NewReader(bytes.NewReader(in))
	r.SetFormat(fm)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return Record{}, false
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			if pe.Line < 1 || pe.Err == nil {
				panic("ParseError without line or reason")
			}
			continue
		}
		if err != nil {
			return Record{}, false
		}
		return rec, true
	}
}

// FuzzLine: no panic on any line, and a record that parses, formatted back
// in its format, parses to the same record.
func FuzzLine(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s[0], s[1])
	}
	f.Add(DefaultFormat, "2 123 eni-1 - - - - - - - 1 2 - NODATA")
	f.Add("${tgw-id} ${packets-lost-no-route} ${encryption-status}", "tgw-1 18446744073709551615 3")
	f.Add("${srcport} ${packets} ${start}", "65535 0000000000000000009 12345678901234567")
	f.Add("version next-hop-interface-type future-field instance-tag", "11 regional_nat_gateway 42 -")
	f.Add("future-field srcaddr", "- 10.0.0.1\nsrcaddr other-field\n10.0.0.2 x")
	f.Fuzz(func(t *testing.T, format, line string) {
		fm, ok := fuzzFormat(format)
		if !ok {
			return
		}
		checkAgainstReference(t, fm, line)
		r := NewReader(strings.NewReader(line))
		r.SetFormat(fm)
		for {
			rec, err := r.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					return // an I/O error (a line that looked like gzip, say) ends the input
				}
				continue
			}
			cur := r.Format()
			text := rec.AppendText(nil, cur)
			again, ok := readOne(cur, text)
			if !ok {
				t.Fatalf("round trip: %q (format %q) formatted as %q does not parse", line, cur, text)
			}
			if again != rec {
				t.Fatalf("round trip: %q → %+v → %q → %+v", line, rec, text, again)
			}
		}
	})
}

// checkAgainstReference compares the reader on a one-line input with a
// plain reference: split on spaces and tabs, then setField on each token,
// and the name and token of each unknown column that is not '-' into
// Extra.
func checkAgainstReference(t *testing.T, fm *Format, line string) {
	t.Helper()
	if strings.ContainsAny(line, "\n") || strings.HasPrefix(line, "\x1f\x8b") {
		return // several lines, or gzip: the round trip below covers them
	}
	b := trimSpace([]byte(line))
	if len(b) == 0 || (b[0] >= 'a' && b[0] <= 'z') {
		return // empty, or perhaps a header line
	}
	toks := strings.FieldsFunc(string(b), func(c rune) bool { return c == ' ' || c == '\t' })
	var want Record
	wantOK := len(toks) == len(fm.fields)
	ref := &Reader{}
	var extra []string
	for k := 0; wantOK && k < len(toks); k++ {
		switch {
		case toks[k] == "-":
		case fm.fields[k] == FieldUnknown:
			extra = append(extra, fm.names[k], toks[k])
		default:
			wantOK = ref.setField(&want, fm.fields[k], []byte(toks[k])) == nil
		}
	}
	if len(extra) > 0 {
		want.Extra = strings.Join(extra, " ")
		want.Set = want.Set.With(FieldExtra)
	}
	r := NewReader(strings.NewReader(line))
	r.SetFormat(fm)
	got, err := r.Read()
	if gotOK := err == nil; gotOK != wantOK {
		t.Fatalf("%q (format %q): reader error %v; reference ok=%v", line, fm, err, wantOK)
	}
	if wantOK && got != want {
		t.Fatalf("%q (format %q): reader %+v; reference %+v", line, fm, got, want)
	}
}

// FuzzFormat: format strings and header lines never panic, and a format
// that compiles survives its own String and Header forms.
func FuzzFormat(f *testing.F) {
	f.Add(DefaultFormat)
	f.Add("${version} ${srcaddr")
	f.Add("${}")
	for _, s := range seeds(f) {
		f.Add(s[0])
	}
	f.Add("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")
	f.Add("version interface-type next-hop-interface-id next-hop-subnet-id next-hop-az-id next-hop-vpc-id next-hop-interface-type instance-tag interface-tag")
	f.Add("version srcaddr asg-tag instance-tag-2 future-field")
	f.Add("version srcaddr future future")
	f.Add("${interface_type} ${next-hop-az-id}")
	f.Fuzz(func(t *testing.T, s string) {
		if fm, err := ParseFormat(s); err == nil {
			again, err := ParseFormat(fm.String())
			if err != nil || !again.Equal(fm) {
				t.Fatalf("ParseFormat(%q).String() = %q does not compile back: %v", s, fm.String(), err)
			}
			if h, ok := parseHeader([]byte(fm.Header())); !ok || !h.Equal(fm) {
				t.Fatalf("header %q of %q does not read back", fm.Header(), s)
			}
		}
		if fm, ok := parseHeader([]byte(s)); ok {
			again, ok := parseHeader([]byte(fm.Header()))
			if !ok || !again.Equal(fm) {
				t.Fatalf("parseHeader(%q).Header() = %q does not read back", s, fm.Header())
			}
		}
	})
}
