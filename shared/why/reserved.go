package why

import (
	"fmt"
	"net/netip"
)

// neverLoggedAddrs are the addresses whose traffic flow logs never record
// (the VPC User Guide's flow-log limitations: "Flow logs do not capture
// all IP traffic"), with what answers there.
var neverLoggedAddrs = map[netip.Addr]string{
	netip.MustParseAddr("169.254.169.254"): "the instance metadata service",
	netip.MustParseAddr("fd00:ec2::254"):   "the instance metadata service (IPv6)",
	netip.MustParseAddr("169.254.169.253"): "the Amazon DNS resolver",
	netip.MustParseAddr("fd00:ec2::253"):   "the Amazon DNS resolver (IPv6)",
	netip.MustParseAddr("169.254.169.123"): "the Amazon Time Sync Service",
	netip.MustParseAddr("fd00:ec2::123"):   "the Amazon Time Sync Service (IPv6)",
	netip.MustParseAddr("169.254.169.250"): "Amazon Windows license activation",
	netip.MustParseAddr("169.254.169.251"): "Amazon Windows license activation",
	netip.MustParseAddr("255.255.255.255"): "broadcast (DHCP)",
}

// NeverLogged returns why flow logs never record traffic between a and
// its peer on port (0: any) over protocol (0: any), or "" when they can:
// the addresses above, DHCP (UDP 67 and 68), and the reserved addresses of
// each VPC block in cidrs (its base, the VPC router at base + 1, the
// Amazon DNS resolver at base + 2, base + 3 and, for IPv4, the last
// address).
func NeverLogged(a netip.Addr, port, protocol int, cidrs []netip.Prefix) string {
	a = a.Unmap()
	if s, ok := neverLoggedAddrs[a]; ok {
		return s
	}
	if (port == 67 || port == 68) && (protocol == 0 || protocol == 17) {
		return "DHCP"
	}
	for _, p := range cidrs {
		p = p.Masked()
		if !p.Contains(a) {
			continue
		}
		base := p.Addr()
		names := []string{"the network address", "the VPC router", "the Amazon DNS resolver", "an address AWS reserves"}
		x := base
		for i, n := range names {
			if a == x {
				return fmt.Sprintf("%s of %s (base + %d)", n, p, i)
			}
			x = x.Next()
		}
		if a.Is4() && p.Bits() < 31 && a == last4(p) {
			return fmt.Sprintf("the broadcast address of %s", p)
		}
	}
	return ""
}

func last4(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
