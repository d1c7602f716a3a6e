package threatlist

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"
)

// Errors a *ParseError wraps. Compare with errors.Is.
var (
	ErrAddr       = errors.New("not an IPv4 or IPv6 address or CIDR block")
	ErrTooShort   = errors.New("IPv4 block shorter than /16")
	ErrIPv6Prefix = errors.New("IPv6 blocks are not supported: give single addresses")
	ErrLabel      = errors.New("label holds a control character")
	ErrLine       = errors.New("line too long")
)

// ErrName is returned for a list name that is not 1 to 64 letters, digits,
// '.', '_' or '-', starting with a letter or digit.
var ErrName = errors.New("list name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")

// Limits.
const (
	MinIPv4Bits  = 16       // the shortest IPv4 block: /16 is 256 blocks of /24 in the lake's table
	MaxLabelLen  = 200      // longer labels are cut to this many bytes
	MaxLineBytes = 64 << 10 // the longest line
	maxNameLen   = 64
)

// ParseError is a line of a list that could not be read. The reader goes
// on with the next line.
type ParseError struct {
	List  string // the list's name
	File  string // the file it came from, "" if none
	Line  int    // 1-based line number
	Field string // "address" or "label", "" for the whole line
	Value string // the offending value, truncated
	Err   error  // one of the Err* sentinels
}

// Error returns "FILE:LINE: FIELD: reason (VALUE)", with the list's name
// in place of the file when there is none.
func (e *ParseError) Error() string {
	src := e.File
	if src == "" {
		src = "threat list " + e.List
	}
	b := fmt.Appendf(nil, "%s:%d: ", src, e.Line)
	if e.Field != "" {
		b = append(append(b, e.Field...), ": "...)
	}
	b = append(b, e.Err.Error()...)
	if e.Value != "" {
		b = fmt.Appendf(b, " (%q)", e.Value)
	}
	return string(b)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Entry is one line of a list.
type Entry struct {
	Prefix netip.Prefix // a single address is a /32 or /128
	Label  string
}

// List is a threat list: its name, which findings cite, and its entries.
// Build it with Parse or New. Lookup is safe for concurrent use.
type List struct {
	Name    string
	entries []Entry
	addrs   map[netip.Addr]string // single addresses
	v4, v6  []block               // blocks by length, longest first
}

type block struct {
	bits int
	m    map[netip.Prefix]string
}

// CheckName reports whether name can name a list: it names the list's
// object in the lake and appears in findings.
func CheckName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("list name %q: %w", name, ErrName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return fmt.Errorf("list name %q: %w", name, ErrName)
		}
	}
	return nil
}

// New returns the list of the given entries. An entry must be valid as
// Parse reads them (an IPv4 block of /16 or longer, an IPv6 address); the
// first entry of a prefix wins over later duplicates, and the longest
// prefix that holds an address gives its label.
func New(name string, entries []Entry) (*List, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	l := &List{Name: name, addrs: map[netip.Addr]string{}}
	for _, e := range entries {
		p, err := checkPrefix(e.Prefix)
		if err != nil {
			return nil, fmt.Errorf("threat list %s: %s: %w", name, e.Prefix, err)
		}
		l.add(Entry{Prefix: p, Label: e.Label})
	}
	return l, nil
}

func checkPrefix(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() || p.Addr().Zone() != "" {
		return p, ErrAddr
	}
	if p.Addr().Is4In6() && p.Bits() == 128 {
		p = netip.PrefixFrom(p.Addr().Unmap(), 32)
	}
	p = p.Masked()
	switch {
	case p.Addr().Is4() && p.Bits() < MinIPv4Bits:
		return p, ErrTooShort
	case p.Addr().Is6() && p.Bits() != 128:
		return p, ErrIPv6Prefix
	}
	return p, nil
}

func (l *List) add(e Entry) {
	a := e.Prefix.Addr()
	if e.Prefix.Bits() == a.BitLen() {
		if _, dup := l.addrs[a]; !dup {
			l.addrs[a] = e.Label
			l.entries = append(l.entries, e)
		}
		return
	}
	blocks := &l.v6
	if a.Is4() {
		blocks = &l.v4
	}
	i := slices.IndexFunc(*blocks, func(b block) bool { return b.bits == e.Prefix.Bits() })
	if i < 0 {
		*blocks = append(*blocks, block{bits: e.Prefix.Bits(), m: map[netip.Prefix]string{}})
		slices.SortFunc(*blocks, func(x, y block) int { return cmp.Compare(y.bits, x.bits) })
		i = slices.IndexFunc(*blocks, func(b block) bool { return b.bits == e.Prefix.Bits() })
	}
	if _, dup := (*blocks)[i].m[e.Prefix]; !dup {
		(*blocks)[i].m[e.Prefix] = e.Label
		l.entries = append(l.entries, e)
	}
}

