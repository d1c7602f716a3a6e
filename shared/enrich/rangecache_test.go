package enrich

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// The batch scratch's cache of range lookups answers as Lookup does, for
// more addresses than it has slots and across two generations of ranges
// (a refresh must not serve the old file's answers).
func TestRangeCache(t *testing.T) {
	mk := func(svc string) *Ranges {
		doc := &IPRanges{}
		for i := range 64 {
			doc.Prefixes = append(doc.Prefixes, IPPrefix{IPPrefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{52, byte(i), 0, 0}), 16).String(), Region: "r", Service: svc})
			doc.IPv6Prefixes = append(doc.IPv6Prefixes, IPv6Prefix{IPv6Prefix: netip.PrefixFrom(netip.AddrFrom16([16]byte{0x26, 0, byte(i)}), 24).String(), Region: "r", Service: svc})
		}
		rs, err := NewRanges(doc)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	gens := []*Ranges{mk("S3"), mk("EC2")}
	rng := rand.New(rand.NewPCG(3, 4))
	var sc batchScratch
	for i := range 20000 {
		rs := gens[i/5000%2]
		var a netip.Addr
		if rng.IntN(2) == 0 {
			a = netip.AddrFrom4([4]byte{52, byte(rng.IntN(80)), byte(rng.IntN(4)), 1})
		} else {
			a = netip.AddrFrom16([16]byte{0x26, 0, byte(rng.IntN(80)), 15: byte(rng.IntN(4))})
		}
		if got, want := sc.lookup(rs, a), rs.Lookup(a); got != want {
			t.Fatalf("lookup %d of %s: %v; want %v", i, a, got, want)
		}
	}
}
