package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/threatlist"
)

// Join is reference data a rule matches its groups with, besides the
// flows. The batch engine matches it in a condition, the lake engine in a
// join around the rule's aggregate that keeps aggregateSQL's columns (and
// adds its own), so parseAgg reads every rule alike.
type Join uint8

// Joins.
const (
	JoinNone Join = iota
	// JoinThreatLists matches a group's peer, the address that is not
	// ours, with the threat lists: Config.ThreatLists in the batch engine
	// (PeerListed), the lake's threat_lists table (lake.ThreatListsTable)
	// in the lake engine. A group whose peer is on no list does not fire;
	// Agg.List and Agg.Label name the list and the label (the least list
	// name, then label, when several lists hold the peer). The rule's
	// Entity must hold DimSrc and DimDst, so a group has one peer.
	JoinThreatLists
	// JoinVolumeBaseline matches an interface's hour with the same hour of
	// the days before in the lake's rollups (lake.RollupTable): lake
	// engine only (see baseline.go).
	JoinVolumeBaseline
	// JoinPortHistory matches an interface's (protocol, port) with its use
	// in the rollups of the days before: lake engine only.
	JoinPortHistory
)

// threatListsSQL wraps a rule's aggregate (with its peer column) in the
// join with the threat lists. The table has no IP type, so Athena and
// DuckDB match alike: an IPv4 peer by its first three octets' text and its
// last octet in the row's range, an IPv6 peer by its text. The lists are
// matched once per distinct peer, and each list's ranges are disjoint
// (threatlist.Rows), so the join never multiplies a group's flows.
func threatListsSQL(aggregate string) string {
	const v6 = "strpos(p.peer, ':') > 0"
	return `WITH g AS (
` + aggregate + `
),
m AS (
  SELECT p.peer, min(t.list || ' ' || t.label) AS list_label
  FROM (SELECT DISTINCT peer FROM g) p
  JOIN threat_lists t
    ON t.key = CASE WHEN ` + v6 + ` THEN p.peer ELSE regexp_extract(p.peer, '^(\d+\.\d+\.\d+)\.', 1) END
    AND (CASE WHEN ` + v6 + ` THEN 0 ELSE TRY_CAST(regexp_extract(p.peer, '\.(\d+)$', 1) AS INTEGER) END) BETWEEN t.lo AND t.hi
  GROUP BY p.peer
)
SELECT g.*, m.list_label
FROM g
JOIN m ON m.peer = g.peer
ORDER BY g.window_start, g.account`
}

// Addresses of the threat-list-match cases, on caseLists.
const (
	torExit   = "198.51.100.23"  // tor-exits (exit relay), and vendor-blocklist's 198.51.100.0/24
	listedNet = "203.0.113.0/24" // vendor-blocklist (scanner)
	listedIn  = "203.0.113.77"
	outsideIt = "203.0.114.1" // just outside listedNet
)

// caseLists are the lists of the threat-list-match cases: made up, in the
// documentation ranges.
var caseLists = []*threatlist.List{
	mustList("tor-exits", "# Tor exit nodes (made up)\n"+torExit+" exit relay\n"),
	mustList("vendor-blocklist", "address,label\n"+listedNet+",scanner\n198.51.100.0/24,bulletproof hosting\n"+
		"10.0.2.0/24,lab range\n"),
}

func mustList(name, text string) *threatlist.List {
	l, bad, err := threatlist.Parse(name, "", strings.NewReader(text))
	if err != nil || len(bad) > 0 {
		panic(fmt.Sprint("detect: case list ", name, ": ", bad, err))
	}
	return l
}

