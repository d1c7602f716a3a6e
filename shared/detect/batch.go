package detect

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowlog"
)

// Batch is the batch engine: the ingest pipeline feeds it each batch of
// records (Observe) and asks what they prove (Findings). It runs every
// rule in Go over what it has observed, so it proves what a batch can: the
// exposed ports, a single large flow, log gaps, and scans, sweeps or brute
// force concentrated in the batch; windowed rules spread over many batches
// are the lake engine's job.
//
// A Batch is not safe for concurrent use. Observe costs one address
// classification per record and a few comparisons per rule; only the flows
// a rule selects are grouped.
type Batch struct {
	set    *Set
	groups map[groupKey]*group
	keys   []groupKey // in creation order, for deterministic output
	// hist, when not nil, is the history of what was observed, as the
	// compactor's rollups hold it, for the baseline rules (NewHistoryBatch).
	hist map[histKey]*history
}

type histKey struct{ account, eni string }

// history is one interface's rollups, as the lake engine's join returns
// them: the days it sent anything to the internet, bytes by day and hour,
// and the hours it used each (protocol, port) of a connection it opened.
type history struct {
	days  map[string]bool
	bytes map[string]int64    // "yyyy-MM-dd/HH"
	ports map[[2]int][]string // {protocol, port} → "yyyy-MM-dd/HH"
}

type groupKey struct {
	rule    int
	proto   int16
	account string
	window  int64
	src     netip.Addr
	dst     netip.Addr
	port    uint16
	eni     string
}

type group struct {
	agg     Agg
	samples []sample // the first MaxSampleFlows flows, as Findings formats them
	ports   set[uint16]
	hosts   set[netip.Addr]
	sources set[netip.Addr]
	conns   set[uint16]
	hasProt bool
}

// set is a set that holds its first element inline and makes a map only
// for a second: most groups (one source to one host, one flow) never
// need one, and a map per dimension per group was most of the batch
// engine's allocations.
type set[K comparable] struct {
	one K
	has bool
	m   map[K]struct{}
}

func (s *set[K]) add(k K) {
	switch {
	case !s.has:
		s.one, s.has = k, true
	case s.m != nil:
		s.m[k] = struct{}{}
	case k != s.one:
		s.m = map[K]struct{}{s.one: {}, k: {}}
	}
}

func (s *set[K]) len() int {
	switch {
	case s.m != nil:
		return len(s.m)
	case s.has:
		return 1
	}
	return 0
}

// all returns the elements, in no order.
func (s *set[K]) all() []K {
	if s.m == nil {
		if s.has {
			return []K{s.one}
		}
		return nil
	}
	out := make([]K, 0, len(s.m))
	for k := range s.m {
		out = append(out, k)
	}
	return out
}

// NewBatch compiles cfg and returns an empty batch engine.
func NewBatch(cfg Config) (*Batch, error) {
	s, err := Compile(cfg)
	if err != nil {
		return nil, err
	}
	return s.NewBatch(), nil
}

// NewBatch returns an empty batch engine for the set's rules.
func (s *Set) NewBatch() *Batch {
	return &Batch{set: s, groups: map[groupKey]*group{}}
}

// NewHistoryBatch returns a batch engine that also judges the baseline
// rules (those that read the lake's rollups), from the history in what it
// observes: every record adds to its interface's history as the
// compactor's rollup would. For tests and samples, which give a batch
// weeks of records; ingest's batches hold no history, and skip them.
func (s *Set) NewHistoryBatch() *Batch {
	b := s.NewBatch()
	b.hist = map[histKey]*history{}
	return b
}

// Reset forgets everything observed.
func (b *Batch) Reset() {
	clear(b.groups)
	b.keys = b.keys[:0]
	if b.hist != nil {
		clear(b.hist)
	}
}

// addHistory adds a record to its interface's history, as
// compact.RollupRow counts it: outbound to an address not ours.
func (b *Batch) addHistory(f *flow) {
	r := f.r
	if !r.Has(flowlog.FieldInterfaceID) || !f.outbound() || !f.dstExternal() {
		return
	}
	_, part := b.accounts(r)
	k := histKey{account: part, eni: r.InterfaceID}
	h := b.hist[k]
	if h == nil {
		h = &history{days: map[string]bool{}, bytes: map[string]int64{}, ports: map[[2]int][]string{}}
		b.hist[k] = h
	}
	t := time.Unix(r.Start, 0).UTC()
	hour := t.Format("2006-01-02/15")
	h.days[t.Format(time.DateOnly)] = true
	h.bytes[hour] += r.Bytes
	if (r.Protocol == 6 || r.Protocol == 17) && f.openedByUs() {
		p := [2]int{int(r.Protocol), int(r.DstPort)}
		if !slices.Contains(h.ports[p], hour) {
			h.ports[p] = append(h.ports[p], hour)
		}
	}
}

