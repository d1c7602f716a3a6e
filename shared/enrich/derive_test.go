package enrich_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/flowlake/flowlake/shared/enrich"
)

func TestClassifyIP(t *testing.T) {
	const (
		private     = enrich.IPClassPrivate
		public      = enrich.IPClassPublic
		shared      = enrich.IPClassShared
		loopback    = enrich.IPClassLoopback
		linkLocal   = enrich.IPClassLinkLocal
		multicast   = enrich.IPClassMulticast
		reserved    = enrich.IPClassReserved
		unspecified = enrich.IPClassUnspecified
	)
	tests := []struct {
		addr string
		want enrich.IPClass
	}{
		// 0.0.0.0/8 this network; 0.0.0.0 unspecified
		{"0.0.0.0", unspecified},
		{"0.0.0.1", reserved},
		{"0.255.255.255", reserved},
		{"1.0.0.0", public},
		// 10/8
		{"9.255.255.255", public},
		{"10.0.0.0", private},
		{"10.255.255.255", private},
		{"11.0.0.0", public},
		// 100.64/10
		{"100.63.255.255", public},
		{"100.64.0.0", shared},
		{"100.127.255.255", shared},
		{"100.128.0.0", public},
		// 127/8
		{"126.255.255.255", public},
		{"127.0.0.0", loopback},
		{"127.0.0.1", loopback},
		{"127.255.255.255", loopback},
		{"128.0.0.0", public},
		// 169.254/16
		{"169.253.255.255", public},
		{"169.254.0.0", linkLocal},
		{"169.254.169.254", linkLocal},
		{"169.254.255.255", linkLocal},
		{"169.255.0.0", public},
		// 172.16/12
		{"172.15.255.255", public},
		{"172.16.0.0", private},
		{"172.31.255.255", private},
		{"172.32.0.0", public},
		// 192.0.0/24, with its globally reachable /32s
		{"191.255.255.255", public},
		{"192.0.0.0", reserved},
		{"192.0.0.8", reserved},
		{"192.0.0.9", public},
		{"192.0.0.10", public},
		{"192.0.0.11", reserved},
		{"192.0.0.170", reserved},
		{"192.0.0.255", reserved},
		{"192.0.1.0", public},
		// 192.0.2/24 TEST-NET-1
		{"192.0.1.255", public},
		{"192.0.2.0", reserved},
		{"192.0.2.255", reserved},
		{"192.0.3.0", public},
		// 192.88.99/24 deprecated 6to4 relay
		{"192.88.98.255", public},
		{"192.88.99.1", reserved},
		{"192.88.100.0", public},
		// 192.168/16
		{"192.167.255.255", public},
		{"192.168.0.0", private},
		{"192.168.255.255", private},
		{"192.169.0.0", public},
		// 198.18/15
		{"198.17.255.255", public},
		{"198.18.0.0", reserved},
		{"198.19.255.255", reserved},
		{"198.20.0.0", public},
		// 198.51.100/24 TEST-NET-2
		{"198.51.99.255", public},
		{"198.51.100.0", reserved},
		{"198.51.100.255", reserved},
		{"198.51.101.0", public},
		// 203.0.113/24 TEST-NET-3
		{"203.0.112.255", public},
		{"203.0.113.0", reserved},
		{"203.0.113.255", reserved},
		{"203.0.114.0", public},
		// 224/4, 240/4, broadcast
		{"223.255.255.255", public},
		{"224.0.0.0", multicast},
		{"239.255.255.255", multicast},
		{"240.0.0.0", reserved},
		{"255.255.255.254", reserved},
		{"255.255.255.255", reserved},

		// IPv6
		{"::", unspecified},
		{"::1", loopback},
		{"::2", reserved},
		{"::ffff:10.0.0.1", private}, // IPv4-mapped: the IPv4 class
		{"::ffff:8.8.8.8", public},
		{"::ffff:0.0.0.0", unspecified},
		// 64:ff9b::/96 (globally reachable) and 64:ff9b:1::/48 (local use)
		{"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"64:ff9b::", public},
		{"64:ff9b::8.8.8.8", public},
		{"64:ff9b::ffff:ffff", public},
		{"64:ff9b::1:0:0", reserved},
		{"64:ff9b:1::1", reserved},
		{"100::1", reserved}, // discard-only
		// 2000::/3
		{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"2000::", public},
		{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", public},
		{"3fff::", reserved}, // 3fff::/20 documentation
		{"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"3fff:1000::", public},
		{"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", public},
		{"4000::", reserved},
		{"2600:1f18::1", public},
		// 2001::/23 and its globally reachable parts
		{"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", public},
		{"2001::1", public},       // Teredo 2001::/32
		{"2001:0:ffff::", public}, // still Teredo
		{"2001:1::", reserved},
		{"2001:1::1", public},
		{"2001:1::3", public},
		{"2001:1::4", reserved},
		{"2001:2::", reserved}, // benchmarking
		{"2001:3::1", public},  // AMT
		{"2001:4:112::1", public},
		{"2001:4:113::1", reserved},
		{"2001:10::1", reserved}, // ORCHID
		{"2001:20::1", public},   // ORCHIDv2
		{"2001:30::1", public},
		{"2001:40::1", reserved},
		{"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"2001:200::", public},
		// 2001:db8::/32
		{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", public},
		{"2001:db8::", reserved},
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"2001:db9::", public},
		{"2002::1", public}, // 6to4
		// fc00::/7
		{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"fc00::", private},
		{"fd12:3456::1", private},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", private},
		{"fe00::", reserved},
		// fe80::/10
		{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"fe80::", linkLocal},
		{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", linkLocal},
		{"fec0::", reserved},
		// ff00::/8
		{"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"ff00::", multicast},
		{"ff02::1", multicast},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", multicast},
	}
	for _, tt := range tests {
		if got := enrich.ClassifyIP(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("ClassifyIP(%s) = %v; want %v", tt.addr, got, tt.want)
		}
	}
	if got := enrich.ClassifyIP(netip.Addr{}); got != enrich.IPClassNone {
		t.Errorf("ClassifyIP(zero) = %v; want none", got)
	}
}

func TestProtocolName(t *testing.T) {
	tests := []struct {
		p    uint8
		want string
	}{
		{0, "hopopt"}, {1, "icmp"}, {2, "igmp"}, {4, "ipv4"}, {6, "tcp"}, {17, "udp"},
		{41, "ipv6"}, {47, "gre"}, {50, "esp"}, {51, "ah"}, {58, "ipv6-icmp"}, {89, "ospfigp"},
		{112, "vrrp"}, {132, "sctp"}, {135, "mobility-header"}, {136, "udplite"}, {146, "homa"},
		{61, ""}, {147, ""}, {253, ""}, {254, ""}, {255, "reserved"},
	}
	for _, tt := range tests {
		if got := enrich.ProtocolName(tt.p); got != tt.want {
			t.Errorf("ProtocolName(%d) = %q; want %q", tt.p, got, tt.want)
		}
	}
}

func TestTCPFlagNames(t *testing.T) {
	tests := []struct {
		v    int32
		want []string
	}{
		{0, []string{}},
		{1, []string{"fin"}},
		{2, []string{"syn"}},
		{3, []string{"fin", "syn"}},
		{4, []string{"rst"}},
		{18, []string{"syn-ack"}},
		{19, []string{"fin", "syn-ack"}},
		{22, []string{"syn-ack", "rst"}},
		{8, []string{"psh"}},
		{16, []string{"ack"}},
		{24, []string{"psh", "ack"}},
		{32, []string{"urg"}},
		{63, []string{"fin", "syn-ack", "rst", "psh", "urg"}},
		{255, []string{"fin", "syn-ack", "rst", "psh", "urg", "ece", "cwr"}},
		{256, nil},
		{-1, nil},
	}
	for _, tt := range tests {
		got := enrich.TCPFlagNames(tt.v)
		if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("TCPFlagNames(%d) = %#v; want %#v", tt.v, got, tt.want)
		}
	}
}

func TestServiceName(t *testing.T) {
	tests := []struct {
		proto uint8
		port  uint16
		want  string
	}{
		{6, 22, "ssh"}, {6, 443, "https"}, {17, 443, "https"}, {6, 3389, "rdp"},
		{6, 5432, "postgresql"}, {6, 53, "dns"}, {17, 53, "dns"}, {17, 123, "ntp"},
		{6, 123, ""}, {17, 22, ""}, {6, 0, ""}, {6, 49152, ""}, {6, 65535, ""},
		{1, 22, ""}, {132, 443, ""},
	}
	for _, tt := range tests {
		if got := enrich.ServiceName(tt.proto, tt.port); got != tt.want {
			t.Errorf("ServiceName(%d, %d) = %q; want %q", tt.proto, tt.port, got, tt.want)
		}
	}
}

func TestColumns(t *testing.T) {
	cols := enrich.Columns()
	if len(cols) != enrich.NumColumns {
		t.Fatalf("len(Columns()) = %d; want %d", len(cols), enrich.NumColumns)
	}
	types := map[string]bool{"string": true, "bigint": true, "array<string>": true, "map<string,string>": true}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c.Name()] {
			t.Errorf("duplicate column %q", c.Name())
		}
		seen[c.Name()] = true
		if !types[c.Type()] {
			t.Errorf("%s.Type() = %q", c, c.Type())
		}
		if c.Doc() == "" || c.Group() == "" {
			t.Errorf("%s: missing doc or group", c)
		}
		if got, ok := enrich.LookupColumn(c.Name()); !ok || got != c {
			t.Errorf("LookupColumn(%q) = %v, %v", c.Name(), got, ok)
		}
	}
	for _, name := range []string{"protocol_name", "tcp_flag_names", "src_ip_class", "dst_ip_class", "direction",
		"dst_service", "src_service", "peer_addr", "src_aws_service", "dst_aws_service", "src_country", "dst_country",
		"src_asn", "dst_asn", "src_as_org", "dst_as_org", "eni_instance_id", "eni_type", "eni_vpc_id", "eni_subnet_id",
		"eni_security_group_ids", "eni_description", "eni_tags"} {
		if !seen[name] {
			t.Errorf("issue column %q missing", name)
		}
	}
}