var threatListMatch = Rule{
	ID:    "threat-list-match",
	Title: "Traffic with an address on a threat list",
	Summary: "An accepted flow between one of our addresses and an address on a threat list: a plain-text or " +
		"CSV list of addresses and CIDR blocks with labels (Tor exit nodes, a vendor's blocklist), given to " +
		"ingest and imported into the lake (flowlake threat-list import). Our side as the source, connecting out " +
		"to the listed address, is high (an instance talking to Tor or a command-and-control host); the listed " +
		"address reaching one of our services, accepted, is medium. Flows to an ephemeral port (max_port and " +
		"up) are replies to the other side's connection and do not count, so a conversation fires once, for " +
		"the side that opened it. The finding names the list and the entry's label.",
	Mitre:    []string{"T1071", "T1090.003", "T1190"},
	Entity:   []Dim{DimSrc, DimDst},
	Measure:  MeasureFlows,
	Defaults: Settings{Window: time.Hour, Threshold: 1, MaxPort: EphemeralFrom},
	When:     []Cond{Accepted(), HasAddrs(), OneSideInternal(), DstPortNotIn(), PeerListed()},
	Join:     JoinThreatLists,
	Severity: actorOr(finding.Medium),
	Next: NextSteps{
		Actor: append([]string{
			"Find what on {src} talks to {dst} (ss -tnp on the instance), and since when: run the query over earlier days.",
			"Weigh the list's label: Tor is rarely needed on a server; a command-and-control or malware label means the instance is likely compromised.",
		}, CompromisedSteps...),
		Target: []string{
			"Check the logs of the service on {dst} ({ports}) for what {src} did around {seen}: a login, an exploit, a download.",
			"Restrict {ports} in the security group of {interface}, and deny {src} (or its block) in the network ACL.",
			"If the service answered more than a probe, treat {dst} as possibly compromised.",
		},
	},
	Describe: func(s *Settings, a *Agg) string {
		label := ""
		if a.Label != "" {
			label = fmt.Sprintf(" (%s)", a.Label)
		}
		if a.SrcInternal {
			return fmt.Sprintf("%s connected to %s, on threat list %s%s: %d accepted flows to port %s, %s, within %s.",
				a.Key[DimSrc], a.Key[DimDst], a.List, label, a.Flows, portsText(a), bytesText(a.Bytes), durText(s.Window))
		}
		return fmt.Sprintf("%s, on threat list %s%s, reached %s on port %s: %d accepted flows, %s, within %s.",
			a.Key[DimSrc], a.List, label, a.Key[DimDst], portsText(a), a.Flows, bytesText(a.Bytes), durText(s.Window))
	},
	Cases: []Case{
		{Name: "outbound to a listed address", Fire: true, Severity: finding.High, Lists: caseLists, Flows: []F{
			{Src: ours, Dst: torExit, DstPort: 9001, Packets: 40, Dir: "egress"},
			{Src: torExit, SrcPort: 9001, Dst: ours, DstPort: 40000, Packets: 40, Dir: "ingress"}, // its reply
		}},
		{Name: "inbound accepted from an address in a listed block", Fire: true, Severity: finding.Medium, Lists: caseLists, Flows: []F{
			{Src: listedIn, Dst: ours, SrcPort: 51000, DstPort: 22, Packets: 12, Dir: "ingress"},
			{Src: ours, SrcPort: 22, Dst: listedIn, DstPort: 51000, Packets: 12, Dir: "egress"}, // the reply
		}},
		{Name: "outbound, no flow_direction", Fire: true, Severity: finding.High, Lists: caseLists, Flows: []F{
			{Src: ours, Dst: listedIn, DstPort: 443, Packets: 20},
		}},
		{Name: "rejected", Fire: false, Lists: caseLists, Flows: []F{
			{Src: listedIn, Dst: ours, DstPort: 22, Action: "REJECT", Packets: 1, Dir: "ingress"},
			{Src: ours, Dst: torExit, DstPort: 9001, Action: "REJECT", Packets: 1, Dir: "egress"},
		}},
		{Name: "both sides internal, one on a list", Fire: false, Lists: caseLists, Flows: []F{
			{Src: ours, Dst: ours2, DstPort: 5432, Packets: 20, Dir: "egress"},
		}},
		{Name: "just outside the listed block", Fire: false, Lists: caseLists, Flows: []F{
			{Src: ours, Dst: outsideIt, DstPort: 443, Packets: 20, Dir: "egress"},
			{Src: "203.0.112.255", Dst: ours, DstPort: 22, Packets: 20, Dir: "ingress"},
		}},
		{Name: "a listed address's reply to an ephemeral port", Fire: false, Lists: caseLists, Flows: []F{
			{Src: torExit, SrcPort: 443, Dst: ours, DstPort: 41000, Packets: 20, Dir: "ingress"},
		}},
		{Name: "no lists configured", Fire: false, Flows: []F{
			{Src: ours, Dst: torExit, DstPort: 9001, Packets: 40, Dir: "egress"},
		}},
	},
}
