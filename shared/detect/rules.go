package detect

import (
	"fmt"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
)

// Port lists of the default settings.
var (
	// CommonPorts are the service ports port-scan leaves out, as Panther's
	// port-scan rule does: clients reach several of them in normal use.
	CommonPorts = []int{20, 21, 22, 23, 25, 53, 80, 110, 123, 143, 443, 465, 587, 993, 995, 3389, 8080, 8443}
	// SweepExcludedPorts are the ports host-sweep leaves out: DNS, NTP and
	// the web, which clients legitimately reach on many hosts.
	SweepExcludedPorts = []int{53, 80, 123, 443}
	// AdminPorts are SSH and RDP.
	AdminPorts = []int{22, 3389}
	// DatabasePorts are MySQL, PostgreSQL, SQL Server, Oracle, MongoDB,
	// Redis, Elasticsearch and Cassandra.
	DatabasePorts = []int{3306, 5432, 1433, 1521, 27017, 6379, 9200, 9042}
	// MiningPorts are the usual Stratum mining-pool ports and the Bitcoin
	// and Monero peer ports.
	MiningPorts = []int{3333, 3334, 3335, 3336, 3357, 4444, 5555, 5556, 5588, 5730, 6099, 6666, 7777, 7778,
		8333, 9332, 14433, 14444, 18080, 18081, 45560, 45700}
)

// EphemeralFrom is the default MaxPort: the start of the Linux ephemeral
// port range.
const EphemeralFrom = 32768

// Addresses used by the cases: ours, another of ours, the internet.
const (
	ours      = "10.0.1.5"
	ours2     = "10.0.2.9"
	attacker  = "45.155.205.10"
	pool      = "45.9.148.108"
	webHost   = "93.184.216.34"
	resolver  = "8.8.8.8"
	resolver2 = "1.1.1.1"
)

// actorOr rates our side as the actor (high: one of our instances is
// likely compromised) or, as the target, with the given severity.
func actorOr(target finding.Severity) func(a *Agg) (finding.Severity, finding.Role) {
	return func(a *Agg) (finding.Severity, finding.Role) {
		if a.SrcInternal {
			return finding.High, finding.RoleActor
		}
		return target, finding.RoleTarget
	}
}

// probe rates scans and sweeps: our side as the actor is high; from the
// internet, rejected probes are expected noise (low), and any accepted
// probe is medium.
func probe(a *Agg) (finding.Severity, finding.Role) {
	switch {
	case a.SrcInternal:
		return finding.High, finding.RoleActor
	case a.Accepted > 0:
		return finding.Medium, finding.RoleTarget
	}
	return finding.Low, finding.RoleTarget
}

// probeSteps are the steps for a scan or sweep of our side.
var probeSteps = []string{
	"Run the Athena query and look for ACCEPT: an accepted probe reached a listening service.",
	"If any were accepted, review the security group and network ACL of {interface} and close what need not be open.",
	"Consider a network ACL deny for {src} if it keeps coming back.",
}

func fixed(s finding.Severity, r finding.Role) func(a *Agg) (finding.Severity, finding.Role) {
	return func(*Agg) (finding.Severity, finding.Role) { return s, r }
}

