package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/threatlist"
)

// Cond is one condition of a rule's flow filter. It has a Go form, used by
// the batch engine, and an SQL form, used over the lake; a rule's filter
// is the AND of its conditions, so the two engines select the same flows
// by construction.
type Cond struct {
	// Doc says what the condition means, for the rule's documentation.
	Doc   string
	match func(e *env, f *flow) bool
	sql   func(e *env) string // "": no condition with these settings
}

// env is what conditions read: the rule's settings and the classifier.
type env struct {
	s     *Settings
	cls   *classifier
	lists []*threatlist.List // Config.ThreatLists
}

// flow is a record as the conditions see it, with its addresses
// classified once.
type flow struct {
	r                  *flowlog.Record
	srcOK, srcInternal bool
	dstOK, dstInternal bool
	dir                string // flow_direction, "" when NULL
	list, label        string // set by PeerListed when it matches
}

func (f *flow) srcExternal() bool { return f.srcOK && !f.srcInternal }
func (f *flow) dstExternal() bool { return f.dstOK && !f.dstInternal }

// outbound is Outbound's test: flow_direction egress, or without it from
// an internal to an external address.
func (f *flow) outbound() bool {
	if f.dir != "" {
		return f.dir == "egress"
	}
	return f.srcOK && f.srcInternal && f.dstExternal()
}

// openedByUs is OpenedByUs' test: from an ephemeral source port to a port
// below the ephemeral range.
func (f *flow) openedByUs() bool {
	return f.r.Has(flowlog.FieldSrcPort) && f.r.Has(flowlog.FieldDstPort) &&
		int(f.r.SrcPort) >= EphemeralFrom && int(f.r.DstPort) < EphemeralFrom
}

// inAny reports whether a is inside one of ps.
func inAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func portList(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ", ")
}

// Protocols keeps flows of the given IANA protocols.
func Protocols(ps ...int) Cond {
	return Cond{
		Doc: "protocol in (" + portList(ps) + ")",
		match: func(_ *env, f *flow) bool {
			return f.r.Has(flowlog.FieldProtocol) && slices.Contains(ps, int(f.r.Protocol))
		},
		sql: func(*env) string { return "protocol IN (" + portList(ps) + ")" },
	}
}

// DstPortIn keeps flows to the rule's ports (Settings.Ports).
func DstPortIn() Cond {
	return Cond{
		Doc: "dstport in the rule's ports",
		match: func(e *env, f *flow) bool {
			return f.r.Has(flowlog.FieldDstPort) && slices.Contains(e.s.Ports, int(f.r.DstPort))
		},
		sql: func(e *env) string {
			if len(e.s.Ports) == 0 {
				return "FALSE"
			}
			return "dstport IN (" + portList(e.s.Ports) + ")"
		},
	}
}

// DstPortNotIn keeps flows to ports other than the rule's excluded ports
// (Settings.Ports) and below Settings.MaxPort (the ephemeral range, where
// replies to our own connections land).
func DstPortNotIn() Cond {
	return Cond{
		Doc: "dstport not in the rule's excluded ports, and below max_port",
		match: func(e *env, f *flow) bool {
			if !f.r.Has(flowlog.FieldDstPort) || slices.Contains(e.s.Ports, int(f.r.DstPort)) {
				return false
			}
			return e.s.MaxPort <= 0 || int(f.r.DstPort) < e.s.MaxPort
		},
		sql: func(e *env) string {
			var parts []string
			parts = append(parts, "dstport IS NOT NULL")
			if len(e.s.Ports) > 0 {
				parts = append(parts, "dstport NOT IN ("+portList(e.s.Ports)+")")
			}
			if e.s.MaxPort > 0 {
				parts = append(parts, fmt.Sprintf("dstport < %d", e.s.MaxPort))
			}
			return strings.Join(parts, " AND ")
		},
	}
}

// Accepted keeps ACCEPTed flows.
func Accepted() Cond {
	return Cond{
		Doc:   "action = ACCEPT",
		match: func(_ *env, f *flow) bool { return f.r.Has(flowlog.FieldAction) && f.r.Action == flowlog.ActionAccept },
		sql:   func(*env) string { return "action = 'ACCEPT'" },
	}
}

