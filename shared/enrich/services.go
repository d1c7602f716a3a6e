package enrich

// wellKnownServices is the one table of service names by transport and
// port. Names follow the IANA Service Name registry where it uses the
// common name, and the common name where it does not (dns for "domain",
// rdp for "ms-wbt-server", smb for "microsoft-ds", mssql for "ms-sql-s").
// Ports in the Linux ephemeral range (32768–60999) are left out: a client
// port there would be named by coincidence.
var wellKnownServices = []struct {
	tcp, udp bool
	port     uint16
	name     string
}{
	{true, false, 20, "ftp-data"},
	{true, false, 21, "ftp"},
	{true, false, 22, "ssh"},
	{true, false, 23, "telnet"},
	{true, false, 25, "smtp"},
	{true, false, 43, "whois"},
	{true, true, 53, "dns"},
	{false, true, 67, "dhcp"},
	{false, true, 68, "dhcp-client"},
	{false, true, 69, "tftp"},
	{true, true, 80, "http"},
	{true, true, 88, "kerberos"},
	{true, false, 110, "pop3"},
	{true, true, 111, "sunrpc"},
	{false, true, 123, "ntp"},
	{true, true, 135, "msrpc"},
	{false, true, 137, "netbios-ns"},
	{false, true, 138, "netbios-dgm"},
	{true, false, 139, "netbios-ssn"},
	{true, false, 143, "imap"},
	{false, true, 161, "snmp"},
	{false, true, 162, "snmptrap"},
	{true, false, 179, "bgp"},
	{true, true, 389, "ldap"},
	{true, true, 443, "https"},
	{true, false, 445, "smb"},
	{true, true, 464, "kpasswd"},
	{true, false, 465, "smtps"},
	{false, true, 500, "isakmp"},
	{false, true, 514, "syslog"},
	{false, true, 520, "rip"},
	{true, false, 587, "submission"},
	{true, false, 636, "ldaps"},
	{true, false, 873, "rsync"},
	{true, false, 989, "ftps-data"},
	{true, false, 990, "ftps"},
	{true, false, 993, "imaps"},
	{true, false, 995, "pop3s"},
	{true, false, 1080, "socks"},
	{true, true, 1194, "openvpn"},
	{true, false, 1433, "mssql"},
	{true, false, 1521, "oracle"},
	{true, false, 1723, "pptp"},
	{false, true, 1812, "radius"},
	{false, true, 1813, "radius-acct"},
	{true, false, 1883, "mqtt"},
	{false, true, 1900, "ssdp"},
	{true, true, 2049, "nfs"},
	{true, false, 2181, "zookeeper"},
	{true, false, 2375, "docker"},
	{true, false, 2376, "docker-tls"},
	{true, false, 2379, "etcd-client"},
	{true, false, 2380, "etcd-server"},
	{true, false, 3128, "http-proxy"},
	{true, false, 3268, "ldap-gc"},
	{true, false, 3269, "ldaps-gc"},
	{true, false, 3306, "mysql"},
	{true, true, 3389, "rdp"},
	{true, true, 3478, "stun"},
	{true, false, 4369, "epmd"},
	{false, true, 4500, "ipsec-nat-t"},
	{false, true, 4789, "vxlan"},
	{true, true, 5060, "sip"},
	{true, false, 5061, "sips"},
	{false, true, 5353, "mdns"},
	{true, true, 5355, "llmnr"},
	{true, false, 5432, "postgresql"},
	{true, false, 5439, "redshift"},
	{true, false, 5601, "kibana"},
	{true, false, 5671, "amqps"},
	{true, false, 5672, "amqp"},
	{true, false, 5900, "vnc"},
	{true, false, 5985, "winrm"},
	{true, false, 5986, "winrm-https"},
	{false, true, 6081, "geneve"},
	{true, false, 6379, "redis"},
	{true, false, 6443, "kube-apiserver"},
	{true, false, 8080, "http-alt"},
	{true, false, 8443, "https-alt"},
	{true, false, 8883, "mqtts"},
	{true, false, 9042, "cassandra"},
	{true, false, 9092, "kafka"},
	{true, false, 9200, "elasticsearch"},
	{true, false, 9418, "git"},
	{true, false, 10250, "kubelet"},
	{true, true, 11211, "memcached"},
	{true, false, 27017, "mongodb"},
}

// serviceIndex[t][port] is 1 + the index into wellKnownServices, or 0;
// t is 0 for TCP and 1 for UDP. The tables end at the highest port in
// wellKnownServices, so ephemeral ports are rejected without a memory load.
var serviceIndex = func() (t [2][]uint8) {
	if len(wellKnownServices) > 255 {
		panic("enrich: too many services for a uint8 index")
	}
	maxPort := 0
	for _, s := range wellKnownServices {
		maxPort = max(maxPort, int(s.port))
	}
	t[0], t[1] = make([]uint8, maxPort+1), make([]uint8, maxPort+1)
	for i, s := range wellKnownServices {
		if s.tcp {
			t[0][s.port] = uint8(i + 1)
		}
		if s.udp {
			t[1][s.port] = uint8(i + 1)
		}
	}
	return t
}()

const (
	protoTCP = 6
	protoUDP = 17
)

// ServiceName returns the well-known service name of port for protocol
// (TCP or UDP), or "" when the port is not in the table.
func ServiceName(protocol uint8, port uint16) string {
	var t int
	switch protocol {
	case protoTCP:
		t = 0
	case protoUDP:
		t = 1
	default:
		return ""
	}
	tab := serviceIndex[t]
	if int(port) >= len(tab) {
		return ""
	}
	if i := tab[port]; i != 0 {
		return wellKnownServices[i-1].name
	}
	return ""
}
