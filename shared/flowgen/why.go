package flowgen

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"time"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// WhyScenario is a connection with a known answer, for `flowlake why`: a
// quiet day of background traffic (the benign scenario's) with the
// records of one pair of addresses injected, logged as AWS logs them by
// the interfaces in the path. The pair is the estate's first interface
// (SRC) and its second, in another subnet (DST), unless the scenario says
// otherwise; the background's own records between the two are left out,
// so that the injected ones are the pair's only records.
type WhyScenario struct {
	Name string
	Doc  string
	// Verdict is the answer with a format that has every field the
	// scenario writes (the rich format, plus Fields); Likely its likely
	// cause, if any.
	Verdict, Likely string
	// DefaultVerdict is the answer with the v2 default format, when it
	// differs (reject-reason is not in it).
	DefaultVerdict string
	// Fields are the fields the scenario needs beyond the rich format.
	Fields []flowlog.Field
	inject func(s *ScenarioGenerator, w *WhyQuestion, at int64) []flowlog.Record
	pair   func(s *ScenarioGenerator) WhyQuestion
}

// WhyQuestion is a scenario's pair.
type WhyQuestion struct {
	Src, Dst netip.Addr
	Port     uint16
	Protocol uint8
	// VPCCIDR is the block of the estate's VPC of Src (10.<account>.0.0/16).
	VPCCIDR netip.Prefix
}

// The why scenarios' fixed peers: an internet client, an address no
// interface of the estate has in either subnet, and the instance metadata
// service.
var (
	whyInternetClient = netip.MustParseAddr("94.130.10.20")
	whyUnused         = [2]netip.Addr{netip.MustParseAddr("10.99.0.10"), netip.MustParseAddr("10.99.1.20")}
	whyIMDS           = netip.MustParseAddr("169.254.169.254")
)

// WhyScenarios lists one scenario for each verdict of `flowlake why`, and
// two more blocked-inbound ones whose likely cause the subnet's other
// interfaces narrow: the network ACL, and the security group.
var WhyScenarios = []WhyScenario{
	{Name: "connected", Doc: "eight PostgreSQL connections: SYN and SYN-ACK, accepted at both interfaces in both directions",
		Verdict: "connected", inject: whyConnected},
	{Name: "reset", Doc: "six attempts answered with RST: the port is closed",
		Verdict: "reset", inject: whyReset},
	{Name: "blocked-inbound", Doc: "the requests leave SRC accepted and are rejected entering DST",
		Verdict: "blocked-inbound", Likely: "either", inject: whyBlockedInbound},
	{Name: "blocked-inbound-nacl", Doc: "as blocked-inbound, and SRC is also rejected at another interface of DST's subnet",
		Verdict: "blocked-inbound", Likely: "network-acl", inject: whyBlockedInboundNACL},
	{Name: "blocked-inbound-sg", Doc: "as blocked-inbound, and another interface of DST's subnet accepts SRC on the same port",
		Verdict: "blocked-inbound", Likely: "security-group", inject: whyBlockedInboundSG},
	{Name: "blocked-outbound", Doc: "the requests are rejected leaving SRC",
		Verdict: "blocked-outbound", Likely: "either", inject: whyBlockedOutbound},
	{Name: "reply-blocked", Doc: "the requests are accepted at both interfaces; DST's SYN-ACK is rejected leaving it (its subnet's network ACL)",
		Verdict: "reply-blocked", Likely: "network-acl", inject: whyReplyBlocked},
	{Name: "unanswered", Doc: "the requests are accepted at both interfaces and nothing comes back",
		Verdict: "unanswered", inject: whyUnanswered},
	{Name: "lost-in-path", Doc: "the requests leave SRC accepted and DST's interface, busy with other traffic, never records them",
		Verdict: "lost-in-path", inject: whyLostInPath},
	{Name: "never-sent", Doc: "nothing: SRC's interface is busy with other traffic and never sends to DST",
		Verdict: "never-sent"},
	{Name: "blocked-by-bpa", Doc: "an internet client's requests are rejected entering DST with reject-reason BPA (VPC Block Public Access), bytes not logged",
		Verdict: "blocked-by-bpa", DefaultVerdict: "blocked-inbound", Fields: []flowlog.Field{flowlog.FieldRejectReason},
		inject: whyBPA, pair: func(s *ScenarioGenerator) WhyQuestion {
			return WhyQuestion{Src: whyInternetClient, Dst: s.eni(1).Addr, Port: 443, Protocol: 6}
		}},
	{Name: "not-logged", Doc: "SRC asks the instance metadata service (169.254.169.254), which flow logs never record",
		Verdict: "not-logged", pair: func(s *ScenarioGenerator) WhyQuestion {
			return WhyQuestion{Src: s.eni(0).Addr, Dst: whyIMDS, Port: 80, Protocol: 6}
		}},
	{Name: "log-gap", Doc: "the requests leave SRC accepted while DST's interface skips three intervals (SKIPDATA)",
		Verdict: "log-gap", inject: whyLogGap},
	{Name: "no-coverage", Doc: "two addresses no interface of the lake has",
		Verdict: "no-coverage", pair: func(s *ScenarioGenerator) WhyQuestion {
			return WhyQuestion{Src: whyUnused[0], Dst: whyUnused[1], Port: 443, Protocol: 6}
		}},
}