func bruteForce(id, service string, port int) Rule {
	return Rule{
		ID:    id,
		Title: service + " brute force",
		Summary: fmt.Sprintf("One source opened %s connections with few packets (failed logins look like this) within the window. "+
			"Only ACCEPTed flows count: rejected attempts never reached the service. Our instance as the source is high "+
			"(likely compromised); from elsewhere it is medium.", service),
		Mitre:    []string{"T1110"},
		Entity:   []Dim{DimSrc},
		Measure:  MeasureConnections,
		Defaults: Settings{Window: 10 * time.Minute, Threshold: 20, MaxPackets: 40, Ports: []int{port}},
		When:     []Cond{Protocols(6), DstPortIn(), Accepted(), Short(), HasAddrs()},
		Severity: actorOr(finding.Medium),
		Next: NextSteps{Actor: CompromisedSteps, Target: []string{
			"Check the authentication logs on {dst} for a successful login from {src} around {seen}.",
			"Restrict {ports} to known addresses in the security group, or use Session Manager instead.",
			"Block {src} in the network ACL if it keeps trying.",
		}},
		Describe: func(s *Settings, a *Agg) string {
			return fmt.Sprintf("%s opened %d short %s connections (at most %d packets) to %s within %s (threshold %d).",
				a.Src, a.Conns, service, s.MaxPackets, hostsText(a), durText(s.Window), s.Threshold)
		},
		Cases: []Case{
			{Name: "internet source, accepted", Fire: true, Severity: finding.Medium, Flows: repeat(25, func(i int) F {
				return F{Src: attacker, Dst: ours, SrcPort: 50000 + i, DstPort: port, Packets: 12, At: time.Duration(i) * 10 * time.Second, Dir: "ingress"}
			})},
			{Name: "our instance attacking, no flow_direction", Fire: true, Severity: finding.High, Flows: repeat(20, func(i int) F {
				return F{Src: ours, Dst: ours2, SrcPort: 41000 + i, DstPort: port, Packets: 8, At: time.Duration(i) * 20 * time.Second}
			})},
			{Name: "the same connections logged by both ENIs count once", Fire: false, Flows: cat(
				repeat(12, func(i int) F {
					return F{Src: ours, Dst: ours2, SrcPort: 41000 + i, DstPort: port, Packets: 8, At: time.Duration(i) * 20 * time.Second, Dir: "egress"}
				}),
				repeat(12, func(i int) F {
					return F{Src: ours, Dst: ours2, SrcPort: 41000 + i, DstPort: port, Packets: 8, At: time.Duration(i) * 20 * time.Second, Dir: "ingress", ENI: "eni-0c0ffee0000000002"}
				}))},
			{Name: "rejected attempts never count", Fire: false, Flows: repeat(40, func(i int) F {
				return F{Src: attacker, Dst: ours, SrcPort: 50000 + i, DstPort: port, Action: "REJECT", Packets: 2, At: time.Duration(i) * 10 * time.Second}
			})},
			{Name: "long sessions are not attempts", Fire: false, Flows: repeat(25, func(i int) F {
				return F{Src: attacker, Dst: ours, SrcPort: 50000 + i, DstPort: port, Packets: 400, At: time.Duration(i) * 10 * time.Second}
			})},
			{Name: "spread over more than the window", Fire: false, Flows: repeat(25, func(i int) F {
				return F{Src: attacker, Dst: ours, SrcPort: 50000 + i, DstPort: port, Packets: 12, At: time.Duration(i) * time.Minute}
			})},
		},
	}
}

func exposed(id, what string, ports []int, sev finding.Severity) Rule {
	return Rule{
		ID:    id,
		Title: "Exposed " + what + " port",
		Summary: "A flow from the internet to an " + what + " port was ACCEPTed: the security group and network ACL let " +
			"the internet reach it. Rejected attempts are expected noise and do not count.",
		Mitre:    []string{"T1133", "T1190"},
		Entity:   []Dim{DimDst, DimDstPort},
		Measure:  MeasureFlows,
		Defaults: Settings{Window: time.Hour, Threshold: 1, Ports: ports},
		When:     []Cond{Protocols(6), DstPortIn(), Accepted(), Inbound(), SrcExternal(), HasAddrs()},
		Severity: fixed(sev, finding.RoleTarget),
		Next: NextSteps{Target: []string{
			"Confirm whether {ports} on {dst} should be reachable from the internet at all.",
			"If not, remove the 0.0.0.0/0 (or ::/0) rule from the security group of {interface}.",
			"Check the service's own logs on {dst} for access from the sources the query lists.",
		}},
		Describe: func(s *Settings, a *Agg) string {
			return fmt.Sprintf("%s port %s accepted %d flows from %d internet addresses (first %s) within %s.",
				a.Dst, portsText(a), a.Flows, a.Sources, a.Src, durText(s.Window))
		},
		Cases: []Case{
			{Name: "accepted from the internet", Fire: true, Severity: sev, Flows: []F{
				{Src: attacker, Dst: ours, DstPort: ports[0], Packets: 30, Dir: "ingress"},
			}},
			{Name: "accepted from the internet, no flow_direction", Fire: true, Severity: sev, Flows: []F{
				{Src: attacker, Dst: ours, DstPort: ports[len(ports)-1], Packets: 30},
			}},
			{Name: "rejected from the internet", Fire: false, Flows: []F{
				{Src: attacker, Dst: ours, DstPort: ports[0], Action: "REJECT", Packets: 1, Dir: "ingress"},
			}},
			{Name: "from inside the VPC", Fire: false, Flows: []F{
				{Src: ours2, Dst: ours, DstPort: ports[0], Packets: 30, Dir: "ingress"},
			}},
			{Name: "our own connection out to that port elsewhere", Fire: false, Flows: []F{
				{Src: ours, Dst: webHost, DstPort: ports[0], Packets: 30, Dir: "egress"},
				{Src: ours, Dst: webHost, DstPort: ports[0], Packets: 30},
			}},
			{Name: "other ports", Fire: false, Flows: []F{
				{Src: attacker, Dst: ours, DstPort: 443, Packets: 30, Dir: "ingress"},
			}},
		},
	}
}