// historyOf fills a baseline group's history, as the lake engine's join
// does (rollupSQL).
func (b *Batch) historyOf(c *compiled, a *Agg) {
	h := b.hist[histKey{account: a.PartAccount, eni: a.Key[DimENI]}]
	if h == nil {
		return
	}
	for d := range h.days {
		a.HistDays = append(a.HistDays, d)
	}
	switch c.rule.Join {
	case JoinVolumeBaseline:
		hh := time.Unix(a.WindowStart, 0).UTC().Format("15")
		for k, v := range h.bytes {
			if day, hour, _ := strings.Cut(k, "/"); hour == hh {
				a.HistValues = append(a.HistValues, day+"="+strconv.FormatInt(v, 10))
			}
		}
	case JoinPortHistory:
		proto, _ := strconv.Atoi(a.Key[DimProtocol])
		port, _ := strconv.Atoi(a.Key[DimDstPort])
		a.HistValues = append(a.HistValues, h.ports[[2]int{proto, port}]...)
	}
}

// Observe adds records to the batch. enr, when not nil, holds their
// enrichment (enr[i] for recs[i]): its address classes and direction are
// used where set.
func (b *Batch) Observe(recs []flowlog.Record, enr []enrich.Fields) {
	if len(enr) != len(recs) {
		enr = nil
	}
	var f flow
	for i := range recs {
		r := &recs[i]
		if !r.Has(flowlog.FieldStart) {
			continue
		}
		f = flow{r: r}
		var srcClass, dstClass enrich.IPClass
		var srcKnown, dstKnown bool
		if enr != nil {
			e := &enr[i]
			srcClass, srcKnown = e.SrcIPClass, e.Has(enrich.ColSrcIPClass)
			dstClass, dstKnown = e.DstIPClass, e.Has(enrich.ColDstIPClass)
			if e.Has(enrich.ColDirection) {
				f.dir = e.Direction.String()
			}
		}
		if r.Has(flowlog.FieldSrcAddr) {
			f.srcOK, f.srcInternal = b.set.cls.classOf(r.SrcAddr, srcClass, srcKnown)
		}
		if r.Has(flowlog.FieldDstAddr) {
			f.dstOK, f.dstInternal = b.set.cls.classOf(r.DstAddr, dstClass, dstKnown)
		}
		if r.Has(flowlog.FieldFlowDirection) {
			f.dir = r.FlowDirection
		}
		if b.hist != nil {
			b.addHistory(&f)
		}
	rules:
		for ri := range b.set.rules {
			c := &b.set.rules[ri]
			if c.rule.Join.ReadsRollups() && b.hist == nil {
				continue // history is the lake engine's
			}
			for _, cond := range c.rule.When {
				if !cond.match(&c.env, &f) {
					continue rules
				}
			}
			b.add(ri, c, &f)
		}
	}
}

func (b *Batch) add(ri int, c *compiled, f *flow) {
	r := f.r
	account, part := b.accounts(r)
	w := int64(c.s.Window / time.Second)
	k := groupKey{rule: ri, account: account, window: r.Start - r.Start%w}
	for _, d := range c.rule.Entity {
		switch d {
		case DimSrc:
			k.src = r.SrcAddr
		case DimDst:
			k.dst = r.DstAddr
		case DimDstPort:
			k.port = r.DstPort
		case DimENI:
			k.eni = r.InterfaceID
		case DimProtocol:
			k.proto = int16(r.Protocol)
		}
	}
	g := b.groups[k]
	if g == nil {
		g = &group{}
		g.agg.Account = account
		g.agg.WindowStart = k.window
		g.agg.FirstSeen = r.Start
		g.agg.PartAccount = part
		g.agg.List, g.agg.Label = f.list, f.label // one peer a group: PeerListed's match
		g.agg.PartRegion = b.set.cfg.Region
		if g.agg.PartRegion == "" && r.Has(flowlog.FieldRegion) {
			g.agg.PartRegion = r.Region
		}
		b.groups[k] = g
		b.keys = append(b.keys, k)
	}
	a := &g.agg
	a.Flows++
	if r.Has(flowlog.FieldAction) && r.Action == flowlog.ActionAccept {
		a.Accepted++
	}
	if r.Has(flowlog.FieldBytes) {
		a.Bytes += r.Bytes
		a.MaxBytes = max(a.MaxBytes, r.Bytes)
	}
	if r.Has(flowlog.FieldPackets) {
		a.Packets += r.Packets
	}
	if r.Has(flowlog.FieldInterfaceID) && (a.InterfaceID == "" || r.InterfaceID < a.InterfaceID) {
		a.InterfaceID = r.InterfaceID
	}
	if r.Has(flowlog.FieldProtocol) && (!g.hasProt || int(r.Protocol) < a.Protocol) {
		a.Protocol, g.hasProt = int(r.Protocol), true
	}
	if r.Has(flowlog.FieldDstPort) {
		g.ports.add(r.DstPort)
	}
	if r.Has(flowlog.FieldSrcPort) {
		g.conns.add(r.SrcPort)
	}
	if f.srcOK {
		g.sources.add(r.SrcAddr)
	}
	if f.dstOK {
		g.hosts.add(r.DstAddr)
	}
	a.FirstSeen = min(a.FirstSeen, r.Start)
	if r.Has(flowlog.FieldEnd) {
		a.LastSeen = max(a.LastSeen, r.End)
	}
	if len(g.samples) < finding.MaxSampleFlows {
		g.samples = append(g.samples, sampleOf(r))
	}
}