// LookupWhyScenario returns the why scenario with the given name.
func LookupWhyScenario(name string) (WhyScenario, bool) {
	for _, s := range WhyScenarios {
		if s.Name == name {
			return s, true
		}
	}
	return WhyScenario{}, false
}

// WhyGenerator produces a why scenario's records in end-time order.
type WhyGenerator struct {
	bg     *ScenarioGenerator
	q      WhyQuestion
	inject []flowlog.Record
	peek   *flowlog.Record
}

// NewWhyScenario returns the generator of the named why scenario over cfg
// (a day is the usual Span; at least five interfaces an account) and its
// question, over the benign scenario's background. The connection
// attempts start at 09:00 after cfg.Start, or in the middle of a shorter
// span. Interfaces of one account and zone share one subnet, as they
// would in a VPC.
func NewWhyScenario(cfg Config, name string) (*WhyGenerator, WhyQuestion, error) {
	return NewWhyScenarioOver(cfg, "benign", name, time.Time{})
}

// NewWhyScenarioOver is NewWhyScenario over the background of another
// scenario (the demo's is "all": every attack), with the attempts from at
// (zero: as NewWhyScenario places them).
func NewWhyScenarioOver(cfg Config, background, name string, at time.Time) (*WhyGenerator, WhyQuestion, error) {
	sc, ok := LookupWhyScenario(name)
	if !ok {
		return nil, WhyQuestion{}, fmt.Errorf("unknown why scenario %q", name)
	}
	bg, err := NewScenario(cfg, background)
	if err != nil {
		return nil, WhyQuestion{}, err
	}
	cfg = bg.g.cfg
	if cfg.ENIs < 5 {
		return nil, WhyQuestion{}, fmt.Errorf("why scenario %s: %d interfaces an account; want at least 5", name, cfg.ENIs)
	}
	subnets := map[[2]string]string{}
	for i := range bg.g.estate.ENIs {
		e := &bg.g.estate.ENIs[i]
		k := [2]string{e.AccountID, e.AZID}
		if s, ok := subnets[k]; ok {
			e.SubnetID = s
		} else {
			subnets[k] = e.SubnetID
		}
	}
	src := bg.eni(0)
	q := WhyQuestion{Src: src.Addr, Dst: bg.eni(1).Addr, Port: 5432, Protocol: 6}
	if sc.pair != nil {
		q = sc.pair(bg)
	}
	q.VPCCIDR = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, src.Addr.As4()[1], 0, 0}), 16)
	if at.IsZero() {
		at = cfg.Start.Add(9 * time.Hour)
		if cfg.Span < 10*time.Hour {
			at = cfg.Start.Add(cfg.Span / 2).Truncate(time.Hour)
		}
	}
	g := &WhyGenerator{bg: bg, q: q}
	if sc.inject != nil {
		g.inject = sc.inject(bg, &q, at.Unix())
	}
	sort.SliceStable(g.inject, func(i, j int) bool { return g.inject[i].End < g.inject[j].End })
	return g, q, nil
}

