package why

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
)

// group sums the evidence logged at one point of the path: the request
// leaving the source's interface (reqOut) or entering the destination's
// (reqIn), the reply leaving the destination's (repOut) or entering the
// source's (repIn).
type group struct {
	ev                 []*Evidence
	accepted, rejected int64 // records
	accLast, rejLast   time.Time
	first, last        time.Time
	packets, bytes     int64 // bytes of the records that carry them
	records            int64
	bytesKnown         bool
	flagged            bool
	synAck, rst        bool
	allTCP             bool
}

func (g *group) add(e *Evidence) {
	if len(g.ev) == 0 {
		g.allTCP = true
	}
	g.ev = append(g.ev, e)
	g.records += e.Records
	g.packets += e.Packets
	if e.Bytes != nil {
		g.bytes += *e.Bytes
		g.bytesKnown = true
	}
	if g.first.IsZero() || e.First.Before(g.first) {
		g.first = e.First
	}
	if e.Last.After(g.last) {
		g.last = e.Last
	}
	switch e.Action {
	case "ACCEPT":
		g.accepted += e.Records
		if e.Last.After(g.accLast) {
			g.accLast = e.Last
		}
	case "REJECT":
		g.rejected += e.Records
		if e.Last.After(g.rejLast) {
			g.rejLast = e.Last
		}
	}
	g.allTCP = g.allTCP && e.Protocol == 6
	if e.flagged {
		g.flagged = true
		for _, f := range e.TCPFlags {
			g.synAck = g.synAck || f == "syn-ack"
			g.rst = g.rst || f == "rst"
		}
	}
}

// blocked reports whether the point's latest records are rejections.
func (g *group) blocked() bool {
	return g.rejected > 0 && (g.accepted == 0 || g.rejLast.After(g.accLast))
}

func (g *group) interfaces() []string {
	var out []string
	for _, e := range g.ev {
		if !contains(out, e.Interface) {
			out = append(out, e.Interface)
		}
	}
	return out
}

