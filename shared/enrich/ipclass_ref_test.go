package enrich_test

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/flowlake/flowlake/shared/enrich"
)

// registry is the IANA special-purpose registries (IPv4 and IPv6) as a
// prefix table: the reference ClassifyIP is checked against. The most
// specific prefix wins; unlisted IPv4 is public, unlisted IPv6 is public
// inside 2000::/3 and reserved outside it.
var registry = []struct {
	prefix string
	class  enrich.IPClass
}{
	{"0.0.0.0/8", enrich.IPClassReserved},
	{"0.0.0.0/32", enrich.IPClassUnspecified},
	{"10.0.0.0/8", enrich.IPClassPrivate},
	{"100.64.0.0/10", enrich.IPClassShared},
	{"127.0.0.0/8", enrich.IPClassLoopback},
	{"169.254.0.0/16", enrich.IPClassLinkLocal},
	{"172.16.0.0/12", enrich.IPClassPrivate},
	{"192.0.0.0/24", enrich.IPClassReserved},
	{"192.0.0.9/32", enrich.IPClassPublic},
	{"192.0.0.10/32", enrich.IPClassPublic},
	{"192.0.2.0/24", enrich.IPClassReserved},
	{"192.88.99.0/24", enrich.IPClassReserved},
	{"192.168.0.0/16", enrich.IPClassPrivate},
	{"198.18.0.0/15", enrich.IPClassReserved},
	{"198.51.100.0/24", enrich.IPClassReserved},
	{"203.0.113.0/24", enrich.IPClassReserved},
	{"224.0.0.0/4", enrich.IPClassMulticast},
	{"240.0.0.0/4", enrich.IPClassReserved},
	{"255.255.255.255/32", enrich.IPClassReserved},

	{"::/128", enrich.IPClassUnspecified},
	{"::1/128", enrich.IPClassLoopback},
	{"64:ff9b::/96", enrich.IPClassPublic},
	{"64:ff9b:1::/48", enrich.IPClassReserved},
	{"100::/64", enrich.IPClassReserved},
	{"2000::/3", enrich.IPClassPublic},
	{"2001::/23", enrich.IPClassReserved},
	{"2001::/32", enrich.IPClassPublic},
	{"2001:1::1/128", enrich.IPClassPublic},
	{"2001:1::2/128", enrich.IPClassPublic},
	{"2001:1::3/128", enrich.IPClassPublic},
	{"2001:2::/48", enrich.IPClassReserved},
	{"2001:3::/32", enrich.IPClassPublic},
	{"2001:4:112::/48", enrich.IPClassPublic},
	{"2001:10::/28", enrich.IPClassReserved},
	{"2001:20::/28", enrich.IPClassPublic},
	{"2001:30::/28", enrich.IPClassPublic},
	{"2001:db8::/32", enrich.IPClassReserved},
	{"2002::/16", enrich.IPClassPublic},
	{"3fff::/20", enrich.IPClassReserved},
	{"fc00::/7", enrich.IPClassPrivate},
	{"fe80::/10", enrich.IPClassLinkLocal},
	{"ff00::/8", enrich.IPClassMulticast},
}

func refClass(a netip.Addr) enrich.IPClass {
	if a.Is4In6() {
		return refClass(a.Unmap())
	}
	best, bits := enrich.IPClassPublic, -1
	if a.Is6() {
		best = enrich.IPClassReserved
	}
	for _, r := range registry {
		p := netip.MustParsePrefix(r.prefix)
		if p.Contains(a) && p.Bits() > bits {
			best, bits = r.class, p.Bits()
		}
	}
	return best
}

// TestClassifyIPReference checks ClassifyIP against the prefix table at
// every boundary of every block (first, last, and one either side) and at
// random addresses.
func TestClassifyIPReference(t *testing.T) {
	var probe []netip.Addr
	for _, r := range registry {
		p := netip.MustParsePrefix(r.prefix)
		first := p.Addr()
		last := lastAddr(p)
		probe = append(probe, first, last, first.Next(), last.Prev(), first.Prev(), last.Next())
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b4 [4]byte
		var b16 [16]byte
		for i := range b4 {
			b4[i] = byte(rng.UintN(256))
		}
		for i := range b16 {
			b16[i] = byte(rng.UintN(256))
		}
		// Bias IPv6 towards the interesting top bytes.
		b16[0] = []byte{0x00, 0x01, 0x20, 0x3f, 0xfc, 0xfd, 0xfe, 0xff}[rng.IntN(8)]
		probe = append(probe, netip.AddrFrom4(b4), netip.AddrFrom16(b16))
	}
	for _, a := range probe {
		if !a.IsValid() {
			continue
		}
		if got, want := enrich.ClassifyIP(a), refClass(a); got != want {
			t.Errorf("ClassifyIP(%s) = %v; want %v (reference)", a, got, want)
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