// Len returns how many records the scenario produces at most: the
// background's own records between the pair are left out as they come.
func (g *WhyGenerator) Len() int { return g.bg.Len() + len(g.inject) }

// Estate returns the interfaces the scenario draws from (subnets shared
// per account and zone).
func (g *WhyGenerator) Estate() *Estate { return g.bg.Estate() }

// Background returns the scenario the connection attempts are merged
// into, to add attacks to it (AddBaselineAttacks) before the first Next.
func (g *WhyGenerator) Background() *ScenarioGenerator { return g.bg }

// Question returns the scenario's pair.
func (g *WhyGenerator) Question() WhyQuestion { return g.q }

// pairs reports whether r is between the scenario's two addresses.
func (g *WhyGenerator) pairs(r *flowlog.Record) bool {
	a, b := r.SrcAddr, r.DstAddr
	return (a == g.q.Src && b == g.q.Dst) || (a == g.q.Dst && b == g.q.Src)
}

// Next returns the next record, or false at the end.
func (g *WhyGenerator) Next() (flowlog.Record, bool) {
	for g.peek == nil {
		r, ok := g.bg.Next()
		if !ok {
			break
		}
		if r.LogStatus == flowlog.LogStatusOK && g.pairs(&r) {
			continue
		}
		g.peek = &r
	}
	if len(g.inject) > 0 && (g.peek == nil || g.inject[0].End <= g.peek.End) {
		r := g.inject[0]
		g.inject = g.inject[1:]
		return r, true
	}
	if g.peek == nil {
		return flowlog.Record{}, false
	}
	r := *g.peek
	g.peek = nil
	return r, true
}

// WriteWhyScenario writes the named why scenario to w in cfg.Format, as
// Write writes a corpus, and returns its question and how many records it
// wrote.
func WriteWhyScenario(w io.Writer, cfg Config, name string) (WhyQuestion, int, error) {
	g, q, err := NewWhyScenario(cfg, name)
	if err != nil {
		return q, 0, err
	}
	n, err := writeRecords(w, g.bg.g.cfg, g.Next)
	return q, n, err
}

// whyAttempt is one connection attempt of the pair: what each interface
// in the path logs of the request (SRC to DST) and of the reply, by
// action.
type whyAttempt struct {
	s             *ScenarioGenerator
	q             *WhyQuestion
	sport         uint16
	start         int64
	srcENI        *ENI
	dstENI        *ENI
	reqPk, reqB   int64
	repPk, repB   int64
	reqF, repF    int32
	out, in       string // the request's action leaving SRC and entering DST: "A", "R" or "" (not logged)
	repOut, repIn string // the reply's, leaving DST and entering SRC
}

func (a *whyAttempt) records() []flowlog.Record {
	var out []flowlog.Record
	rec := func(e *ENI, reply bool, action, dir string) {
		if action == "" || e == nil {
			return
		}
		src, dst, sp, dp := a.q.Src, a.q.Dst, a.sport, a.q.Port
		pk, b, fl := a.reqPk, a.reqB, a.reqF
		if reply {
			src, dst, sp, dp = dst, src, dp, sp
			pk, b, fl = a.repPk, a.repB, a.repF
		}
		r := a.s.flow(e, src, dst, sp, dp, pk, b, a.start, action == "A", dir)
		r.TCPFlags = fl
		out = append(out, r)
	}
	rec(a.srcENI, false, a.out, "egress")
	rec(a.dstENI, false, a.in, "ingress")
	rec(a.dstENI, true, a.repOut, "egress")
	rec(a.srcENI, true, a.repIn, "ingress")
	return out
}

