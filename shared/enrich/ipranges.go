package enrich

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"os"
	"slices"
)

// IPRanges is AWS's ip-ranges.json document.
type IPRanges struct {
	SyncToken    string       `json:"syncToken"`
	CreateDate   string       `json:"createDate"` // "2006-01-02-15-04-05", UTC
	Prefixes     []IPPrefix   `json:"prefixes"`
	IPv6Prefixes []IPv6Prefix `json:"ipv6_prefixes"`
}

// IPPrefix is one IPv4 entry of ip-ranges.json.
type IPPrefix struct {
	IPPrefix           string `json:"ip_prefix"`
	Region             string `json:"region"`
	Service            string `json:"service"`
	NetworkBorderGroup string `json:"network_border_group"`
}

// IPv6Prefix is one IPv6 entry of ip-ranges.json.
type IPv6Prefix struct {
	IPv6Prefix         string `json:"ipv6_prefix"`
	Region             string `json:"region"`
	Service            string `json:"service"`
	NetworkBorderGroup string `json:"network_border_group"`
}

// WriteIPRanges writes doc in AWS's ip-ranges.json layout, for tests and
// demos.
func WriteIPRanges(w io.Writer, doc *IPRanges) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write ip-ranges: %w", err)
	}
	return nil
}

// WriteIPRangesFile writes doc to the file at path (see WriteIPRanges).
func WriteIPRangesFile(path string, doc *IPRanges) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write ip-ranges: %w", err)
	}
	if err := WriteIPRanges(f, doc); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write ip-ranges %s: %w", path, err)
	}
	return nil
}

// AWSRange is the range chosen for an address.
type AWSRange struct {
	Prefix             netip.Prefix
	Service            string // "S3", "EC2", "AMAZON", ...
	Region             string // "us-east-1", "GLOBAL", ...
	NetworkBorderGroup string
}

// Ranges is a lookup table over every range of one ip-ranges.json, IPv4
// and IPv6. It is immutable and safe for concurrent use.
//
// When several ranges hold an address, the most specific prefix wins; for
// the same prefix a named service wins over AMAZON, and among named
// services the first in the file. The table is flattened into disjoint,
// sorted intervals, so a lookup is one binary search.
type Ranges struct {
	SyncToken  string
	CreateDate string

	ranges []AWSRange // the chosen entry per distinct prefix
	v4     []seg4
	v6     []seg6
}

type seg4 struct {
	lo, hi uint32
	idx    int32
}

type seg6 struct {
	lo, hi u128
	idx    int32
}

// ErrIPRanges is wrapped by every error of ParseIPRanges.
var ErrIPRanges = errors.New("bad ip-ranges document")

// ParseIPRanges reads an ip-ranges.json document.
func ParseIPRanges(r io.Reader) (*Ranges, error) {
	var doc IPRanges
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIPRanges, err)
	}
	return NewRanges(&doc)
}

// LoadIPRanges reads the ip-ranges.json file at path.
func LoadIPRanges(path string) (*Ranges, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load ip-ranges: %w", err)
	}
	defer f.Close()
	rs, err := ParseIPRanges(f)
	if err != nil {
		return nil, fmt.Errorf("load ip-ranges %s: %w", path, err)
	}
	return rs, nil
}

