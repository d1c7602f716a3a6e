package why

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	t0     = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	srcIP  = netip.MustParseAddr("10.0.0.10")
	dstIP  = netip.MustParseAddr("10.0.1.11")
	srcENI = Interface{ID: "eni-s", Role: "src", Addr: "10.0.0.10", Subnet: "subnet-s", OK: 100, Accepted: 80, Rejected: 20, Region: "us-east-1"}
	dstENI = Interface{ID: "eni-d", Role: "dst", Addr: "10.0.1.11", Subnet: "subnet-d", OK: 100, Accepted: 80, Rejected: 20, Region: "us-east-1"}
)

func ev(dir, eni, flowDir, action string, records int64, last time.Time, flags ...string) Evidence {
	b := records * 60
	e := Evidence{Direction: dir, Interface: eni, FlowDirection: flowDir, Action: action, Protocol: 6,
		Records: records, Packets: records, Bytes: &b, First: t0, Last: last}
	if flags != nil {
		e.TCPFlags, e.flagged = flags, true
	}
	return e
}

// answer decides an answer from evidence and interfaces, as Ask does
// after its queries.
func answer(q Question, its []Interface, evs ...Evidence) *Answer {
	a := &Answer{Src: q.Src.String(), Dst: q.Dst.String(), Port: q.Port, Interfaces: its, Evidence: evs,
		Window: Window{Since: t0.Add(-9 * time.Hour), Until: t0.Add(15 * time.Hour)}}
	f := assign(a)
	decide(a, f, q)
	caveats(a, f, q)
	a.Next = next(a, f, q)
	return a
}

// TestDecide covers what the scenarios do not: reserved addresses, mixed
// outcomes, one-traffic-type flow logs, replies lost on the way back,
// interfaces whose side is unknown, and a client on the internet.
func TestDecide(t *testing.T) {
	q := Question{Src: srcIP, Dst: dstIP, Port: 5432, Protocol: 6}
	later := t0.Add(time.Hour)
	rejectOnly := dstENI
	rejectOnly.Accepted, rejectOnly.Rejected = 0, 40
	unknownSide := dstENI
	unknownSide.Role = "dst"
	for _, tc := range []struct {
		name    string
		q       Question
		its     []Interface
		evs     []Evidence
		verdict Verdict
		likely  string
		caveat  string // a caveat must contain it
		next    string // a next command must contain it
	}{
		{name: "vpc dns", q: Question{Src: srcIP, Dst: netip.MustParseAddr("10.0.0.2"), Port: 53, VPCCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}},
			its: []Interface{srcENI}, verdict: NotLogged},
		{name: "dhcp", q: Question{Src: srcIP, Dst: netip.MustParseAddr("10.0.0.1"), Port: 67, Protocol: 17},
			its: []Interface{srcENI}, verdict: NotLogged},
		{name: "time sync v6", q: Question{Src: netip.MustParseAddr("2600:1f18:1234::10"), Dst: netip.MustParseAddr("fd00:ec2::123"), Port: 123},
			verdict: NotLogged},
		{name: "dns hint without a vpc block", q: Question{Src: srcIP, Dst: netip.MustParseAddr("10.0.0.2"), Port: 53},
			its: []Interface{srcENI}, verdict: NeverSent, caveat: "--vpc-cidr"},
		{name: "rejected after accepted: the latest decides", q: q, its: []Interface{srcENI, dstENI},
			evs:     []Evidence{ev("request", "eni-s", "egress", "ACCEPT", 10, later), ev("request", "eni-d", "ingress", "ACCEPT", 4, t0.Add(10*time.Minute)), ev("request", "eni-d", "ingress", "REJECT", 6, later)},
			verdict: BlockedInbound, likely: LikelyEither, caveat: "both accepted"},
		{name: "reject-only flow log", q: q, its: []Interface{srcENI, rejectOnly},
			evs:     []Evidence{ev("request", "eni-s", "egress", "ACCEPT", 6, later)},
			verdict: LostInPath, caveat: "REJECT traffic only", next: "describe-flow-logs"},
		{name: "reply lost on the way back", q: q, its: []Interface{srcENI, dstENI},
			evs:     []Evidence{ev("request", "eni-s", "egress", "ACCEPT", 6, later), ev("request", "eni-d", "ingress", "ACCEPT", 6, later), ev("reply", "eni-d", "egress", "ACCEPT", 6, later)},
			verdict: LostInPath},
		{name: "reply rejected entering the source", q: q, its: []Interface{srcENI, dstENI},
			evs:     []Evidence{ev("request", "eni-s", "egress", "ACCEPT", 6, later, "syn"), ev("request", "eni-d", "ingress", "ACCEPT", 6, later, "syn"), ev("reply", "eni-d", "egress", "ACCEPT", 6, later, "syn-ack"), withSubnet(ev("reply", "eni-s", "ingress", "REJECT", 6, later, "syn-ack"), "subnet-s")},
			verdict: ReplyBlocked, likely: LikelyNetworkACL, next: "Values=subnet-s"},
		{name: "internet client answered", q: Question{Src: netip.MustParseAddr("94.130.10.20"), Dst: dstIP, Port: 443}, its: []Interface{dstENI},
			evs:     []Evidence{ev("request", "eni-d", "ingress", "ACCEPT", 6, later, "syn"), ev("reply", "eni-d", "egress", "ACCEPT", 6, later, "syn-ack")},
			verdict: Connected, caveat: "No interface of 94.130.10.20"},
		{name: "internet server silent", q: Question{Src: srcIP, Dst: netip.MustParseAddr("93.184.216.34"), Port: 443}, its: []Interface{srcENI},
			evs:     []Evidence{ev("request", "eni-s", "egress", "ACCEPT", 6, later, "syn")},
			verdict: Unanswered, caveat: "No interface of 93.184.216.34"},
		{name: "side unknown", q: q, its: []Interface{srcENI},
			evs:     []Evidence{ev("request", "eni-x", "", "ACCEPT", 6, later)},
			verdict: Unanswered, caveat: "cannot tell whose side eni-x"},
		{name: "connected without tcp-flags", q: q, its: []Interface{srcENI, dstENI},
			evs:     []Evidence{ev("request", "eni-d", "ingress", "ACCEPT", 6, later), ev("reply", "eni-s", "ingress", "ACCEPT", 6, later)},
			verdict: Connected, caveat: "no tcp-flags"},
		{name: "connected with no syn-ack in the window", q: q, its: []Interface{srcENI, dstENI},
			evs:     []Evidence{ev("request", "eni-d", "ingress", "ACCEPT", 6, later, "fin"), ev("reply", "eni-s", "ingress", "ACCEPT", 6, later, "fin")},
			verdict: Connected, caveat: "SYN-ACK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := answer(tc.q, tc.its, tc.evs...)
			if a.Verdict != tc.verdict || a.Likely != tc.likely {
				t.Errorf("verdict %s (likely %q); want %s (likely %q): %s", a.Verdict, a.Likely, tc.verdict, tc.likely, a.Summary)
			}
			if tc.caveat != "" && !strings.Contains(strings.Join(a.Caveats, "\n"), tc.caveat) {
				t.Errorf("caveats %q; want one with %q", a.Caveats, tc.caveat)
			}
			if tc.next != "" && !strings.Contains(strings.Join(a.Next, "\n"), tc.next) {
				t.Errorf("next %q; want one with %q", a.Next, tc.next)
			}
		})
	}
}