func (g *group) rejectingSubnet() string {
	for _, e := range g.ev {
		if e.Action == "REJECT" && e.Subnet != "" {
			return e.Subnet
		}
	}
	return ""
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// facts is what the answer's evidence and interfaces say, sorted by
// point of the path.
type facts struct {
	src, dst                     []*Interface
	reqOut, reqIn, repOut, repIn group
	unowned                      []*Evidence // evidence of an interface whose side is unknown
	bpa                          []*Evidence
	absent                       string // the point whose missing record a verdict rests on: "src", "dst", "both"
	neighbourRejected            []string
	neighbourAccepted            []string
	asked                        *Neighbours
	replySubnet                  string
}

// assign gives each piece of evidence its owner and point of the path.
func assign(a *Answer) *facts {
	f := &facts{}
	roles := map[string]string{}
	for i := range a.Interfaces {
		it := &a.Interfaces[i]
		roles[it.ID] = it.Role
		if it.Role == "src" {
			f.src = append(f.src, it)
		} else {
			f.dst = append(f.dst, it)
		}
	}
	for i := range a.Evidence {
		e := &a.Evidence[i]
		switch {
		case e.FlowDirection == "egress" && e.Direction == "request", e.FlowDirection == "ingress" && e.Direction == "reply":
			e.Owner = "src"
		case e.FlowDirection == "ingress" && e.Direction == "request", e.FlowDirection == "egress" && e.Direction == "reply":
			e.Owner = "dst"
		default:
			e.Owner = roles[e.Interface]
		}
		if e.RejectReason == "BPA" {
			f.bpa = append(f.bpa, e)
		}
		switch {
		case e.Owner == "src" && e.Direction == "request":
			f.reqOut.add(e)
		case e.Owner == "dst" && e.Direction == "request":
			f.reqIn.add(e)
		case e.Owner == "dst" && e.Direction == "reply":
			f.repOut.add(e)
		case e.Owner == "src" && e.Direction == "reply":
			f.repIn.add(e)
		default:
			f.unowned = append(f.unowned, e)
		}
	}
	return f
}

// names lists interfaces as "eni-1 (subnet-1)".
func names(its []*Interface) string {
	var out []string
	for _, it := range its {
		s := it.ID
		if it.Subnet != "" {
			s += " (" + it.Subnet + ")"
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func (f *facts) byID(id string) *Interface {
	for _, its := range [][]*Interface{f.src, f.dst} {
		for _, it := range its {
			if it.ID == id {
				return it
			}
		}
	}
	return nil
}

func (f *facts) ids(its []*Interface) []string {
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = it.ID
	}
	return out
}

// gapOver returns the first interface of its whose SKIPDATA records
// overlap [from, to] (the whole window when from is zero).
func gapOver(its []*Interface, from, to time.Time) *Interface {
	for _, it := range its {
		if it.SkipData == 0 || it.SkipFirst == nil {
			continue
		}
		if from.IsZero() || (!it.SkipLast.Before(from) && !it.SkipFirst.After(to)) {
			return it
		}
	}
	return nil
}

// interval is an aggregation interval's worth of slack around the
// attempts: a record may land in the next one.
const interval = 10 * time.Minute

func describe(q Question) string {
	s := q.Dst.String()
	if q.Port != 0 {
		s += fmt.Sprintf(" port %d", q.Port)
	}
	if q.Protocol != 0 {
		s += " (" + ProtocolName(q.Protocol) + ")"
	}
	return s
}

// headerOnly reports whether the replies are bare headers (40 bytes a
// packet over IPv4, 60 over IPv6, as an RST is) answering requests of at
// most three packets each (a SYN and its retries): a reset, read without
// tcp-flags.
func headerOnly(reply, req *group, v6 bool) bool {
	hdr := int64(40)
	if v6 {
		hdr = 60
	}
	return reply.allTCP && req.allTCP && reply.bytesKnown && reply.packets > 0 && reply.bytes == hdr*reply.packets &&
		req.records > 0 && req.packets <= 3*req.records
}

// decide sets a's verdict, summary and likely cause from f.
func decide(a *Answer, f *facts, q Question) {
	d := describe(q)
	srcLogged, dstLogged := len(f.src) > 0, len(f.dst) > 0
	v6 := q.Src.Is6() || q.Dst.Is6()
	set := func(v Verdict, likely, format string, args ...any) {
		a.Verdict, a.Likely, a.Summary = v, likely, fmt.Sprintf(format, args...)
	}
	if why := NeverLogged(q.Dst, q.Port, q.Protocol, q.VPCCIDRs); why != "" {
		set(NotLogged, "", "Flow logs never record traffic to %s (%s), so the records cannot say why; test from the client itself.", q.Dst, why)
		return
	}
	if why := NeverLogged(q.Src, 0, q.Protocol, q.VPCCIDRs); why != "" {
		set(NotLogged, "", "Flow logs never record traffic from %s (%s), so the records cannot say why; test from the host itself.", q.Src, why)
		return
	}
	if len(f.bpa) > 0 {
		e := f.bpa[0]
		set(BlockedByBPA, "", "VPC Block Public Access rejected the pair's traffic at %s (reject-reason BPA, %d records): the VPC blocks internet traffic through its gateways unless the subnet or VPC is excluded.",
			e.Interface, e.Records)
		return
	}
	reqOut, reqIn, repOut, repIn := &f.reqOut, &f.reqIn, &f.repOut, &f.repIn
	switch {
	case reqOut.blocked():
		set(BlockedOutbound, LikelyEither, "%s's interface %s rejected its requests to %s as they left (%d records): an outbound security-group rule or the subnet's network ACL.",
			q.Src, strings.Join(reqOut.interfaces(), ", "), d, reqOut.rejected)
		return
	case reqIn.blocked():
		set(BlockedInbound, LikelyEither, "%s's interface %s rejected the requests from %s as they entered (%d records): a security group or the subnet's network ACL.",
			q.Dst, strings.Join(reqIn.interfaces(), ", "), q.Src, reqIn.rejected)
		return
	}
	arrived := reqIn.accepted > 0 || (!dstLogged && reqOut.accepted > 0)
	replied := repIn.accepted > 0 || (!srcLogged && repOut.accepted > 0)
	reply := repIn
	if repIn.accepted == 0 {
		reply = repOut
	}
	req := reqIn
	if reqIn.records == 0 {
		req = reqOut
	}
	if replied {
		switch {
		case reply.flagged && reply.synAck:
			set(Connected, "", "%s's requests to %s were accepted and %s answered with SYN-ACK, accepted back: the two can talk (%d request and %d reply records).",
				q.Src, d, q.Dst, req.records, reply.records)
		case reply.flagged && reply.rst:
			set(Reset, "", "%s answered %s's requests to %s with RST and no SYN-ACK: nothing listens on the port, or the host's stack refused the connection.",
				q.Dst, q.Src, d)
		case !reply.flagged && headerOnly(reply, req, v6):
			set(Reset, "", "%s answered %s's requests to %s with bare headers only (%d packets of %d bytes), as a TCP RST is: nothing listens on the port, or the host refused the connection.",
				q.Dst, q.Src, d, reply.packets, reply.bytes/max(reply.packets, 1))
		default:
			set(Connected, "", "%s's requests to %s were accepted and the replies were accepted back: the two can talk (%d request and %d reply records).",
				q.Src, d, req.records, reply.records)
		}
		return
	}
	if (arrived || reqOut.accepted > 0) && (repOut.rejected > 0 || repIn.rejected > 0) {
		at, sub := repOut, ""
		if repOut.rejected == 0 {
			at = repIn
		}
		sub = at.rejectingSubnet()
		f.replySubnet = sub
		where := "leaving " + q.Dst.String() + "'s interface " + strings.Join(at.interfaces(), ", ")
		acl := "the network ACL of " + orUnknown(sub, "its subnet") + " blocks the return traffic to the client's ephemeral ports (outbound rules)"
		if at == repIn {
			where = "entering " + q.Src.String() + "'s interface " + strings.Join(at.interfaces(), ", ")
			acl = "the network ACL of " + orUnknown(sub, "its subnet") + " blocks the replies to the ephemeral ports (inbound rules)"
		}
		set(ReplyBlocked, LikelyNetworkACL, "The requests to %s were accepted but the replies were rejected %s (%d records): a security group never rejects the reply to a flow it accepted, so %s.",
			d, where, at.rejected, acl)
		return
	}
	switch {
	case repOut.accepted > 0 && srcLogged:
		if gap := gapOver(f.src, repOut.first.Add(-interval), repOut.last.Add(interval)); gap != nil {
			setGap(a, gap, "replies")
			return
		}
		set(LostInPath, "", "%s's replies left its interface %s accepted and were never recorded at %s's interface %s, which is logged in the window: a route, transit gateway, peering connection or appliance dropped them on the way back (an asymmetric path?).",
			q.Dst, strings.Join(repOut.interfaces(), ", "), q.Src, names(f.src))
	case reqIn.accepted > 0:
		if gap := gapOver(append(append([]*Interface{}, f.dst...), f.src...), reqIn.first.Add(-interval), reqIn.last.Add(interval)); gap != nil {
			setGap(a, gap, "replies")
			return
		}
		set(Unanswered, "", "%s's interface %s accepted the requests from %s and no reply was ever recorded: nothing listens behind a silent host firewall, the host is down, or the reply leaves by another path.",
			q.Dst, strings.Join(reqIn.interfaces(), ", "), q.Src)
	case reqOut.accepted > 0 && dstLogged:
		if gap := gapOver(f.dst, reqOut.first.Add(-interval), reqOut.last.Add(interval)); gap != nil {
			setGap(a, gap, "requests")
			return
		}
		set(LostInPath, "", "%s's requests to %s left its interface %s accepted and were never recorded at %s's interface %s, which is logged in the window: a route, transit gateway, peering connection or appliance dropped them.",
			q.Src, d, strings.Join(reqOut.interfaces(), ", "), q.Dst, names(f.dst))
	case reqOut.accepted > 0:
		if gap := gapOver(f.src, reqOut.first.Add(-interval), reqOut.last.Add(interval)); gap != nil {
			setGap(a, gap, "replies")
			return
		}
		set(Unanswered, "", "%s's requests to %s left its interface %s accepted and no reply came back; %s has no logged interface, so whether they arrived is unknown: it is down, silent, or the path drops them.",
			q.Src, d, strings.Join(reqOut.interfaces(), ", "), q.Dst)
	case len(a.Evidence) > 0:
		// Only evidence whose side is unknown, or replies with no request.
		if len(f.unowned) > 0 {
			set(Unanswered, "", "%d records of the pair were logged by interfaces whose side the records cannot tell (no flow-direction, no ENI metadata), and none shows a reply; see the evidence.", len(f.unowned))
			return
		}
		set(Connected, "", "%s sent to %s and its replies were accepted, with no request recorded in the window (it may predate it).", q.Dst, q.Src)
	case srcLogged:
		if gap := gapOver(f.src, time.Time{}, time.Time{}); gap != nil {
			setGap(a, gap, "requests")
			return
		}
		set(NeverSent, "", "%s's interface %s is logged in the window but shows no flow to %s: the client never sent (name resolution, the application or its configuration).",
			q.Src, names(f.src), d)
	case dstLogged:
		if gap := gapOver(f.dst, time.Time{}, time.Time{}); gap != nil {
			setGap(a, gap, "requests")
			return
		}
		set(NeverSent, "", "%s's interface %s is logged in the window but recorded nothing from %s, which has no logged interface: the client never sent, or its traffic was dropped before it reached the VPC.",
			q.Dst, names(f.dst), q.Src)
	default:
		set(NoCoverage, "", "No interface of %s or %s is in the lake between %s and %s: no flow log covers them, or they were idle.",
			q.Src, q.Dst, a.Window.Since.Format(time.RFC3339), a.Window.Until.Format(time.RFC3339))
	}
}

func orUnknown(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func setGap(a *Answer, it *Interface, what string) {
	a.Verdict, a.Likely = LogGap, ""
	a.Summary = fmt.Sprintf("%s (%s) skipped records (SKIPDATA, %d) between %s and %s, when the %s would have been recorded: the records that decide may be the ones skipped, so the answer is inconclusive.",
		it.ID, it.Addr, it.SkipData, it.SkipFirst.Format(time.RFC3339), it.SkipLast.Format(time.RFC3339), what)
}

// askNeighbours returns what to ask of a blocked request's subnet, or
// nil when there is nothing to ask.
func (f *facts) askNeighbours(a *Answer, q Question) *Neighbours {
	var g *group
	inbound := false
	switch a.Verdict {
	case BlockedInbound:
		g, inbound = &f.reqIn, true
	case BlockedOutbound:
		g = &f.reqOut
	default:
		return nil
	}
	sub := g.rejectingSubnet()
	if sub == "" {
		return nil
	}
	ex := append(f.ids(f.src), f.ids(f.dst)...)
	for _, e := range a.Evidence {
		if !contains(ex, e.Interface) {
			ex = append(ex, e.Interface)
		}
	}
	f.asked = &Neighbours{Subnet: sub, Exclude: ex, Inbound: inbound}
	return f.asked
}

// neighbours narrows a blocked request's likely cause by what the other
// interfaces of its subnet did with the same source (inbound) or
// destination (outbound): rejected there too, the subnet's network ACL;
// accepted on the same port and protocol there, the network ACL allows it
// and the interface's security groups are left.
func (f *facts) neighbours(a *Answer, n Neighbours, rows []detect.Row) {
	for _, r := range rows {
		id := r["interface_id"]
		switch {
		case r["action"] == "REJECT" && !contains(f.neighbourRejected, id):
			f.neighbourRejected = append(f.neighbourRejected, id)
		case r["action"] == "ACCEPT" && num(r, "same_port") > 0 && !contains(f.neighbourAccepted, id):
			f.neighbourAccepted = append(f.neighbourAccepted, id)
		}
	}
	what := "from " + a.Src
	if !n.Inbound {
		what = "to " + a.Dst
	}
	switch {
	case len(f.neighbourRejected) > 0:
		a.Likely = LikelyNetworkACL
		a.Summary += fmt.Sprintf(" Traffic %s was also rejected at %d other interface(s) of %s (%s): most likely that subnet's network ACL.",
			what, len(f.neighbourRejected), n.Subnet, strings.Join(f.neighbourRejected, ", "))
	case len(f.neighbourAccepted) > 0:
		a.Likely = LikelySecurityGroup
		a.Summary += fmt.Sprintf(" %s accepted the same traffic %s on the same port, so %s's network ACL allows it: most likely the interface's security groups.",
			strings.Join(f.neighbourAccepted, ", "), what, n.Subnet)
	}
}

// addrIsPublic reports whether a is an internet address (not private,
// shared, link-local, loopback or multicast).
func addrIsPublic(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !netip.MustParsePrefix("100.64.0.0/10").Contains(a)
}
