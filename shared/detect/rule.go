package detect

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
)

// Settings are a rule's thresholds. Each rule reads the fields its doc
// names; Config.Rules overrides them per rule, field by field (a zero field
// keeps the default).
type Settings struct {
	// Window is the rule's time window. Windows are aligned to the Unix
	// epoch and must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30
	// or 60 minutes), so each lies in one hour partition of the lake.
	Window time.Duration `json:"window,omitempty"`
	// Threshold is the main threshold: distinct ports, distinct hosts,
	// connections, flows, or bytes (large-egress), as the rule's Measure
	// says; the rule fires at Threshold or more.
	Threshold int64 `json:"threshold,omitempty"`
	// FlowBytes (large-egress) fires on one flow of this many bytes.
	FlowBytes int64 `json:"flow_bytes,omitempty"`
	// MaxPackets (brute force) is the most packets a "short" flow has.
	MaxPackets int64 `json:"max_packets,omitempty"`
	// Ports are the rule's ports of interest (brute force, exposed ports,
	// mining pools) or the ports it leaves out (port-scan, host-sweep).
	Ports []int `json:"ports,omitempty"`
	// MaxPort (port-scan, host-sweep): destination ports from this one up
	// are the ephemeral range, where replies to our own connections land,
	// and are not counted. 0 counts every port.
	MaxPort int `json:"max_port,omitempty"`
	// Allow are the addresses a rule leaves out: the sanctioned resolvers
	// (dns-resolver-bypass, destinations) or the mail relays (spam-bot,
	// sources). A prefix shorter than a whole address must be whole
	// octets (IPv4) or groups (IPv6), as Config.InternalPrefixes: the SQL
	// matches its text.
	Allow []netip.Prefix `json:"allow,omitempty"`
	// K, Days and MinDays (the baseline rules): history is the Days
	// before the window's day, an interface with fewer than MinDays of
	// them is not judged (a new instance is not noise), and
	// traffic-volume-anomaly's baseline is the median plus K × the median
	// absolute deviation of the same hour on those days.
	K       float64 `json:"k,omitempty"`
	Days    int     `json:"days,omitempty"`
	MinDays int     `json:"min_days,omitempty"`
}

// merge returns s with the non-zero fields of o.
func (s Settings) merge(o Settings) Settings {
	if o.Window != 0 {
		s.Window = o.Window
	}
	if o.Threshold != 0 {
		s.Threshold = o.Threshold
	}
	if o.FlowBytes != 0 {
		s.FlowBytes = o.FlowBytes
	}
	if o.MaxPackets != 0 {
		s.MaxPackets = o.MaxPackets
	}
	if o.Ports != nil {
		s.Ports = append([]int(nil), o.Ports...)
	}
	if o.MaxPort != 0 {
		s.MaxPort = o.MaxPort
	}
	if o.Allow != nil {
		s.Allow = append([]netip.Prefix(nil), o.Allow...)
	}
	if o.K != 0 {
		s.K = o.K
	}
	if o.Days != 0 {
		s.Days = o.Days
	}
	if o.MinDays != 0 {
		s.MinDays = o.MinDays
	}
	return s
}

func (s *Settings) check() error {
	if s.Window <= 0 || s.Window%time.Minute != 0 || time.Hour%s.Window != 0 {
		return fmt.Errorf("window %v must be whole minutes that divide an hour", s.Window)
	}
	if s.Threshold <= 0 {
		return fmt.Errorf("threshold %d must be positive", s.Threshold)
	}
	for _, p := range s.Ports {
		if p < 0 || p > 65535 {
			return fmt.Errorf("port %d out of range", p)
		}
	}
	if s.MaxPort < 0 || s.MaxPort > 65536 {
		return fmt.Errorf("max_port %d out of range", s.MaxPort)
	}
	if s.K < 0 || s.Days < 0 || s.Days > 60 || s.MinDays < 0 || s.MinDays > s.Days {
		return fmt.Errorf("k %v, days %d, min_days %d: want k ≥ 0 and 0 ≤ min_days ≤ days ≤ 60", s.K, s.Days, s.MinDays)
	}
	for _, p := range s.Allow {
		if p.Bits() == p.Addr().BitLen() {
			continue // one address: an equality
		}
		if _, err := likePatterns(p); err != nil {
			return fmt.Errorf("allow: %w", err)
		}
	}
	return nil
}