// Short keeps flows of at most Settings.MaxPackets packets.
func Short() Cond {
	return Cond{
		Doc: "packets <= max_packets",
		match: func(e *env, f *flow) bool {
			return f.r.Has(flowlog.FieldPackets) && f.r.Packets <= e.s.MaxPackets
		},
		sql: func(e *env) string { return fmt.Sprintf("packets <= %d", e.s.MaxPackets) },
	}
}

// SrcInternal keeps flows from our own addresses.
func SrcInternal() Cond {
	return Cond{
		Doc:   "srcaddr is internal",
		match: func(_ *env, f *flow) bool { return f.srcOK && f.srcInternal },
		sql:   func(e *env) string { return e.cls.sqlInternal("srcaddr") },
	}
}

// SrcExternal keeps flows from the internet.
func SrcExternal() Cond {
	return Cond{
		Doc:   "srcaddr is external (public)",
		match: func(_ *env, f *flow) bool { return f.srcExternal() },
		sql:   func(e *env) string { return e.cls.sqlExternal("srcaddr") },
	}
}

// DstExternal keeps flows to the internet.
func DstExternal() Cond {
	return Cond{
		Doc:   "dstaddr is external (public)",
		match: func(_ *env, f *flow) bool { return f.dstExternal() },
		sql:   func(e *env) string { return e.cls.sqlExternal("dstaddr") },
	}
}

// HasAddrs keeps flows with both addresses.
func HasAddrs() Cond {
	return Cond{
		Doc:   "srcaddr and dstaddr are set",
		match: func(_ *env, f *flow) bool { return f.srcOK && f.dstOK },
		sql:   func(*env) string { return "srcaddr IS NOT NULL AND dstaddr IS NOT NULL" },
	}
}

// Inbound keeps flows into our network: flow_direction ingress, or, where
// the format has no flow_direction, from an external to an internal
// address.
func Inbound() Cond {
	return Cond{
		Doc: "inbound: flow_direction = ingress, or without it external to internal",
		match: func(_ *env, f *flow) bool {
			if f.dir != "" {
				return f.dir == "ingress"
			}
			return f.srcExternal() && f.dstOK && f.dstInternal
		},
		sql: func(e *env) string {
			return "(flow_direction = 'ingress' OR (flow_direction IS NULL AND " +
				e.cls.sqlExternal("srcaddr") + " AND " + e.cls.sqlInternal("dstaddr") + "))"
		},
	}
}

// Outbound keeps flows out of our network: flow_direction egress, or,
// without it, from an internal to an external address.
func Outbound() Cond {
	return Cond{
		Doc:   "outbound: flow_direction = egress, or without it internal to external",
		match: func(_ *env, f *flow) bool { return f.outbound() },
		sql: func(e *env) string {
			return "(flow_direction = 'egress' OR (flow_direction IS NULL AND " +
				e.cls.sqlInternal("srcaddr") + " AND " + e.cls.sqlExternal("dstaddr") + "))"
		},
	}
}

// SkipData keeps SKIPDATA records: intervals AWS could not record.
func SkipData() Cond {
	return Cond{
		Doc: "log_status = SKIPDATA",
		match: func(_ *env, f *flow) bool {
			return f.r.Has(flowlog.FieldLogStatus) && f.r.LogStatus == flowlog.LogStatusSkipData
		},
		sql: func(*env) string { return "log_status = 'SKIPDATA'" },
	}
}

// DstPorts keeps flows to the given destination ports: a fixed part of the
// rule, unlike DstPortIn's settings.
func DstPorts(ps ...int) Cond {
	return Cond{
		Doc: "dstport in (" + portList(ps) + ")",
		match: func(_ *env, f *flow) bool {
			return f.r.Has(flowlog.FieldDstPort) && slices.Contains(ps, int(f.r.DstPort))
		},
		sql: func(*env) string { return "dstport IN (" + portList(ps) + ")" },
	}
}