func withSubnet(e Evidence, s string) Evidence { e.Subnet = s; return e }

func TestNeverLogged(t *testing.T) {
	vpc := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("2600:1f18:1234:100::/56")}
	for _, tc := range []struct {
		addr        string
		port, proto int
		want        string // "" when logged
	}{
		{"169.254.169.254", 80, 6, "metadata"},
		{"fd00:ec2::254", 80, 6, "metadata"},
		{"169.254.169.253", 53, 17, "DNS"},
		{"169.254.169.123", 123, 17, "Time Sync"},
		{"169.254.169.251", 1688, 6, "Windows"},
		{"10.1.0.2", 53, 17, "DNS resolver of 10.1.0.0/16 (base + 2)"},
		{"10.1.0.1", 0, 0, "VPC router"},
		{"10.1.255.255", 0, 0, "broadcast"},
		{"10.1.0.4", 53, 17, ""},
		{"10.2.0.2", 53, 17, ""},
		{"10.1.0.9", 67, 17, "DHCP"},
		{"10.1.0.9", 67, 6, ""},
		{"2600:1f18:1234:100::2", 53, 17, "DNS resolver"},
		{"8.8.8.8", 53, 17, ""},
	} {
		got := NeverLogged(netip.MustParseAddr(tc.addr), tc.port, tc.proto, vpc)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("NeverLogged(%s, %d, %d) = %q; want %q", tc.addr, tc.port, tc.proto, got, tc.want)
		}
	}
}

func TestPartitionFilter(t *testing.T) {
	for _, tc := range []struct {
		since, until time.Time
		want         string
	}{
		{t0.Add(-9 * time.Hour), t0.Add(15 * time.Hour), `"day" = '2026-11-24'`},
		{t0, t0.Add(90 * time.Minute), `("day" = '2026-11-24' AND "hour" IN ('09', '10'))`},
		{t0.Add(14*time.Hour + 30*time.Minute), t0.Add(16 * time.Hour), "(" + `("day" = '2026-11-24' AND "hour" IN ('23'))` + "\n    OR " + `("day" = '2026-11-25' AND "hour" IN ('00'))` + ")"},
	} {
		if got := partitionFilter(tc.since, tc.until); got != tc.want {
			t.Errorf("partitionFilter(%s, %s) = %s; want %s", tc.since, tc.until, got, tc.want)
		}
	}
}