// thresholds returns the settings that judged a finding, for its evidence.
func (s *Settings) thresholds(r *Rule) map[string]int64 {
	m := map[string]int64{"window_minutes": int64(s.Window / time.Minute), r.Measure.thresholdName(): s.Threshold}
	if s.FlowBytes > 0 {
		m["flow_bytes"] = s.FlowBytes
	}
	if s.MaxPackets > 0 {
		m["max_packets"] = s.MaxPackets
	}
	if s.MaxPort > 0 {
		m["max_port"] = int64(s.MaxPort)
	}
	if s.Days > 0 {
		m["history_days"], m["min_history_days"] = int64(s.Days), int64(s.MinDays)
	}
	return m
}

// Dim is a dimension a rule groups flows by, besides the account and the
// window.
type Dim uint8

// Dimensions.
const (
	DimSrc      Dim = iota + 1 // srcaddr
	DimDst                     // dstaddr
	DimDstPort                 // dstport
	DimENI                     // interface_id
	DimProtocol                // protocol
)

func (d Dim) name() string {
	switch d {
	case DimSrc:
		return "src"
	case DimDst:
		return "dst"
	case DimDstPort:
		return "dstport"
	case DimENI:
		return "eni"
	case DimProtocol:
		return "protocol"
	}
	return "?"
}

func (d Dim) column() string {
	switch d {
	case DimSrc:
		return "srcaddr"
	case DimDst:
		return "dstaddr"
	case DimDstPort:
		return "dstport"
	case DimENI:
		return "interface_id"
	case DimProtocol:
		return "protocol"
	}
	return "NULL"
}

// Measure is what a rule counts within a group, and compares with its
// Threshold.
type Measure uint8

// Measures.
const (
	MeasureFlows       Measure = iota + 1 // matching flow records
	MeasurePorts                          // distinct destination ports
	MeasureHosts                          // distinct destination hosts
	MeasureConnections                    // distinct source ports: connections, however many ENIs logged them
	MeasureBytes                          // bytes (large-egress, with FlowBytes for one flow)
	MeasureSkipped                        // SKIPDATA records
	MeasurePacketRate                     // packets per second, averaged over the window
)

func (m Measure) String() string {
	switch m {
	case MeasureFlows:
		return "flows"
	case MeasurePorts:
		return "distinct_ports"
	case MeasureHosts:
		return "distinct_hosts"
	case MeasureConnections:
		return "connections"
	case MeasureBytes:
		return "bytes"
	case MeasureSkipped:
		return "skipped_records"
	case MeasurePacketRate:
		return "packets_per_second"
	}
	return "?"
}

func (m Measure) thresholdName() string { return "min_" + m.String() }

// of returns the measure of an aggregate judged with settings s.
func (m Measure) of(s *Settings, a *Agg) int64 {
	switch m {
	case MeasurePacketRate:
		return a.Packets / int64(s.Window/time.Second)
	case MeasurePorts:
		return a.Ports
	case MeasureHosts:
		return a.Hosts
	case MeasureConnections:
		return a.Conns
	case MeasureBytes:
		return a.Bytes
	}
	return a.Flows
}

// sql returns the SQL aggregate of the measure (but MeasurePacketRate,
// which having compares as packets over the window).
func (m Measure) sql() string {
	switch m {
	case MeasurePacketRate:
		return "COALESCE(sum(packets), 0)"
	case MeasurePorts:
		return "count(DISTINCT dstport)"
	case MeasureHosts:
		return "count(DISTINCT dstaddr)"
	case MeasureConnections:
		return "count(DISTINCT srcport)"
	case MeasureBytes:
		return "sum(bytes)"
	}
	return "count(*)"
}

// Rule is one detection: data, not code paths. Its filter (When) selects
// flows, the flows are grouped by account, window and Entity, and a group
// fires when its Measure reaches Settings.Threshold (or, with FlowBytes,
// when one flow is that large). The batch engine evaluates this in Go, the
// lake engine as SQL generated from the same values.
type Rule struct {
	ID      string
	Title   string
	Summary string   // one paragraph: what fires and why it matters
	Mitre   []string // MITRE ATT&CK technique ids
	// Entity are the dimensions a finding is about, besides the account
	// and the window.
	Entity   []Dim
	Measure  Measure
	Defaults Settings
	When     []Cond
	// Severity rates a group that fired, and says whether our side is
	// the actor or the target.
	Severity func(a *Agg) (finding.Severity, finding.Role)
	// Describe writes the finding's description.
	Describe func(s *Settings, a *Agg) string
	// Next is what the person on call should check next, for a finding of
	// the rule; notify renders it in every message.
	Next NextSteps
	// Join, when not JoinNone, matches each group with reference data
	// besides the flows, in both engines (see Join).
	Join Join
	// Cases are the rule's own should-fire and should-not-fire examples;
	// TestRuleCases runs every one on both engines.
	Cases []Case
}

