package threatlist

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Row is a row of the lake's table of lists, threat_lists: the lake engine
// matches a flow's address with an equi-join on Key and a range test on
// the last octet, in SQL that Athena (Trino) and DuckDB both run without
// IP types.
//
// For IPv4, Key is the first three octets' text ("192.0.2") and [Lo, Hi]
// a range of the last octet; an entry shorter than /24 is written as every
// /24 it covers. For IPv6, Key is the address's canonical text, as the
// lake stores it, and Lo = Hi = 0. The ranges of one list never overlap:
// each gives the label Lookup gives its addresses (the longest prefix).
type Row struct {
	List   string
	Key    string
	Lo, Hi int32
	Label  string
}

// Rows returns the list's rows: the IPv6 addresses in list order, then
// the IPv4 ranges by address.
func (l *List) Rows() []Row {
	var out []Row
	keys := map[[3]byte]bool{}
	for _, e := range l.entries {
		a := e.Prefix.Addr()
		if !a.Is4() {
			out = append(out, Row{List: l.Name, Key: a.String(), Label: e.Label})
			continue
		}
		b := a.As4()
		n := 1
		if e.Prefix.Bits() < 24 {
			n = 1 << (24 - e.Prefix.Bits())
		}
		base := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		for i := range n {
			k := base + i
			keys[[3]byte{byte(k >> 16), byte(k >> 8), byte(k)}] = true
		}
	}
	sorted := make([][3]byte, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.SortFunc(sorted, func(x, y [3]byte) int {
		return cmp.Compare(int(x[0])<<16|int(x[1])<<8|int(x[2]), int(y[0])<<16|int(y[1])<<8|int(y[2]))
	})
	for _, k := range sorted {
		key := fmt.Sprintf("%d.%d.%d", k[0], k[1], k[2])
		run := -1 // the row of the run the previous octet is in
		for last := range 256 {
			label, ok := l.Lookup(netip.AddrFrom4([4]byte{k[0], k[1], k[2], byte(last)}))
			switch {
			case !ok:
				run = -1
			case run >= 0 && out[run].Label == label:
				out[run].Hi = int32(last)
			default:
				out = append(out, Row{List: l.Name, Key: key, Lo: int32(last), Hi: int32(last), Label: label})
				run = len(out) - 1
			}
		}
	}
	return out
}
