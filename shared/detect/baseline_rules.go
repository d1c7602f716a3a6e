package detect

import (
	"fmt"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
)

// The baseline rules: behaviour unusual for this one interface, judged
// against its own history in the compactor's rollups (lake engine only).

// day is one day, for the cases' history.
const day = 24 * time.Hour

var unusualPort = Rule{
	ID:    "unusual-port",
	Title: "Unusual port for this interface",
	Summary: "One of our interfaces opened a connection to an internet address on a protocol and port it has not " +
		"used in the previous days (days, 14): new software, a reverse shell, or a command-and-control channel. " +
		"Only interfaces with history on at least min_days (7) of them are judged, so a new instance is not noise. " +
		"History comes from the compactor's hourly rollups, not weeks of flows.",
	Mitre:    []string{"T1571", "T1071"},
	Entity:   []Dim{DimENI, DimProtocol, DimDstPort},
	Measure:  MeasureFlows,
	Defaults: Settings{Window: time.Hour, Threshold: 1, Days: 14, MinDays: 7},
	When:     []Cond{Protocols(6, 17), OpenedByUs(), Outbound(), DstExternal(), HasAddrs()},
	Join:     JoinPortHistory,
	Severity: fixed(finding.Medium, finding.RoleActor),
	Next: NextSteps{Actor: []string{
		"Find the process on {interface} that connects to {dst} on {ports} (ss -tnp), and whether a deploy or a new package explains it.",
		"Look the destination up (whois, threat intelligence): a residential or bulletproof host on an odd port is a bad sign.",
		"If unexplained, treat the instance as possibly compromised: " + CompromisedSteps[0],
	}},
	Describe: func(s *Settings, a *Agg) string {
		return fmt.Sprintf("%s connected to %s on %s/%s (%d flows), which it did not use in the previous %d days (history on %d of them).",
			a.InterfaceID, hostsText(a), protoName(a.Key[DimProtocol]), a.Key[DimDstPort], a.Flows, s.Days, len(historyDays(s, a)))
	},
	Cases: []Case{
		{Name: "a new port after eight days of HTTPS", Fire: true, Severity: finding.Medium, Flows: cat(
			dailyHistory(8, 443),
			[]F{{Src: ours, Dst: attacker, SrcPort: 45000, DstPort: 6667, Packets: 30, Dir: "egress"}})},
		{Name: "a new UDP port, no flow_direction", Fire: true, Flows: cat(
			dailyHistory(10, 443),
			[]F{{Src: ours, Dst: attacker, SrcPort: 45000, DstPort: 4444, Proto: 17, Packets: 30}})},
		{Name: "the port it always uses", Fire: false, Flows: cat(
			dailyHistory(8, 443),
			[]F{{Src: ours, Dst: webHost, SrcPort: 45000, DstPort: 443, Packets: 30, Dir: "egress"}})},
		{Name: "used eleven days ago", Fire: false, Flows: cat(
			dailyHistory(12, 443),
			[]F{{Src: ours, Dst: attacker, SrcPort: 45000, DstPort: 6667, Packets: 30, At: -11 * day, Dir: "egress"}},
			[]F{{Src: ours, Dst: attacker, SrcPort: 45001, DstPort: 6667, Packets: 30, Dir: "egress"}})},
		{Name: "a new instance: three days of history", Fire: false, Flows: cat(
			dailyHistory(3, 443),
			[]F{{Src: ours, Dst: attacker, SrcPort: 45000, DstPort: 6667, Packets: 30, Dir: "egress"}})},
		{Name: "a reply from our server is not a connection we opened", Fire: false, Flows: cat(
			dailyHistory(8, 443),
			[]F{{Src: ours, SrcPort: 443, Dst: attacker, DstPort: 51000, Packets: 30, Dir: "egress"}})},
		{Name: "a new port inside the VPC", Fire: false, Flows: cat(
			dailyHistory(8, 443),
			[]F{{Src: ours, Dst: ours2, SrcPort: 45000, DstPort: 6667, Packets: 30, Dir: "egress"}})},
	},
}