// attempts returns n attempts from the estate's first interface to its
// second, 90 s apart from at, shaped by set.
func attempts(s *ScenarioGenerator, q *WhyQuestion, at int64, n int, set func(a *whyAttempt)) []flowlog.Record {
	var out []flowlog.Record
	for i := 0; i < n; i++ {
		a := &whyAttempt{s: s, q: q, sport: uint16(40000 + i*11), start: at + 30 + int64(i)*90, srcENI: s.eni(0), dstENI: s.eni(1),
			reqPk: 3, reqB: 180, reqF: 2, repPk: 3, repB: 180, repF: 18}
		set(a)
		out = append(out, a.records()...)
	}
	return out
}

func whyConnected(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	return attempts(s, q, at, 8, func(a *whyAttempt) {
		a.reqPk, a.reqB, a.reqF = 14, 2100, 3  // SYN, data, FIN
		a.repPk, a.repB, a.repF = 12, 5400, 19 // SYN-ACK, data, FIN
		a.out, a.in, a.repOut, a.repIn = "A", "A", "A", "A"
	})
}

func whyReset(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	return attempts(s, q, at, 6, func(a *whyAttempt) {
		a.reqPk, a.reqB, a.reqF = 1, 60, 2 // SYN
		a.repPk, a.repB, a.repF = 1, 40, 4 // RST (with ACK, which is not logged)
		a.out, a.in, a.repOut, a.repIn = "A", "A", "A", "A"
	})
}

func whyBlockedInbound(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	return attempts(s, q, at, 6, func(a *whyAttempt) { a.out, a.in = "A", "R" })
}

func whyBlockedInboundNACL(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	out := whyBlockedInbound(s, q, at)
	mate := s.eni(4) // the same subnet as DST (same account and zone)
	for i := 0; i < 4; i++ {
		out = append(out, s.flow(mate, q.Src, mate.Addr, uint16(41000+i*7), 22, 2, 120, at+60+int64(i)*120, false, "ingress"))
	}
	return out
}

func whyBlockedInboundSG(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	out := whyBlockedInbound(s, q, at)
	mate := s.eni(4) // the same subnet as DST (same account and zone)
	for i := 0; i < 4; i++ {
		r := s.flow(mate, q.Src, mate.Addr, uint16(42000+i*7), q.Port, 14, 2100, at+60+int64(i)*120, true, "ingress")
		r.TCPFlags = 3
		out = append(out, r)
	}
	return out
}

func whyBlockedOutbound(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	return attempts(s, q, at, 6, func(a *whyAttempt) { a.out = "R" })
}

func whyReplyBlocked(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	return attempts(s, q, at, 6, func(a *whyAttempt) { a.out, a.in, a.repOut = "A", "A", "R" })
}

func whyUnanswered(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	return attempts(s, q, at, 6, func(a *whyAttempt) { a.out, a.in = "A", "A" })
}

func whyLostInPath(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	return attempts(s, q, at, 6, func(a *whyAttempt) { a.out = "A" })
}

func whyBPA(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	e := s.eni(1)
	var out []flowlog.Record
	for i := 0; i < 6; i++ {
		r := s.flow(e, q.Src, q.Dst, uint16(50000+i*13), q.Port, 3, 0, at+30+int64(i)*90, false, "ingress")
		r.RejectReason = "BPA"
		r.Set = r.Set.With(flowlog.FieldRejectReason).Without(flowlog.FieldBytes) // BPA's records carry no bytes
		out = append(out, r)
	}
	return out
}

func whyLogGap(s *ScenarioGenerator, q *WhyQuestion, at int64) []flowlog.Record {
	out := whyLostInPath(s, q, at)
	e := s.eni(1)
	set := s.set
	if e.InstanceID == "" {
		set = set.Without(flowlog.FieldInstanceID)
	}
	for i := 0; i < 3; i++ {
		start := at + int64(i)*300
		out = append(out, flowlog.Record{
			Set: set, Version: s.g.version, AccountID: e.AccountID, InterfaceID: e.ID, VPCID: e.VPCID,
			SubnetID: e.SubnetID, InstanceID: e.InstanceID, Region: s.g.cfg.Region, AZID: e.AZID,
			Start: start, End: start + 299, LogStatus: flowlog.LogStatusSkipData,
		})
	}
	return out
}