// Rules is the registry: every rule, in a fixed order. Rule IDs are part
// of the contract with publishing, dedup and people's suppressions.
var Rules = []Rule{
	{
		ID:    "port-scan",
		Title: "Port scan",
		Summary: "One source probed many distinct destination ports on one host within the window. Common service " +
			"ports and the ephemeral range (replies) do not count. Our instance as the scanner is high; from the " +
			"internet it is low when every probe was rejected (expected noise) and medium when any was accepted.",
		Mitre:    []string{"T1046"},
		Entity:   []Dim{DimSrc, DimDst},
		Measure:  MeasurePorts,
		Defaults: Settings{Window: time.Hour, Threshold: 10, Ports: CommonPorts, MaxPort: EphemeralFrom},
		When:     []Cond{Protocols(6, 17), DstPortNotIn(), HasAddrs()},
		Severity: probe,
		Next:     NextSteps{Actor: CompromisedSteps, Target: probeSteps},
		Describe: func(s *Settings, a *Agg) string {
			return fmt.Sprintf("%s probed %d distinct ports on %s within %s (threshold %d); %d of %d flows accepted.",
				a.Src, a.Ports, a.Dst, durText(s.Window), s.Threshold, a.Accepted, a.Flows)
		},
		Cases: []Case{
			{Name: "rejected probes from the internet are low", Fire: true, Severity: finding.Low, Flows: repeat(12, func(i int) F {
				return F{Src: attacker, Dst: ours, DstPort: 1000 + i*7, Action: "REJECT", Packets: 1, At: time.Duration(i) * time.Minute}
			})},
			{Name: "an accepted probe makes it medium", Fire: true, Severity: finding.Medium, Flows: repeat(12, func(i int) F {
				a := "REJECT"
				if i == 5 {
					a = "ACCEPT"
				}
				return F{Src: attacker, Dst: ours, DstPort: 1000 + i*7, Action: a, Packets: 1, At: time.Duration(i) * time.Minute, Dir: "ingress"}
			})},
			{Name: "our instance scanning is high", Fire: true, Severity: finding.High, Flows: repeat(15, func(i int) F {
				return F{Src: ours, Dst: ours2, DstPort: 2000 + i, Action: "REJECT", Packets: 1, At: time.Duration(i) * time.Second, Dir: "egress"}
			})},
			{Name: "common service ports do not count", Fire: false, Flows: cat(
				repeat(len(CommonPorts), func(i int) F {
					return F{Src: ours, Dst: ours2, DstPort: CommonPorts[i], Packets: 5, At: time.Duration(i) * time.Second}
				}),
				repeat(9, func(i int) F { return F{Src: ours, Dst: ours2, DstPort: 9000 + i, Packets: 5} }))},
			{Name: "replies to ephemeral ports do not count", Fire: false, Flows: repeat(30, func(i int) F {
				return F{Src: webHost, SrcPort: 443, Dst: ours, DstPort: 40000 + i*13, Packets: 20, Dir: "ingress"}
			})},
			{Name: "ports spread over hosts", Fire: false, Flows: repeat(12, func(i int) F {
				return F{Src: attacker, Dst: fmt.Sprintf("10.0.1.%d", 10+i), DstPort: 1000 + i, Action: "REJECT", Packets: 1}
			})},
			{Name: "ports spread over windows", Fire: false, Flows: repeat(12, func(i int) F {
				return F{Src: attacker, Dst: ours, DstPort: 1000 + i, Action: "REJECT", Packets: 1, At: time.Duration(i) * 10 * time.Minute}
			})},
		},
	},
	{
		ID:    "host-sweep",
		Title: "Host sweep",
		Summary: "One source reached many distinct hosts on the same port within the window: a network sweep looking " +
			"for a service. DNS, NTP and the web are left out. Our instance as the source is high; from the internet " +
			"it is low when every attempt was rejected and medium otherwise.",
		Mitre:    []string{"T1046", "T1018"},
		Entity:   []Dim{DimSrc, DimDstPort},
		Measure:  MeasureHosts,
		Defaults: Settings{Window: 10 * time.Minute, Threshold: 50, Ports: SweepExcludedPorts, MaxPort: EphemeralFrom},
		When:     []Cond{Protocols(6, 17), DstPortNotIn(), HasAddrs()},
		Severity: probe,
		Next:     NextSteps{Actor: CompromisedSteps, Target: probeSteps},
		Describe: func(s *Settings, a *Agg) string {
			return fmt.Sprintf("%s reached %d distinct hosts on port %s within %s (threshold %d); %d of %d flows accepted.",
				a.Src, a.Hosts, portsText(a), durText(s.Window), s.Threshold, a.Accepted, a.Flows)
		},
		Cases: []Case{
			{Name: "our instance sweeping SMB", Fire: true, Severity: finding.High, Flows: repeat(60, func(i int) F {
				return F{Src: ours, Dst: fmt.Sprintf("10.0.%d.%d", i/200, 1+i%200), DstPort: 445, Action: "REJECT", Packets: 1, At: time.Duration(i) * 5 * time.Second}
			})},
			{Name: "internet sweep, rejected", Fire: true, Severity: finding.Low, Flows: repeat(50, func(i int) F {
				return F{Src: attacker, Dst: fmt.Sprintf("10.0.3.%d", 1+i), DstPort: 23, Action: "REJECT", Packets: 1, At: time.Duration(i) * time.Second, Dir: "ingress"}
			})},
			{Name: "web clients reach many hosts", Fire: false, Flows: repeat(80, func(i int) F {
				return F{Src: ours, Dst: fmt.Sprintf("93.184.%d.%d", i/100, 1+i%100), DstPort: 443, Packets: 20, At: time.Duration(i) * time.Second}
			})},
			{Name: "below the threshold", Fire: false, Flows: repeat(49, func(i int) F {
				return F{Src: ours, Dst: fmt.Sprintf("10.0.4.%d", 1+i), DstPort: 445, Action: "REJECT", Packets: 1}
			})},
			{Name: "spread over windows", Fire: false, Flows: repeat(60, func(i int) F {
				return F{Src: ours, Dst: fmt.Sprintf("10.0.4.%d", 1+i), DstPort: 445, Action: "REJECT", Packets: 1, At: time.Duration(i) * 30 * time.Second}
			})},
		},
	},
	bruteForce("ssh-brute-force", "SSH", 22),
	bruteForce("rdp-brute-force", "RDP", 3389),
	exposed("exposed-admin-port", "administration (SSH, RDP)", AdminPorts, finding.Medium),
	exposed("exposed-database-port", "database", DatabasePorts, finding.High),
	{
		ID:    "large-egress",
		Title: "Large egress to the internet",
		Summary: "One network interface sent a lot of data to internet addresses within the window, or a single " +
			"very large flow: a possible exfiltration.",
		Mitre:    []string{"T1048", "T1030"},
		Entity:   []Dim{DimENI},
		Measure:  MeasureBytes,
		Defaults: Settings{Window: time.Hour, Threshold: 5 << 30, FlowBytes: 500_000_000},
		When:     []Cond{Outbound(), DstExternal()},
		Severity: fixed(finding.High, finding.RoleActor),
		Next: NextSteps{Actor: []string{
			"Find what on {interface} sent the data to {dst}: an expected backup or upload, or not.",
			"Compare with the interface's usual egress (run the query over earlier days).",
			"If unexpected, isolate {interface}, preserve its volumes, and check CloudTrail for the role's data access.",
		}},
		Describe: func(s *Settings, a *Agg) string {
			return fmt.Sprintf("%s sent %s to %d internet hosts within %s (threshold %s); the largest flow was %s (threshold %s).",
				a.InterfaceID, bytesText(a.Bytes), a.Hosts, durText(s.Window), bytesText(s.Threshold), bytesText(a.MaxBytes), bytesText(s.FlowBytes))
		},
		Cases: []Case{
			{Name: "many flows add up", Fire: true, Severity: finding.High, Flows: repeat(11, func(i int) F {
				return F{Src: ours, Dst: webHost, DstPort: 443, Packets: 400_000, Bytes: 499_000_000, At: time.Duration(i) * 4 * time.Minute, Dir: "egress"}
			})},
			{Name: "one large flow, no flow_direction", Fire: true, Severity: finding.High, Flows: []F{
				{Src: ours, Dst: webHost, DstPort: 443, Packets: 400_000, Bytes: 600_000_000},
			}},
			{Name: "inside the VPC", Fire: false, Flows: []F{
				{Src: ours, Dst: ours2, DstPort: 5432, Packets: 4_000_000, Bytes: 6 << 30, Dir: "egress"},
			}},
			{Name: "downloads are not egress", Fire: false, Flows: []F{
				{Src: webHost, SrcPort: 443, Dst: ours, DstPort: 40000, Packets: 4_000_000, Bytes: 6 << 30, Dir: "ingress"},
				{Src: webHost, SrcPort: 443, Dst: ours, DstPort: 40001, Packets: 4_000_000, Bytes: 6 << 30},
			}},
			{Name: "below both thresholds", Fire: false, Flows: repeat(10, func(i int) F {
				return F{Src: ours, Dst: webHost, DstPort: 443, Packets: 400_000, Bytes: 499_000_000, At: time.Duration(i) * 4 * time.Minute}
			})},
		},
	},
	{
		ID:    "crypto-mining-port",
		Title: "Connection to a crypto-mining pool port",
		Summary: "One of our instances connected to an internet address on a port that mining pools (Stratum) or " +
			"cryptocurrency nodes use, and the connection was accepted.",
		Mitre:    []string{"T1496"},
		Entity:   []Dim{DimSrc},
		Measure:  MeasureFlows,
		Defaults: Settings{Window: time.Hour, Threshold: 1, Ports: MiningPorts},
		When:     []Cond{Protocols(6), DstPortIn(), Accepted(), Outbound(), SrcInternal(), DstExternal()},
		Severity: fixed(finding.High, finding.RoleActor),
		Next: NextSteps{Actor: []string{
			"Check CPU use and running processes on the instance behind {interface} for a miner.",
			"Look for new cron jobs, containers, users or SSH keys.",
			"If confirmed, isolate {interface}, rotate the instance role's credentials, and rebuild the instance from a known image.",
		}},
		Describe: func(s *Settings, a *Agg) string {
			return fmt.Sprintf("%s connected to %d internet hosts (first %s) on mining port %s: %d flows, %s, within %s.",
				a.Src, a.Hosts, a.Dst, portsText(a), a.Flows, bytesText(a.Bytes), durText(s.Window))
		},
		Cases: []Case{
			{Name: "stratum to a pool", Fire: true, Severity: finding.High, Flows: []F{
				{Src: ours, Dst: pool, DstPort: 3333, Packets: 200, Dir: "egress"},
			}},
			{Name: "stratum to a pool, no flow_direction", Fire: true, Severity: finding.High, Flows: []F{
				{Src: ours, Dst: pool, DstPort: 14444, Packets: 200},
			}},
			{Name: "rejected by the security group", Fire: false, Flows: []F{
				{Src: ours, Dst: pool, DstPort: 3333, Action: "REJECT", Packets: 1, Dir: "egress"},
			}},
			{Name: "inbound from the pool's address", Fire: false, Flows: []F{
				{Src: pool, Dst: ours, DstPort: 3333, Packets: 20, Dir: "ingress"},
			}},
			{Name: "internal service on the port", Fire: false, Flows: []F{
				{Src: ours, Dst: ours2, DstPort: 4444, Packets: 20, Dir: "egress"},
			}},
		},
	},
	{
		ID:    "log-gap",
		Title: "Flow log gap (SKIPDATA)",
		Summary: "AWS could not record some flows of a network interface (log-status SKIPDATA: internal capacity or " +
			"an error); one skipped record can stand for many flows. Detection is blind for them.",
		Mitre:    []string{"T1562.008"},
		Entity:   []Dim{DimENI},
		Measure:  MeasureSkipped,
		Defaults: Settings{Window: time.Hour, Threshold: 1},
		When:     []Cond{SkipData()},
		Severity: fixed(finding.Medium, finding.RoleTarget),
		Next: NextSteps{Target: []string{
			"Flows of {interface} in {window} were not recorded: other findings for it may be incomplete.",
			"Check the flow log's delivery errors and the interface's traffic for the window.",
			"Run detection over the window again once delivery is healthy.",
		}},
		Describe: func(s *Settings, a *Agg) string {
			return fmt.Sprintf("%s has %d SKIPDATA records within %s: flows in those intervals were not recorded.",
				a.InterfaceID, a.Flows, durText(s.Window))
		},
		Cases: []Case{
			{Name: "one skipped interval", Fire: true, Severity: finding.Medium, Flows: []F{{SkipData: true}}},
			{Name: "ordinary traffic", Fire: false, Flows: []F{
				{Src: ours, Dst: webHost, DstPort: 443},
				{Src: attacker, Dst: ours, DstPort: 8443, Action: "REJECT"},
			}},
		},
	},
	dnsResolverBypass,
	outboundDoS,
	spamBot,
	threatListMatch,
	unusualPort,
	trafficVolumeAnomaly,
}