var trafficVolumeAnomaly = Rule{
	ID:    "traffic-volume-anomaly",
	Title: "Egress volume above the interface's baseline",
	Summary: "One of our interfaces sent more bytes to the internet in an hour than its own baseline: the median " +
		"plus k (3) × the median absolute deviation of the same hour of day over the previous days (days, 14), and " +
		"at least the threshold (the floor, 256 MiB), so that a quiet interface's small spike is not noise. Only " +
		"interfaces with history on at least min_days (7) of them are judged. The evidence reports the baseline.",
	Mitre:    []string{"T1048", "T1041"},
	Entity:   []Dim{DimENI},
	Measure:  MeasureBytes,
	Defaults: Settings{Window: time.Hour, Threshold: 256 << 20, K: 3, Days: 14, MinDays: 7},
	When:     []Cond{Outbound(), DstExternal()},
	Join:     JoinVolumeBaseline,
	Severity: fixed(finding.Medium, finding.RoleActor),
	Next: NextSteps{Actor: []string{
		"Compare the hour with the baseline in the evidence, and find what on {interface} sent the data to {dst}: a backup, a release, or not.",
		"Run the query over the hour for the destinations: one unknown host taking most of it is the exfiltration pattern.",
		"If unexpected, isolate {interface}, preserve its volumes, and check CloudTrail for the role's data access.",
	}},
	Describe: func(s *Settings, a *Agg) string {
		b := a.Baseline
		if b == nil {
			b = &Baseline{}
		}
		return fmt.Sprintf("%s sent %s to %d internet hosts in the hour; its baseline for this hour of day is %s (median %s + %g × MAD %s over %d days; floor %s).",
			a.InterfaceID, bytesText(a.Bytes), a.Hosts, bytesText(b.Bytes), bytesText(b.Median), s.K, bytesText(b.MAD), b.Days, bytesText(s.Threshold))
	},
	Cases: []Case{
		{Name: "2 GiB after days of about 50 MiB", Fire: true, Severity: finding.Medium, Flows: cat(
			volumeHistory(10, 50<<20),
			[]F{{Src: ours, Dst: webHost, DstPort: 443, Packets: 1_500_000, Bytes: 2 << 30, Dir: "egress"}})},
		{Name: "a quiet interface wakes up, no flow_direction", Fire: true, Flows: cat(
			volumeHistory(8, 1<<20),
			[]F{{Src: ours, Dst: webHost, DstPort: 443, Packets: 400_000, Bytes: 300 << 20}})},
		{Name: "within its usual range", Fire: false, Flows: cat(
			volumeHistory(10, 900<<20),
			[]F{{Src: ours, Dst: webHost, DstPort: 443, Packets: 700_000, Bytes: 920 << 20, Dir: "egress"}})},
		{Name: "above the baseline, below the floor", Fire: false, Flows: cat(
			volumeHistory(10, 1<<20),
			[]F{{Src: ours, Dst: webHost, DstPort: 443, Packets: 100_000, Bytes: 100 << 20, Dir: "egress"}})},
		{Name: "a new instance: five days of history", Fire: false, Flows: cat(
			volumeHistory(5, 50<<20),
			[]F{{Src: ours, Dst: webHost, DstPort: 443, Packets: 1_500_000, Bytes: 2 << 30, Dir: "egress"}})},
		{Name: "inside the VPC", Fire: false, Flows: cat(
			volumeHistory(10, 50<<20),
			[]F{{Src: ours, Dst: ours2, DstPort: 443, Packets: 1_500_000, Bytes: 2 << 30, Dir: "egress"}})},
	},
}

// dailyHistory is n days before the case of one HTTPS connection a day to
// the internet on port, at the case's hour.
func dailyHistory(n, port int) []F {
	return repeat(n, func(i int) F {
		return F{Src: ours, Dst: webHost, SrcPort: 44000 + i, DstPort: port, Packets: 20, At: -time.Duration(i+1) * day, Dir: "egress"}
	})
}

// volumeHistory is n days before the case of about bytes an hour to the
// internet, at the case's hour, varying by a few percent.
func volumeHistory(n int, bytes int64) []F {
	return repeat(n, func(i int) F {
		b := bytes + bytes/50*int64(i%5-2)
		return F{Src: ours, Dst: webHost, SrcPort: 44000 + i, DstPort: 443, Packets: max(b/1400, 1), Bytes: b, At: -time.Duration(i+1) * day, Dir: "egress"}
	})
}

func protoName(p string) string {
	switch p {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	}
	return p
}
