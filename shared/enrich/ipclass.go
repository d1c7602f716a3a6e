package enrich

import (
	"encoding/binary"
	"net/netip"
)

// IPClass is the kind of an address, after the IANA IPv4 and IPv6
// Special-Purpose Address Registries. The zero value means no address.
type IPClass uint8

// Address classes.
const (
	IPClassNone        IPClass = iota
	IPClassPrivate             // 10/8, 172.16/12, 192.168/16, fc00::/7
	IPClassPublic              // globally reachable unicast
	IPClassShared              // 100.64/10 (carrier-grade NAT)
	IPClassLoopback            // 127/8, ::1
	IPClassLinkLocal           // 169.254/16, fe80::/10
	IPClassMulticast           // 224/4, ff00::/8
	IPClassReserved            // documentation, benchmarking, protocol assignments, future use, broadcast, ...
	IPClassUnspecified         // 0.0.0.0, ::
)

var ipClassNames = [...]string{
	IPClassNone:        "",
	IPClassPrivate:     "private",
	IPClassPublic:      "public",
	IPClassShared:      "shared",
	IPClassLoopback:    "loopback",
	IPClassLinkLocal:   "link-local",
	IPClassMulticast:   "multicast",
	IPClassReserved:    "reserved",
	IPClassUnspecified: "unspecified",
}

// String returns the class name ("private", "link-local", ...), or "" for
// IPClassNone.
func (c IPClass) String() string {
	if int(c) < len(ipClassNames) {
		return ipClassNames[c]
	}
	return ""
}

// v4First classifies an IPv4 address by its first octet; v4Check means the
// octet holds a special block and needs a closer look.
const v4Check IPClass = 255

var v4First = func() (t [256]IPClass) {
	for i := range t {
		t[i] = IPClassPublic
	}
	for _, o := range []int{0, 100, 169, 172, 192, 198, 203} {
		t[o] = v4Check
	}
	t[10] = IPClassPrivate
	t[127] = IPClassLoopback
	for o := 224; o < 240; o++ {
		t[o] = IPClassMulticast
	}
	for o := 240; o < 256; o++ {
		t[o] = IPClassReserved // 240/4 future use and 255.255.255.255
	}
	return t
}()

// ClassifyIP returns the class of a. IPv4-mapped IPv6 addresses are classed
// by their IPv4 address. Globally reachable blocks inside special ranges
// (192.0.0.9 and .10, 64:ff9b::/96, 2001::/32 Teredo, 2001:3::/32 AMT,
// 2001:4:112::/48 AS112, 2001:20::/28 ORCHIDv2, 2001:30::/28, 2002::/16) are
// public, as the registries mark them.
func ClassifyIP(a netip.Addr) IPClass {
	if a.Is4() {
		return classify4(a.As4())
	}
	if !a.Is6() {
		return IPClassNone
	}
	b := a.As16()
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	return classify6(hi, lo)
}

func classify4(ip [4]byte) IPClass {
	c := v4First[ip[0]]
	if c != v4Check {
		return c
	}
	switch ip[0] {
	case 0:
		if ip == [4]byte{} {
			return IPClassUnspecified
		}
		return IPClassReserved // 0/8 "this network"
	case 100:
		if ip[1]&0xc0 == 64 {
			return IPClassShared // 100.64/10
		}
	case 169:
		if ip[1] == 254 {
			return IPClassLinkLocal
		}
	case 172:
		if ip[1]&0xf0 == 16 {
			return IPClassPrivate // 172.16/12
		}
	case 192:
		switch {
		case ip[1] == 168:
			return IPClassPrivate
		case ip[1] == 0 && ip[2] == 0:
			if ip[3] == 9 || ip[3] == 10 { // PCP and TURN anycast
				return IPClassPublic
			}
			return IPClassReserved // 192.0.0/24 IETF protocol assignments
		case ip[1] == 0 && ip[2] == 2: // TEST-NET-1
			return IPClassReserved
		case ip[1] == 88 && ip[2] == 99: // deprecated 6to4 relay anycast
			return IPClassReserved
		}
	case 198:
		if ip[1]&0xfe == 18 { // 198.18/15 benchmarking
			return IPClassReserved
		}
		if ip[1] == 51 && ip[2] == 100 { // TEST-NET-2
			return IPClassReserved
		}
	case 203:
		if ip[1] == 0 && ip[2] == 113 { // TEST-NET-3
			return IPClassReserved
		}
	}
	return IPClassPublic
}

func classify6(hi, lo uint64) IPClass {
	switch {
	case hi>>61 == 1: // 2000::/3 global unicast
		switch {
		case hi>>41 == 0x2001<<7: // 2001::/23 IETF protocol assignments
			switch {
			case hi>>32 == 0x2001_0000, // Teredo
				hi == 0x2001_0001_0000_0000 && lo >= 1 && lo <= 3, // PCP, TURN, DNS-SD SRP anycast
				hi>>32 == 0x2001_0003,                             // AMT
				hi>>16 == 0x2001_0004_0112,                        // AS112-v6
				hi>>36 == 0x2001_002,                              // ORCHIDv2
				hi>>36 == 0x2001_003:                              // drone remote ID
				return IPClassPublic
			}
			return IPClassReserved
		case hi>>32 == 0x2001_0db8: // documentation
			return IPClassReserved
		case hi>>44 == 0x3fff_0: // documentation (3fff::/20)
			return IPClassReserved
		}
		return IPClassPublic
	case hi>>57 == 0xfc>>1: // fc00::/7 unique local
		return IPClassPrivate
	case hi>>54 == 0xfe80>>6: // fe80::/10
		return IPClassLinkLocal
	case hi>>56 == 0xff:
		return IPClassMulticast
	case hi == 0:
		switch {
		case lo == 0:
			return IPClassUnspecified
		case lo == 1:
			return IPClassLoopback
		case lo>>32 == 0xffff: // IPv4-mapped
			var ip [4]byte
			binary.BigEndian.PutUint32(ip[:], uint32(lo))
			return classify4(ip)
		}
	case hi == 0x0064_ff9b_0000_0000 && lo>>32 == 0: // 64:ff9b::/96 IPv4-IPv6 translation
		return IPClassPublic
	}
	return IPClassReserved
}

// Internal reports whether a is on our side of a flow: private, shared
// (CGNAT), loopback, link-local, multicast or unspecified, or inside one of
// prefixes (a VPC's IPv6 block, which is globally routable and so
// "public" to ClassifyIP). Every other valid address, public or reserved,
// is the internet's. False for an invalid address. Detection and the
// compactor's rollups both judge our side by it.
func Internal(a netip.Addr, prefixes []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	if InternalClass(ClassifyIP(a)) {
		return true
	}
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// InternalClass reports whether addresses of class c are ours (see
// Internal).
func InternalClass(c IPClass) bool {
	switch c {
	case IPClassPrivate, IPClassShared, IPClassLoopback, IPClassLinkLocal, IPClassMulticast, IPClassUnspecified:
		return true
	}
	return false
}