// NextSteps are the steps to take next, in order: Target when our side is
// the target of what the finding shows (or the role is unknown), Actor when
// our side is the actor; a rule with no steps for a role gets
// DefaultNextSteps'. A step may name the finding's {src}, {dst},
// {interface}, {ports}, {seen} (the first to the last flow) and {window};
// the renderer (notify/text) fills them in.
type NextSteps struct {
	Target, Actor []string
}

// CompromisedSteps are the steps for one of our instances acting as an
// attacker.
var CompromisedSteps = []string{
	"Treat {src} as possibly compromised: check its running processes, recent logins and new cron jobs or containers.",
	"Check CloudTrail for the instance role's API calls around {seen}.",
	"If it is unexplained, isolate {interface} with a security group that allows no traffic, and snapshot its volumes before you change anything.",
}

// DefaultNextSteps are the steps of a rule that has none of its own.
var DefaultNextSteps = NextSteps{
	Target: []string{
		"Run the Athena query to see the flows, and whether any were accepted.",
		"Review the security group and network ACL of {interface}.",
	},
	Actor: CompromisedSteps,
}

// Steps returns the steps of the rule for a finding in which our side has
// role (actor or not), falling back to DefaultNextSteps.
func (n NextSteps) Steps(actor bool) []string {
	if actor {
		if len(n.Actor) > 0 {
			return n.Actor
		}
		return DefaultNextSteps.Actor
	}
	if len(n.Target) > 0 {
		return n.Target
	}
	return DefaultNextSteps.Target
}

// fires reports whether a group's aggregate reaches the thresholds.
func (r *Rule) fires(s *Settings, a *Agg) bool {
	if r.Join.ReadsRollups() {
		return r.Measure.of(s, a) >= s.Threshold && r.Join.judge(s, a)
	}
	if r.Measure.of(s, a) >= s.Threshold {
		return true
	}
	return s.FlowBytes > 0 && a.MaxBytes >= s.FlowBytes
}

// having is the SQL form of fires.
func (r *Rule) having(s *Settings) string {
	h := fmt.Sprintf("%s >= %d", r.Measure.sql(), s.Threshold)
	if r.Measure == MeasurePacketRate {
		// The integer rate of of: packets / seconds >= threshold exactly
		// when packets >= threshold × seconds.
		h = fmt.Sprintf("%s >= %d", r.Measure.sql(), s.Threshold*int64(s.Window/time.Second))
	}
	if s.FlowBytes > 0 {
		h += fmt.Sprintf(" OR max(bytes) >= %d", s.FlowBytes)
	}
	return h
}

// Agg is what a group of flows adds up to, in either engine. Address
// fields hold the text form. Key holds the Entity dimensions' values.
type Agg struct {
	Account     string
	WindowStart int64 // Unix seconds
	Key         map[Dim]string

	PartAccount, PartRegion string // the lake partition values (or the batch's)
	InterfaceID             string // the least interface id that logged the flows
	Src, Dst                string // the least source and destination address
	SrcInternal             bool   // Src is one of ours: our side is the actor
	Protocol                int

	Flows, Accepted       int64
	Bytes, Packets        int64
	MaxBytes              int64
	Ports, Hosts, Sources int64 // distinct dstport, dstaddr, srcaddr
	Conns                 int64 // distinct srcport
	PortList              []int // distinct destination ports, sorted
	FirstSeen, LastSeen   int64 // Unix seconds: least start, greatest end
	Samples               []finding.Flow
	// HistDays are the days (yyyy-MM-dd) of the interface's rollups, and
	// HistValues its history of the group (day=bytes at the window's hour
	// for JoinVolumeBaseline, day/hour of each use of the port for
	// JoinPortHistory), as the lake engine's join returns them; Baseline
	// is what the judge found (JoinVolumeBaseline).
	HistDays, HistValues []string
	Baseline             *Baseline
	// List and Label are the threat list and the entry's label the
	// group's peer is on (JoinThreatLists).
	List, Label string
}