// Wave two: behaviours GuardDuty reports for EC2 that flow logs alone show.
var (
	// dnsPorts is DNS (udp and tcp 53) and DNS over TLS (tcp 853).
	dnsPorts = AnyOf(
		[]Cond{Protocols(17), DstPorts(53)},
		[]Cond{Protocols(6), DstPorts(53, 853)},
	)
)

var dnsResolverBypass = Rule{
	ID:    "dns-resolver-bypass",
	Title: "DNS that bypasses the VPC resolver",
	Summary: "One of our instances sent accepted DNS (udp or tcp 53) or DNS over TLS (tcp 853) to an internet " +
		"address. Flow logs never record DNS to the Amazon-provided resolver, so any DNS flow they show goes " +
		"somewhere else: a hard-coded public resolver, a DNS tunnel, or malware's own. Sanctioned resolvers " +
		"(settings allow) are left out.",
	Mitre:    []string{"T1071.004", "T1572"},
	Entity:   []Dim{DimSrc},
	Measure:  MeasureFlows,
	Defaults: Settings{Window: time.Hour, Threshold: 1},
	When:     []Cond{dnsPorts, Accepted(), Outbound(), DstExternal(), HasAddrs(), DstNotAllowed()},
	Severity: fixed(finding.Medium, finding.RoleActor),
	Next: NextSteps{Actor: []string{
		"Find the process on {src} that resolves through {dst} (ss -tunp, or the instance's DNS settings).",
		"If {dst} is a resolver you sanction, add it to the rule's allow list; otherwise point the instance at the VPC resolver.",
		"Block outbound 53 and 853 to the internet in the security group of {interface}, and use Route 53 Resolver DNS Firewall.",
		"Many queries to one name server can be a DNS tunnel: look at the flows' bytes and count in the Athena query.",
	}},
	Describe: func(s *Settings, a *Agg) string {
		return fmt.Sprintf("%s sent %d accepted DNS flows (port %s) to %s, not the VPC resolver, within %s.",
			a.Src, a.Flows, portsText(a), hostsText(a), durText(s.Window))
	},
	Cases: []Case{
		{Name: "udp 53 to a public resolver", Fire: true, Severity: finding.Medium, Flows: []F{
			{Src: ours, Dst: resolver, DstPort: 53, Proto: 17, Packets: 2, Dir: "egress"},
		}},
		{Name: "DNS over TLS, no flow_direction", Fire: true, Severity: finding.Medium, Flows: []F{
			{Src: ours, Dst: resolver2, DstPort: 853, Packets: 20},
		}},
		{Name: "tcp 53 to a public resolver", Fire: true, Flows: []F{
			{Src: ours, Dst: resolver, DstPort: 53, Packets: 8, Dir: "egress"},
		}},
		{Name: "rejected by the security group", Fire: false, Flows: []F{
			{Src: ours, Dst: resolver, DstPort: 53, Proto: 17, Action: "REJECT", Packets: 1, Dir: "egress"},
		}},
		{Name: "our own DNS server inside the VPC", Fire: false, Flows: []F{
			{Src: ours, Dst: ours2, DstPort: 53, Proto: 17, Packets: 2, Dir: "egress"},
		}},
		{Name: "the internet querying our DNS server", Fire: false, Flows: []F{
			{Src: attacker, Dst: ours, DstPort: 53, Proto: 17, Packets: 2, Dir: "ingress"},
		}},
		{Name: "a resolver's reply comes back to an ephemeral port", Fire: false, Flows: []F{
			{Src: resolver, SrcPort: 53, Dst: ours, DstPort: 41000, Proto: 17, Packets: 2},
		}},
		{Name: "udp 853 is not DNS over TLS", Fire: false, Flows: []F{
			{Src: ours, Dst: resolver, DstPort: 853, Proto: 17, Packets: 2, Dir: "egress"},
		}},
	},
}

