package detect

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// like evaluates the LIKE patterns likePatterns writes: a trailing % or an
// exact match.
func like(s, pat string) bool {
	if p, ok := strings.CutSuffix(pat, "%"); ok {
		return strings.HasPrefix(s, p)
	}
	return s == pat
}

// TestLikePatterns: an internal prefix of any length the SQL engine
// accepts matches, as LIKE patterns over the address text the lake
// stores, exactly the addresses netip says it contains; too wide a prefix
// and a zero IPv6 group are refused with the reason.
func TestLikePatterns(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		n      int
		first  string
	}{
		{"100.64.0.0/10", 64, "100.64.%"},
		{"10.1.0.0/16", 1, "10.1.%"},
		{"172.16.0.0/12", 16, "172.16.%"},
		{"192.168.4.0/22", 4, "192.168.4.%"},
		{"198.51.100.7/32", 1, "198.51.100.7"},
		{"203.0.113.0/25", 128, "203.0.113.0"},
		{"1.0.0.0/1", 128, "0.%"},
		{"2600:1f18:1234::/48", 1, "2600:1f18:1234:%"},
		{"2600:1f18:1230::/44", 16, "2600:1f18:1230:%"},
	} {
		p := netip.MustParsePrefix(tc.prefix)
		pats, err := likePatterns(p)
		if err != nil || len(pats) != tc.n || pats[0] != tc.first {
			t.Errorf("%s: %d patterns from %q, %v; want %d from %q", tc.prefix, len(pats), first(pats), err, tc.n, tc.first)
			continue
		}
		if err := CheckInternalPrefix(p); err != nil {
			t.Errorf("%s: CheckInternalPrefix: %v", tc.prefix, err)
		}
		rng := rand.New(rand.NewPCG(1, uint64(len(tc.prefix))))
		base := p.Masked().Addr().As16()
		for range 20000 {
			b := base
			// Near the prefix: its first bytes, random after, or all random.
			keep := p.Bits() / 8
			if p.Addr().Is4() {
				keep += 12
			}
			if rng.IntN(4) == 0 {
				keep = 12
				if p.Addr().Is6() {
					keep = 0
				}
			}
			for i := keep; i < 16; i++ {
				b[i] = byte(rng.Uint32())
			}
			if rng.IntN(2) == 0 && keep > 0 && keep < 16 {
				b[keep-1] ^= byte(1 << rng.IntN(8))
			}
			a := netip.AddrFrom16(b)
			if p.Addr().Is4() {
				a = a.Unmap()
			}
			got := false
			for _, pat := range pats {
				got = got || like(a.String(), pat)
			}
			if got != p.Contains(a) {
				t.Fatalf("%s: %s matches %v; Contains says %v (patterns %v)", tc.prefix, a, got, p.Contains(a), pats)
			}
		}
	}
	for _, tc := range []struct{ prefix, want string }{
		{"0.0.0.0/0", "above 0"},
		{"2600::/7", "over the 256"},
		{"2600:0:1::/48", "zero group"},
	} {
		if err := CheckInternalPrefix(netip.MustParsePrefix(tc.prefix)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error saying %q", tc.prefix, err, tc.want)
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
