package detect

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/flowlake/flowlake/shared/enrich"
)

// classifier tells our side of a flow from the internet. An address is
// internal when enrich.ClassifyIP calls it private, shared (CGNAT),
// loopback, link-local, multicast or unspecified, or when it is inside one
// of the configured prefixes (a VPC's IPv6 block, which is globally
// routable and so "public" to ClassifyIP). Every other valid address,
// public or reserved (documentation and benchmark ranges included), is
// external: it is not ours.
//
// The SQL engine expresses the same test as regular expressions over the
// address text (see sqlInternal); the rule cases run both to keep them in
// step.
type classifier struct {
	prefixes []netip.Prefix
}

// internal reports whether a is ours; false for an invalid address.
func (c *classifier) internal(a netip.Addr) bool { return enrich.Internal(a, c.prefixes) }

// classOf returns (valid, internal) of an address, using a class enrich
// already computed when there is one.
func (c *classifier) classOf(a netip.Addr, class enrich.IPClass, known bool) (bool, bool) {
	if !a.IsValid() {
		return false, false
	}
	if !known {
		class = enrich.ClassifyIP(a)
	}
	return true, enrich.InternalClass(class) || inAny(c.prefixes, a)
}

// CheckInternalPrefix reports whether p can be an internal prefix of
// Config.InternalPrefixes: the SQL engine writes it as LIKE patterns over
// the address text, one per whole-octet (IPv4) or whole-group (IPv6)
// prefix it covers, at most maxPatterns of them (any IPv4 prefix but /0;
// 100.64.0.0/10 is 64 patterns of a /16). An IPv6 prefix may not hold a
// zero group, which the text form may compress to "::".
func CheckInternalPrefix(p netip.Prefix) error {
	_, err := likePatterns(p)
	return err
}

// maxPatterns bounds the LIKE patterns of one prefix.
const maxPatterns = 256

// likePatterns returns the LIKE patterns of p: 10.1.% or 2600:1f18:1234:%,
// one per whole-octet or whole-group prefix p covers.
func likePatterns(p netip.Prefix) ([]string, error) {
	p = p.Masked()
	unit := 16
	if p.Addr().Is4() {
		unit = 8
	}
	if p.Bits() <= 0 {
		return nil, fmt.Errorf("internal prefix %s: want a prefix length above 0", p)
	}
	whole := (p.Bits() + unit - 1) / unit * unit
	n := 1 << (whole - p.Bits())
	if n > maxPatterns {
		return nil, fmt.Errorf("internal prefix %s: covers %d /%d prefixes, over the %d the SQL writes out; give a longer one (/%d or more)",
			p, n, whole, maxPatterns, whole-8)
	}
	out := make([]string, 0, n)
	b := p.Addr().As16()
	for i := range n {
		// Add i at the last bit of the whole prefix: bit whole-1 of the
		// address (of the 16 bytes, IPv4 in the last 4).
		c := b
		off := whole
		if p.Addr().Is4() {
			off += 96
		}
		carry := uint(i) << ((8 - off%8) % 8)
		for k := (off - 1) / 8; k >= 0 && carry > 0; k-- {
			v := uint(c[k]) + carry&0xff
			c[k] = byte(v)
			carry = carry>>8 + v>>8
		}
		a := netip.AddrFrom16(c)
		if p.Addr().Is4() {
			a = a.Unmap()
		}
		q := netip.PrefixFrom(a, whole)
		if q.Addr().Is6() {
			ab := q.Addr().As16()
			for j := 0; j < whole/8; j += 2 {
				if ab[j] == 0 && ab[j+1] == 0 {
					return nil, fmt.Errorf("internal prefix %s: IPv6 prefixes may not contain a zero group", p)
				}
			}
		}
		out = append(out, likePattern(q))
	}
	return out, nil
}

// likePattern returns the LIKE pattern of a whole-octet IPv4 or
// whole-group IPv6 prefix: 10.1.% or 2600:1f18:1234:%.
func likePattern(p netip.Prefix) string {
	p = p.Masked()
	b := p.Addr().AsSlice()
	var parts []string
	if p.Addr().Is4() {
		for i := 0; i < p.Bits()/8; i++ {
			parts = append(parts, fmt.Sprint(b[i]))
		}
		if p.Bits() == 32 {
			return strings.Join(parts, ".")
		}
		return strings.Join(parts, ".") + ".%"
	}
	for i := 0; i < p.Bits()/8; i += 2 {
		parts = append(parts, fmt.Sprintf("%x", uint16(b[i])<<8|uint16(b[i+1])))
	}
	if p.Bits() == 128 {
		return strings.Join(parts, ":")
	}
	return strings.Join(parts, ":") + ":%"
}

// Regular expressions of the internal address classes, over the canonical
// text form (lower case, no leading zeros) that the lake stores.
const (
	internalV4RE = `^(10|127)\.|^169\.254\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^(22[4-9]|23[0-9])\.|^0\.0\.0\.0$`
	internalV6RE = `^f[cd][0-9a-f]{2}:|^fe[89ab][0-9a-f]:|^ff[0-9a-f]{2}:|^::1?$`
)

// sqlInternal is the SQL form of classifier.internal for column col: NULL
// or false for NULL.
func (c *classifier) sqlInternal(col string) string {
	parts := []string{
		fmt.Sprintf("regexp_like(%s, '%s')", col, internalV4RE),
		fmt.Sprintf("regexp_like(%s, '%s')", col, internalV6RE),
	}
	for _, p := range c.prefixes {
		pats, _ := likePatterns(p) // Compile checked them
		for _, pat := range pats {
			parts = append(parts, fmt.Sprintf("%s LIKE '%s'", col, pat))
		}
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// sqlExternal is the SQL form of "valid and not internal".
func (c *classifier) sqlExternal(col string) string {
	return fmt.Sprintf("(%s IS NOT NULL AND NOT %s)", col, c.sqlInternal(col))
}