var outboundDoS = Rule{
	ID:    "outbound-dos",
	Title: "Outbound denial of service",
	Summary: "One of our instances sent one internet address more packets per second, averaged over the window, " +
		"than the threshold, on any protocol: it is likely taking part in a denial-of-service attack (a flood), " +
		"or a runaway client is hammering one host.",
	Mitre:    []string{"T1498", "T1499"},
	Entity:   []Dim{DimSrc, DimDst},
	Measure:  MeasurePacketRate,
	Defaults: Settings{Window: 10 * time.Minute, Threshold: 10_000},
	When:     []Cond{Outbound(), DstExternal(), HasAddrs()},
	Severity: fixed(finding.High, finding.RoleActor),
	Next: NextSteps{Actor: append([]string{
		"Confirm the rate in the Athena query: one protocol and port to {dst} at this rate is a flood, not a client.",
	}, CompromisedSteps...)},
	Describe: func(s *Settings, a *Agg) string {
		return fmt.Sprintf("%s sent %s an average of %d packets/s (%d packets, %s) within %s (threshold %d packets/s).",
			a.Src, a.Dst, a.Packets/int64(s.Window/time.Second), a.Packets, bytesText(a.Bytes), durText(s.Window), s.Threshold)
	},
	Cases: []Case{
		{Name: "a UDP flood", Fire: true, Severity: finding.High, Flows: repeat(10, func(i int) F {
			return F{Src: ours, Dst: webHost, SrcPort: 41000 + i, DstPort: 80, Proto: 17, Packets: 700_000, Bytes: 700_000 * 64, At: time.Duration(i) * time.Minute, Dir: "egress"}
		})},
		{Name: "an ICMP flood, no flow_direction", Fire: true, Severity: finding.High, Flows: repeat(4, func(i int) F {
			return F{Src: ours, Dst: webHost, Proto: 1, Packets: 1_600_000, Bytes: 1_600_000 * 84, At: time.Duration(i) * 2 * time.Minute}
		})},
		{Name: "the same packets over two windows", Fire: false, Flows: repeat(10, func(i int) F {
			return F{Src: ours, Dst: webHost, SrcPort: 41000 + i, DstPort: 80, Proto: 17, Packets: 700_000, At: time.Duration(i) * 2 * time.Minute, Dir: "egress"}
		})},
		{Name: "spread over many destinations", Fire: false, Flows: repeat(10, func(i int) F {
			return F{Src: ours, Dst: fmt.Sprintf("93.184.216.%d", 10+i), DstPort: 443, Packets: 700_000, At: time.Duration(i) * time.Minute, Dir: "egress"}
		})},
		{Name: "inside the VPC", Fire: false, Flows: repeat(10, func(i int) F {
			return F{Src: ours, Dst: ours2, SrcPort: 41000 + i, DstPort: 9000, Packets: 700_000, At: time.Duration(i) * time.Minute, Dir: "egress"}
		})},
		{Name: "a flood against us is not ours", Fire: false, Flows: repeat(10, func(i int) F {
			return F{Src: attacker, Dst: ours, SrcPort: 41000 + i, DstPort: 80, Proto: 17, Packets: 700_000, At: time.Duration(i) * time.Minute, Dir: "ingress"}
		})},
	},
}