// Len returns the number of entries.
func (l *List) Len() int { return len(l.entries) }

// Entries returns the entries, in the order they were read (duplicates
// left out).
func (l *List) Entries() []Entry { return slices.Clone(l.entries) }

// Lookup returns the label of the most specific entry that holds a, and
// whether there is one. An IPv4-mapped IPv6 address is an IPv6 address
// here, as the lake's text of it is. It does not allocate.
func (l *List) Lookup(a netip.Addr) (label string, ok bool) {
	if l == nil || !a.IsValid() {
		return "", false
	}
	if a.Zone() != "" {
		a = a.WithZone("")
	}
	if label, ok = l.addrs[a]; ok {
		return label, true
	}
	blocks := l.v6
	if a.Is4() {
		blocks = l.v4
	}
	for i := range blocks {
		p, err := a.Prefix(blocks[i].bits)
		if err != nil {
			continue
		}
		if label, ok = blocks[i].m[p]; ok {
			return label, true
		}
	}
	return "", false
}

// Parse reads a list from r. It returns the list of every entry it could
// read, with a *ParseError for each line it could not; err is an I/O error
// or a bad name, and then the list holds the entries before it. file, when
// not "", names the input in errors.
func Parse(name, file string, r io.Reader) (l *List, bad []*ParseError, err error) {
	if err := CheckName(name); err != nil {
		return nil, nil, err
	}
	l = &List{Name: name, addrs: map[netip.Addr]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLineBytes)
	line, seen := 0, false
	for sc.Scan() {
		line++
		e, skip, perr := parseLine(sc.Text(), !seen)
		if perr != nil {
			perr.List, perr.File, perr.Line = name, file, line
			bad = append(bad, perr)
			seen = true
			continue
		}
		if skip {
			continue
		}
		seen = true
		l.add(e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			bad = append(bad, &ParseError{List: name, File: file, Line: line + 1, Err: ErrLine})
			return l, bad, nil
		}
		src := file
		if src == "" {
			src = name
		}
		return l, bad, fmt.Errorf("read threat list %s: %w", src, err)
	}
	return l, bad, nil
}

// parseLine reads one line: an entry, or skip for a blank line, a comment
// or (first) a header.
func parseLine(s string, first bool) (e Entry, skip bool, perr *ParseError) {
	s = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
	if s == "" || s[0] == '#' {
		return e, true, nil
	}
	addr, label := s, ""
	if i := strings.IndexAny(s, ", \t"); i >= 0 {
		addr, label = s[:i], strings.TrimSpace(s[i+1:])
		if s[i] != ',' {
			// "addr , label" and "addr label" alike.
			label = strings.TrimSpace(strings.TrimPrefix(label, ","))
		}
	}
	addr = strings.Trim(addr, `"`)
	if len(label) >= 2 && label[0] == '"' && label[len(label)-1] == '"' {
		label = strings.ReplaceAll(label[1:len(label)-1], `""`, `"`)
	}
	p, err := parsePrefix(addr)
	if err != nil {
		if first && isHeader(addr) {
			return e, true, nil
		}
		return e, false, &ParseError{Field: "address", Value: trunc(addr), Err: err}
	}
	for _, c := range label {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return e, false, &ParseError{Field: "label", Value: trunc(label), Err: ErrLabel}
		}
	}
	if len(label) > MaxLabelLen {
		label = label[:MaxLabelLen]
		for !utf8.ValidString(label) {
			label = label[:len(label)-1] // do not cut a character in two
		}
	}
	return Entry{Prefix: p, Label: label}, false, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, ErrAddr
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, ErrAddr
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return checkPrefix(p)
}

// isHeader reports whether a first field is a column name: letters,
// '_' and '-' only.
func isHeader(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if (c < 'a' || c > 'z') && s[i] != '_' && s[i] != '-' {
			return false
		}
	}
	return true
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