// AnyOf keeps flows that meet every condition of at least one of alts.
func AnyOf(alts ...[]Cond) Cond {
	docs := make([]string, len(alts))
	for i, alt := range alts {
		d := make([]string, len(alt))
		for j, c := range alt {
			d[j] = c.Doc
		}
		docs[i] = "(" + strings.Join(d, " and ") + ")"
	}
	return Cond{
		Doc: strings.Join(docs, " or "),
		match: func(e *env, f *flow) bool {
		alts:
			for _, alt := range alts {
				for _, c := range alt {
					if !c.match(e, f) {
						continue alts
					}
				}
				return true
			}
			return false
		},
		sql: func(e *env) string {
			parts := make([]string, len(alts))
			for i, alt := range alts {
				q := make([]string, len(alt))
				for j, c := range alt {
					q[j] = "(" + c.sql(e) + ")"
				}
				parts[i] = "(" + strings.Join(q, " AND ") + ")"
			}
			return strings.Join(parts, " OR ")
		},
	}
}

// DstNotAllowed keeps flows whose destination is not in Settings.Allow
// (sanctioned resolvers).
func DstNotAllowed() Cond {
	return Cond{
		Doc:   "dstaddr not in the rule's allow list",
		match: func(e *env, f *flow) bool { return !inAny(e.s.Allow, f.r.DstAddr) },
		sql:   func(e *env) string { return notAllowedSQL("dstaddr", e.s.Allow) },
	}
}

// SrcNotAllowed keeps flows whose source is not in Settings.Allow (mail
// relays).
func SrcNotAllowed() Cond {
	return Cond{
		Doc:   "srcaddr not in the rule's allow list",
		match: func(e *env, f *flow) bool { return !inAny(e.s.Allow, f.r.SrcAddr) },
		sql:   func(e *env) string { return notAllowedSQL("srcaddr", e.s.Allow) },
	}
}

// notAllowedSQL is the SQL of "col is in none of ps": one address as an
// equality with its text, a prefix as the LIKE patterns of its text; ""
// (no condition) for none.
func notAllowedSQL(col string, ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "" // no condition
	}
	var parts []string
	for _, p := range ps {
		if p.Bits() == p.Addr().BitLen() {
			parts = append(parts, col+" = "+quote(p.Addr().String()))
			continue
		}
		pats, _ := likePatterns(p) // Settings.check checked them
		for _, pat := range pats {
			parts = append(parts, col+" LIKE "+quote(pat))
		}
	}
	return "NOT (" + strings.Join(parts, " OR ") + ")"
}

// OneSideInternal keeps flows between one of our addresses and an external
// one, either way.
func OneSideInternal() Cond {
	return Cond{
		Doc:   "one address is internal and the other external",
		match: func(_ *env, f *flow) bool { return f.srcOK && f.dstOK && f.srcInternal != f.dstInternal },
		sql: func(e *env) string {
			return "(" + e.cls.sqlInternal("srcaddr") + " AND " + e.cls.sqlExternal("dstaddr") + ") OR (" +
				e.cls.sqlExternal("srcaddr") + " AND " + e.cls.sqlInternal("dstaddr") + ")"
		},
	}
}

// PeerListed keeps flows whose peer, the address that is not ours (the
// destination when the source is internal, else the source), is on a
// threat list of Config.ThreatLists, and notes the list and the label
// (the least list name, then label, when several lists hold it). It has no
// SQL form: a rule that uses it joins the lake's threat_lists table
// (JoinThreatLists), which matches the same entries.
func PeerListed() Cond {
	return Cond{
		Doc: "the peer (the address that is not ours) is on a threat list",
		match: func(e *env, f *flow) bool {
			peer := f.r.SrcAddr
			if f.srcInternal {
				peer = f.r.DstAddr
			}
			found := false
			for _, l := range e.lists {
				label, ok := l.Lookup(peer)
				if ok && (!found || l.Name < f.list || l.Name == f.list && label < f.label) {
					f.list, f.label, found = l.Name, label, true
				}
			}
			return found
		},
		sql: func(*env) string { return "" },
	}
}

// OpenedByUs keeps the flows of a connection our side opened, as the
// compactor's rollups count them: from an ephemeral source port
// (EphemeralFrom and up) to a port below the ephemeral range.
func OpenedByUs() Cond {
	return Cond{
		Doc:   fmt.Sprintf("srcport >= %d and dstport < %d (a connection we opened)", EphemeralFrom, EphemeralFrom),
		match: func(_ *env, f *flow) bool { return f.openedByUs() },
		sql: func(*env) string {
			return fmt.Sprintf("srcport >= %d AND dstport < %d", EphemeralFrom, EphemeralFrom)
		},
	}
}