// accounts returns the account a record is grouped under (its own, else
// the configured one) and its lake partition's (the configured one, else
// its own), lakeUnknown for none.
func (b *Batch) accounts(r *flowlog.Record) (account, part string) {
	account = lakeUnknown
	if r.Has(flowlog.FieldAccountID) {
		account = r.AccountID
	} else if b.set.cfg.Account != "" {
		account = b.set.cfg.Account
	}
	part = b.set.cfg.Account
	if part == "" {
		part = account
	}
	return account, part
}

// lakeUnknown is the account of a record that has none, as the lake
// partitions it.
const lakeUnknown = "unknown"

// sample is a sample flow as observed: the fields of the record that
// finding.Flow shows, formatted only for a group that fires (most never
// do).
type sample struct {
	set              flowlog.FieldSet
	eni, dir         string
	start, end       int64
	packets, bytes   int64
	src, dst         netip.Addr
	srcPort, dstPort uint16
	protocol         uint8
	action           flowlog.Action
	logStatus        flowlog.LogStatus
}

func sampleOf(r *flowlog.Record) sample {
	return sample{
		set: r.Set, eni: r.InterfaceID, dir: r.FlowDirection, start: r.Start, end: r.End,
		packets: r.Packets, bytes: r.Bytes, src: r.SrcAddr, dst: r.DstAddr,
		srcPort: r.SrcPort, dstPort: r.DstPort, protocol: r.Protocol, action: r.Action, logStatus: r.LogStatus,
	}
}

// flow is the sample as a finding shows it.
func (p *sample) flow() finding.Flow {
	s := finding.Flow{
		InterfaceID: p.eni,
		Start:       time.Unix(p.start, 0).UTC(),
		End:         time.Unix(p.end, 0).UTC(),
		SrcPort:     int(p.srcPort), DstPort: int(p.dstPort), Protocol: int(p.protocol),
		Packets: p.packets, Bytes: p.bytes,
	}
	if p.set.Has(flowlog.FieldSrcAddr) {
		s.SrcAddr = p.src.String()
	}
	if p.set.Has(flowlog.FieldDstAddr) {
		s.DstAddr = p.dst.String()
	}
	if p.set.Has(flowlog.FieldAction) {
		s.Action = p.action.String()
	}
	if p.set.Has(flowlog.FieldLogStatus) {
		s.LogStatus = p.logStatus.String()
	}
	if p.set.Has(flowlog.FieldFlowDirection) {
		s.FlowDirection = p.dir
	}
	return s
}

// minAddr returns the least address of a set by its text, as SQL's min()
// over the text column orders them.
func minAddr(s *set[netip.Addr]) string {
	best := ""
	for _, a := range s.all() {
		if s := a.String(); best == "" || s < best {
			best = s
		}
	}
	return best
}

// Findings returns the findings of everything observed so far: every
// group that reaches its rule's thresholds, ordered by window, rule and
// ID. Calling it again after more Observe calls returns the groups again,
// with their counts grown; dedup keeps that to one notification.
func (b *Batch) Findings() []finding.Finding {
	var out []finding.Finding
	for _, k := range b.keys {
		g := b.groups[k]
		c := &b.set.rules[k.rule]
		a := g.agg // a copy: the batch may go on
		a.Ports, a.Hosts = int64(g.ports.len()), int64(g.hosts.len())
		a.Sources, a.Conns = int64(g.sources.len()), int64(g.conns.len())
		if c.rule.Join.ReadsRollups() {
			if c.rule.Measure.of(&c.s, &a) < c.s.Threshold {
				continue // judged against its history below
			}
		} else if !c.rule.fires(&c.s, &a) {
			continue
		}
		a.Key = map[Dim]string{}
		for _, d := range c.rule.Entity {
			switch d {
			case DimSrc:
				a.Key[d] = k.src.String()
			case DimDst:
				a.Key[d] = k.dst.String()
			case DimDstPort:
				a.Key[d] = strconv.Itoa(int(k.port))
			case DimENI:
				a.Key[d] = k.eni
			case DimProtocol:
				a.Key[d] = strconv.Itoa(int(k.proto))
			}
		}
		if c.rule.Join.ReadsRollups() {
			b.historyOf(c, &a)
			if !c.rule.fires(&c.s, &a) {
				continue
			}
		}
		a.Src, a.Dst = minAddr(&g.sources), minAddr(&g.hosts)
		a.PortList = make([]int, 0, g.ports.len())
		for _, p := range g.ports.all() {
			a.PortList = append(a.PortList, int(p))
		}
		a.Samples = nil
		for i := range g.samples {
			a.Samples = append(a.Samples, g.samples[i].flow())
		}
		slices.SortStableFunc(a.Samples, func(x, y finding.Flow) int { return x.Start.Compare(y.Start) })
		out = append(out, b.set.build(c, &a, finding.EngineBatch))
	}
	sortFindings(out)
	return out
}