// NewRanges builds the lookup table of doc.
func NewRanges(doc *IPRanges) (*Ranges, error) {
	intern := map[string]string{}
	in := func(s string) string {
		if v, ok := intern[s]; ok {
			return v
		}
		intern[s] = s
		return s
	}
	type entry struct {
		r   AWSRange
		ord int
	}
	var ents []entry
	add := func(p, region, service, nbg string) error {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("%w: prefix %q: %w", ErrIPRanges, p, err)
		}
		ents = append(ents, entry{AWSRange{pfx.Masked(), in(service), in(region), in(nbg)}, len(ents)})
		return nil
	}
	for _, p := range doc.Prefixes {
		if err := add(p.IPPrefix, p.Region, p.Service, p.NetworkBorderGroup); err != nil {
			return nil, err
		}
		if !ents[len(ents)-1].r.Prefix.Addr().Is4() {
			return nil, fmt.Errorf("%w: prefixes: %q is not IPv4", ErrIPRanges, p.IPPrefix)
		}
	}
	for _, p := range doc.IPv6Prefixes {
		if err := add(p.IPv6Prefix, p.Region, p.Service, p.NetworkBorderGroup); err != nil {
			return nil, err
		}
		if !ents[len(ents)-1].r.Prefix.Addr().Is6() {
			return nil, fmt.Errorf("%w: ipv6_prefixes: %q is not IPv6", ErrIPRanges, p.IPv6Prefix)
		}
	}
	// Sort by family, start, then shorter prefix first; for one prefix the
	// preferred entry first.
	slices.SortFunc(ents, func(a, b entry) int {
		pa, pb := a.r.Prefix, b.r.Prefix
		if c := pa.Addr().Compare(pb.Addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(pa.Bits(), pb.Bits()); c != 0 {
			return c
		}
		if (a.r.Service == "AMAZON") != (b.r.Service == "AMAZON") {
			if a.r.Service == "AMAZON" {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.ord, b.ord)
	})
	rs := &Ranges{SyncToken: doc.SyncToken, CreateDate: doc.CreateDate}
	var f4, f6 flattener
	for i, e := range ents {
		if i > 0 && e.r.Prefix == ents[i-1].r.Prefix {
			continue // a less preferred entry for the same prefix
		}
		idx := int32(len(rs.ranges))
		rs.ranges = append(rs.ranges, e.r)
		lo, hi := prefixBounds(e.r.Prefix)
		if e.r.Prefix.Addr().Is4() {
			f4.add(lo, hi, idx)
		} else {
			f6.add(lo, hi, idx)
		}
	}
	for _, s := range f4.finish() {
		rs.v4 = append(rs.v4, seg4{uint32(s.lo.lo), uint32(s.hi.lo), s.idx})
	}
	rs.v6 = f6.finish()
	return rs, nil
}

// Len returns the number of distinct prefixes in the table.
func (rs *Ranges) Len() int { return len(rs.ranges) }

// Lookup returns the range that holds a, or nil. IPv4-mapped IPv6
// addresses are looked up as IPv4. The result is shared: do not modify it.
func (rs *Ranges) Lookup(a netip.Addr) *AWSRange {
	if rs == nil {
		return nil
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	var idx int32 = -1
	if a.Is4() {
		b := a.As4()
		idx = search4(rs.v4, binary.BigEndian.Uint32(b[:]))
	} else if a.Is6() {
		idx = search6(rs.v6, addrU128(a))
	}
	if idx < 0 {
		return nil
	}
	return &rs.ranges[idx]
}

// search4 and search6 find the last segment with lo <= x by a binary
// search of fixed steps; search4's have no branch at all, as the
// addresses looked up are random enough to defeat a branch predictor.
func search4(s []seg4, x uint32) int32 {
	if len(s) == 0 || x < s[0].lo {
		return -1
	}
	base, n := 0, len(s)
	for n > 1 {
		half := n >> 1
		// le is 1 when s[base+half].lo <= x: both fit in 32 bits, so
		// lo-x-1 is negative exactly then.
		le := int((uint64(s[base+half].lo) - uint64(x) - 1) >> 63)
		base += half & -le
		n -= half
	}
	if x > s[base].hi {
		return -1
	}
	return s[base].idx
}

func search6(s []seg6, x u128) int32 {
	if len(s) == 0 || x.less(s[0].lo) {
		return -1
	}
	base, n := 0, len(s)
	for n > 1 {
		half := n >> 1
		next := base + half
		if !x.less(s[next].lo) {
			base = next
		}
		n -= half
	}
	if s[base].hi.less(x) {
		return -1
	}
	return s[base].idx
}

// u128 is an address as a 128-bit integer; IPv4 uses lo only.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) add1() u128 {
	lo, c := bits.Add64(a.lo, 1, 0)
	return u128{a.hi + c, lo}
}

func (a u128) sub1() u128 {
	lo, b := bits.Sub64(a.lo, 1, 0)
	return u128{a.hi - b, lo}
}

func addrU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// prefixBounds returns the first and last address of p.
func prefixBounds(p netip.Prefix) (lo, hi u128) {
	lo = addrU128(p.Addr())
	host := p.Addr().BitLen() - p.Bits() // host bits
	var m u128                           // host mask
	switch {
	case host >= 128:
		m = u128{^uint64(0), ^uint64(0)}
	case host > 64:
		m = u128{1<<(host-64) - 1, ^uint64(0)}
	case host == 64:
		m = u128{0, ^uint64(0)}
	default:
		m = u128{0, 1<<host - 1}
	}
	return lo, u128{lo.hi | m.hi, lo.lo | m.lo}
}

// flattener turns nested CIDR ranges, added in order of start then size
// (largest first), into disjoint segments labelled with the innermost range.
type flattener struct {
	stack []seg6
	out   []seg6
	pos   u128 // first address not yet emitted
	end   bool // pos passed the last address
}

func (f *flattener) emit(lo, hi u128, idx int32) {
	if f.end || hi.less(lo) {
		return
	}
	if n := len(f.out); n > 0 && f.out[n-1].idx == idx && f.out[n-1].hi.add1() == lo {
		f.out[n-1].hi = hi
	} else {
		f.out = append(f.out, seg6{lo, hi, idx})
	}
	if hi == (u128{^uint64(0), ^uint64(0)}) {
		f.end = true
	}
	f.pos = hi.add1()
}

func (f *flattener) pop() {
	top := f.stack[len(f.stack)-1]
	f.stack = f.stack[:len(f.stack)-1]
	f.emit(f.pos, top.hi, top.idx)
}

func (f *flattener) add(lo, hi u128, idx int32) {
	for len(f.stack) > 0 && f.stack[len(f.stack)-1].hi.less(lo) {
		f.pop()
	}
	if n := len(f.stack); n > 0 && f.pos.less(lo) {
		f.emit(f.pos, lo.sub1(), f.stack[n-1].idx)
	}
	f.pos = lo
	f.end = false
	f.stack = append(f.stack, seg6{lo, hi, idx})
}

func (f *flattener) finish() []seg6 {
	for len(f.stack) > 0 {
		f.pop()
	}
	return f.out
}