var spamBot = Rule{
	ID:    "spam-bot",
	Title: "Spam bot",
	Summary: "One of our instances opened accepted SMTP connections (tcp 25) to many distinct internet hosts " +
		"within the hour: mail servers do not send like this unless they are relays, and a compromised " +
		"instance sending spam does. Mail relays (settings allow) are left out.",
	Mitre:    []string{"T1071.003", "T1496"},
	Entity:   []Dim{DimSrc},
	Measure:  MeasureHosts,
	Defaults: Settings{Window: time.Hour, Threshold: 10},
	When:     []Cond{Protocols(6), DstPorts(25), Accepted(), Outbound(), DstExternal(), HasAddrs(), SrcNotAllowed()},
	Severity: fixed(finding.Medium, finding.RoleActor),
	Next: NextSteps{Actor: append([]string{
		"If {src} is a mail relay you run, add it to the rule's allow list.",
	}, CompromisedSteps...)},
	Describe: func(s *Settings, a *Agg) string {
		return fmt.Sprintf("%s opened %d SMTP flows to %d internet mail hosts within %s (threshold %d).",
			a.Src, a.Flows, a.Hosts, durText(s.Window), s.Threshold)
	},
	Cases: []Case{
		{Name: "SMTP to twelve mail hosts", Fire: true, Severity: finding.Medium, Flows: repeat(12, func(i int) F {
			return F{Src: ours, Dst: fmt.Sprintf("203.0.113.%d", 10+i), SrcPort: 42000 + i, DstPort: 25, Packets: 30, At: time.Duration(i) * 4 * time.Minute, Dir: "egress"}
		})},
		{Name: "SMTP to ten mail hosts, no flow_direction", Fire: true, Flows: repeat(10, func(i int) F {
			return F{Src: ours, Dst: fmt.Sprintf("198.51.100.%d", 10+i), SrcPort: 42000 + i, DstPort: 25, Packets: 30, At: time.Duration(i) * time.Minute}
		})},
		{Name: "nine hosts", Fire: false, Flows: repeat(9, func(i int) F {
			return F{Src: ours, Dst: fmt.Sprintf("203.0.113.%d", 10+i), SrcPort: 42000 + i, DstPort: 25, Packets: 30, Dir: "egress"}
		})},
		{Name: "rejected by the security group", Fire: false, Flows: repeat(20, func(i int) F {
			return F{Src: ours, Dst: fmt.Sprintf("203.0.113.%d", 10+i), SrcPort: 42000 + i, DstPort: 25, Action: "REJECT", Packets: 1, Dir: "egress"}
		})},
		{Name: "submission to one provider on 587", Fire: false, Flows: repeat(20, func(i int) F {
			return F{Src: ours, Dst: fmt.Sprintf("203.0.113.%d", 10+i%2), SrcPort: 42000 + i, DstPort: 587, Packets: 30, Dir: "egress"}
		})},
		{Name: "to a relay inside the VPC", Fire: false, Flows: repeat(20, func(i int) F {
			return F{Src: ours, Dst: ours2, SrcPort: 42000 + i, DstPort: 25, Packets: 30, Dir: "egress"}
		})},
		{Name: "spread over hours", Fire: false, Flows: repeat(12, func(i int) F {
			return F{Src: ours, Dst: fmt.Sprintf("203.0.113.%d", 10+i), SrcPort: 42000 + i, DstPort: 25, Packets: 30, At: time.Duration(i) * 20 * time.Minute, Dir: "egress"}
		})},
	},
}

// Lookup returns the rule with the given ID.
func Lookup(id string) (*Rule, bool) {
	for i := range Rules {
		if Rules[i].ID == id {
			return &Rules[i], true
		}
	}
	return nil, false
}

func portsText(a *Agg) string {
	switch len(a.PortList) {
	case 0:
		return "?"
	case 1:
		return fmt.Sprint(a.PortList[0])
	}
	return portList(a.PortList)
}

func hostsText(a *Agg) string {
	if a.Hosts == 1 {
		return a.Dst
	}
	return fmt.Sprintf("%d hosts", a.Hosts)
}

func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func durText(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}
