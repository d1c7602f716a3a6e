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

func internalClass(c enrich.IPClass) bool {
	switch c {
	case enrich.IPClassPrivate, enrich.IPClassShared, enrich.IPClassLoopback,
		enrich.IPClassLinkLocal, enrich.IPClassMulticast, enrich.IPClassUnspecified:
		return true
	}
	return false
}

func (c *classifier) inPrefixes(a netip.Addr) bool {
	for _, p := range c.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// internal reports whether a is ours; false for an invalid address.
func (c *classifier) internal(a netip.Addr) bool {
	return a.IsValid() && (internalClass(enrich.ClassifyIP(a)) || c.inPrefixes(a))
}

// classOf returns (valid, internal) of an address, using a class enrich
// already computed when there is one.
func (c *classifier) classOf(a netip.Addr, class enrich.IPClass, known bool) (bool, bool) {
	if !a.IsValid() {
		return false, false
	}
	if !known {
		class = enrich.ClassifyIP(a)
	}
	return true, internalClass(class) || c.inPrefixes(a)
}

// checkPrefix reports whether p can be written as a LIKE pattern: an IPv4
// prefix of whole octets, or an IPv6 prefix of whole, non-zero 16-bit
// groups (a zero group may be compressed to "::" in the text form).
func checkPrefix(p netip.Prefix) error {
	p = p.Masked()
	if p.Addr().Is4() {
		if p.Bits()%8 != 0 || p.Bits() == 0 {
			return fmt.Errorf("internal prefix %s: IPv4 prefixes must be whole octets (/8, /16, /24, /32)", p)
		}
		return nil
	}
	if p.Bits()%16 != 0 || p.Bits() == 0 {
		return fmt.Errorf("internal prefix %s: IPv6 prefixes must be whole groups (/16, /32, /48, …)", p)
	}
	b := p.Addr().As16()
	for i := 0; i < p.Bits()/8; i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return fmt.Errorf("internal prefix %s: IPv6 prefixes may not contain a zero group", p)
		}
	}
	return nil
}

// likePattern returns the LIKE pattern of a prefix checkPrefix accepted:
// 10.1.% or 2600:1f18:1234:%.
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
		parts = append(parts, fmt.Sprintf("%s LIKE '%s'", col, likePattern(p)))
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// sqlExternal is the SQL form of "valid and not internal".
func (c *classifier) sqlExternal(col string) string {
	return fmt.Sprintf("(%s IS NOT NULL AND NOT %s)", col, c.sqlInternal(col))
}
