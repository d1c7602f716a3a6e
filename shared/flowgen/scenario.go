package flowgen

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// Scenario is a benign day of traffic, optionally with one attack (or all
// of them) injected, for proving detection rules: the benign day must raise
// nothing, and each attack must raise its rules.
type Scenario struct {
	Name string
	Doc  string
	// Expect lists the detection rule IDs the scenario must raise.
	Expect []string
	inject func(s *ScenarioGenerator, at int64) []flowlog.Record
}

// Scenarios lists the scenarios: "benign", one per detection rule, and
// "all".
var Scenarios = []Scenario{
	{Name: "benign", Doc: "a benign day: no attack"},
	{Name: "port-scan", Doc: "one of our instances probes 30 uncommon ports on another", Expect: []string{"port-scan"}, inject: injectPortScan},
	{Name: "host-sweep", Doc: "one of our instances sweeps 64 hosts on SMB (445)", Expect: []string{"host-sweep"}, inject: injectHostSweep},
	{Name: "ssh-brute-force", Doc: "an internet host makes 30 short SSH logins to a public instance, which accepts them",
		Expect: []string{"ssh-brute-force", "exposed-admin-port"}, inject: injectSSHBrute},
	{Name: "rdp-brute-force", Doc: "one of our instances makes 25 short RDP logins to another", Expect: []string{"rdp-brute-force"}, inject: injectRDPBrute},
	{Name: "exposed-admin-port", Doc: "an internet host holds SSH sessions to an instance", Expect: []string{"exposed-admin-port"}, inject: injectExposedAdmin},
	{Name: "exposed-database-port", Doc: "an internet host reaches PostgreSQL on an instance", Expect: []string{"exposed-database-port"}, inject: injectExposedDB},
	{Name: "large-egress", Doc: "an instance sends 12 flows of 550 MB to an internet host within the hour", Expect: []string{"large-egress"}, inject: injectLargeEgress},
	{Name: "crypto-mining-port", Doc: "an instance talks Stratum to a mining pool on port 3333 for half an hour", Expect: []string{"crypto-mining-port"}, inject: injectMining},
	{Name: "log-gap", Doc: "AWS skips three intervals of one interface (SKIPDATA)", Expect: []string{"log-gap"}, inject: injectLogGap},
	{Name: "dns-resolver-bypass", Doc: "an instance resolves through a public resolver over udp 53 and DNS over TLS", Expect: []string{"dns-resolver-bypass"}, inject: injectDNSBypass},
	{Name: "outbound-dos", Doc: "an instance floods one internet host with 20,000 UDP packets/s for ten minutes", Expect: []string{"outbound-dos"}, inject: injectOutboundDoS},
	{Name: "spam-bot", Doc: "an instance opens SMTP connections to 15 internet mail hosts within the hour", Expect: []string{"spam-bot"}, inject: injectSpamBot},
	{Name: "threat-list-match", Doc: "an instance talks to a Tor exit on the demo threat list (DemoThreatList) on port 9001 for 40 minutes",
		Expect: []string{"threat-list-match"}, inject: injectThreatList},
	{Name: "all", Doc: "every attack above, an hour apart"},
}

// LookupScenario returns the scenario with the given name.
func LookupScenario(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// EstateIPv6Prefix holds every IPv6 address of a generated estate: the
// VPCs' block, globally routable as in AWS. Detection must be told it is
// ours (detect.Config.InternalPrefixes, flowlake detect --internal).
var EstateIPv6Prefix = netip.MustParsePrefix("2600:1f18:1234::/48")

// ScenarioGenerator produces a scenario's records in end-time order: the
// benign background of a Generator made quiet (see Next), merged with the
// injected attack.
type ScenarioGenerator struct {
	g      *Generator
	rng    *rand.Rand
	inject []flowlog.Record
	left   int // benign records still to produce
	peek   *flowlog.Record
	set    flowlog.FieldSet
}

// NewScenario returns the generator of the named scenario over cfg (a day
// is the usual Span). The attacks start at 09:00 after cfg.Start (a later
// one an hour apart each, for "all"), or in the middle of a shorter span.
func NewScenario(cfg Config, name string) (*ScenarioGenerator, error) {
	sc, ok := LookupScenario(name)
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q", name)
	}
	g := NewGenerator(cfg)
	cfg = g.cfg
	s := &ScenarioGenerator{g: g, rng: rand.New(rand.NewPCG(cfg.Seed, 0xa77ac4)), left: cfg.Records}
	for _, f := range []flowlog.Field{
		flowlog.FieldVersion, flowlog.FieldAccountID, flowlog.FieldInterfaceID, flowlog.FieldStart,
		flowlog.FieldEnd, flowlog.FieldLogStatus, flowlog.FieldVPCID, flowlog.FieldSubnetID,
		flowlog.FieldRegion, flowlog.FieldAZID, flowlog.FieldInstanceID,
	} {
		s.set = s.set.With(f)
	}
	at := cfg.Start.Add(9 * time.Hour)
	if cfg.Span < 10*time.Hour {
		at = cfg.Start.Add(cfg.Span / 2).Truncate(time.Hour)
	}
	var injects []Scenario
	switch {
	case name == "all":
		for _, o := range Scenarios {
			if o.inject != nil {
				injects = append(injects, o)
			}
		}
	case sc.inject != nil:
		injects = []Scenario{sc}
	}
	for i, o := range injects {
		t := at.Add(time.Duration(i) * time.Hour)
		if i > 0 && t.After(cfg.Start.Add(cfg.Span-time.Hour)) {
			t = at // a short span: overlap them rather than fall outside
		}
		s.inject = append(s.inject, o.inject(s, t.Unix())...)
	}
	sort.SliceStable(s.inject, func(i, j int) bool { return s.inject[i].End < s.inject[j].End })
	return s, nil
}

// Estate returns the interfaces the scenario draws from.
func (s *ScenarioGenerator) Estate() *Estate { return s.g.estate }

// Len returns the number of records the scenario produces.
func (s *ScenarioGenerator) Len() int { return s.g.cfg.Records + len(s.inject) }

// Next returns the next record, or false at the end.
//
// The background is the Generator's corpus made quiet, so that a benign day
// raises no finding: probes from the internet come from many addresses (a
// few each, as internet background noise does) instead of five, and those
// the security groups accept go to the web ports; the odd multi-gigabyte
// transfer is capped at 28 MB; and SKIPDATA intervals become NODATA. The
// default corpus (Write) is unchanged.
func (s *ScenarioGenerator) Next() (flowlog.Record, bool) {
	if s.peek == nil && s.left > 0 {
		r := s.quiet(s.g.Next())
		s.peek = &r
		s.left--
	}
	if len(s.inject) > 0 && (s.peek == nil || s.inject[0].End <= s.peek.End) {
		r := s.inject[0]
		s.inject = s.inject[1:]
		return r, true
	}
	if s.peek == nil {
		return flowlog.Record{}, false
	}
	r := *s.peek
	s.peek = nil
	return r, true
}

func (s *ScenarioGenerator) quiet(r flowlog.Record) flowlog.Record {
	if r.LogStatus == flowlog.LogStatusSkipData {
		r.LogStatus = flowlog.LogStatusNoData
		return r
	}
	if r.LogStatus != flowlog.LogStatusOK {
		return r
	}
	if r.Bytes > 100<<20 {
		r.Packets = 20000
		r.Bytes = r.Packets * 1400
	}
	if r.FlowDirection == "ingress" && slices.Contains(publicClients, r.SrcAddr) {
		if r.SrcAddr.Is4() {
			r.SrcAddr = netip.AddrFrom4([4]byte{45, byte(128 + s.rng.IntN(64)), byte(s.rng.IntN(256)), byte(1 + s.rng.IntN(254))})
		} else {
			var b [16]byte
			copy(b[:], []byte{0x2a, 0x05, 0xd0, 0x14})
			for i := 8; i < 16; i++ {
				b[i] = byte(s.rng.IntN(256))
			}
			r.SrcAddr = netip.AddrFrom16(b)
		}
		r.PktSrcAddr = r.SrcAddr
		if r.Action == flowlog.ActionAccept && r.Protocol != 1 && r.Protocol != 58 {
			r.DstPort = []uint16{443, 443, 80}[s.rng.IntN(3)]
		}
	}
	return r
}

// flow builds an OK record logged by e.
func (s *ScenarioGenerator) flow(e *ENI, src, dst netip.Addr, sport, dport uint16, packets, bytes, start int64, accept bool, dir string) flowlog.Record {
	r := flowlog.Record{
		Version: s.g.version, AccountID: e.AccountID, InterfaceID: e.ID, VPCID: e.VPCID, SubnetID: e.SubnetID,
		InstanceID: e.InstanceID, Region: s.g.cfg.Region, AZID: e.AZID, LogStatus: flowlog.LogStatusOK,
		SrcAddr: src, DstAddr: dst, PktSrcAddr: src, PktDstAddr: dst, SrcPort: sport, DstPort: dport, Protocol: 6,
		Packets: packets, Bytes: bytes, Start: start, End: start + 20 + s.rng.Int64N(30),
		Action: flowlog.ActionReject, TCPFlags: 2, Type: "IPv4", FlowDirection: dir,
	}
	if accept {
		r.Action, r.TCPFlags = flowlog.ActionAccept, 19
	}
	set := s.set
	if e.InstanceID == "" {
		set = set.Without(flowlog.FieldInstanceID)
	}
	for _, f := range []flowlog.Field{
		flowlog.FieldSrcAddr, flowlog.FieldDstAddr, flowlog.FieldSrcPort, flowlog.FieldDstPort,
		flowlog.FieldProtocol, flowlog.FieldPackets, flowlog.FieldBytes, flowlog.FieldAction,
		flowlog.FieldTCPFlags, flowlog.FieldType, flowlog.FieldPktSrcAddr, flowlog.FieldPktDstAddr,
		flowlog.FieldFlowDirection,
	} {
		set = set.With(f)
	}
	if dir == "egress" {
		r.TrafficPath = 1
		if !dst.IsPrivate() {
			r.TrafficPath = 8
		}
		set = set.With(flowlog.FieldTrafficPath)
	}
	r.Set = set
	return r
}

func (s *ScenarioGenerator) eni(i int) *ENI { return &s.g.estate.ENIs[i%len(s.g.estate.ENIs)] }

func (s *ScenarioGenerator) ephemeral() uint16 { return uint16(32768 + s.rng.IntN(28000)) }

var (
	scanner      = netip.MustParseAddr("45.155.205.10")
	visitor      = netip.MustParseAddr("81.2.69.160")
	miningPool   = netip.MustParseAddr("45.9.148.108")
	exfilHost    = netip.MustParseAddr("151.101.1.69")
	publicDNS    = netip.MustParseAddr("8.8.8.8")
	floodTarget  = netip.MustParseAddr("198.51.100.80")
	commonPortsG = []uint16{20, 21, 22, 23, 25, 53, 80, 110, 123, 143, 443, 465, 587, 993, 995, 3389, 8080, 8443}
)

func injectPortScan(s *ScenarioGenerator, at int64) []flowlog.Record {
	a, t := s.eni(0), s.eni(2)
	var out []flowlog.Record
	seen := map[uint16]bool{}
	for i := 0; len(out) < 30; i++ {
		p := uint16(1024 + s.rng.IntN(30000))
		if seen[p] || slices.Contains(commonPortsG, p) {
			continue
		}
		seen[p] = true
		out = append(out, s.flow(a, a.Addr, t.Addr, s.ephemeral(), p, 1, 44, at+30+int64(len(out))*5, false, "egress"))
	}
	return out
}

func injectHostSweep(s *ScenarioGenerator, at int64) []flowlog.Record {
	a := s.eni(0)
	var out []flowlog.Record
	for i := 0; i < 64; i++ {
		dst := netip.AddrFrom4([4]byte{10, a.Addr.As4()[1], byte(i / 32), byte(100 + i%32)})
		out = append(out, s.flow(a, a.Addr, dst, s.ephemeral(), 445, 2, 104, at+30+int64(i)*3, i%4 == 0, "egress"))
	}
	return out
}

func injectSSHBrute(s *ScenarioGenerator, at int64) []flowlog.Record {
	t := s.eni(1)
	var out []flowlog.Record
	for i := 0; i < 30; i++ {
		p := 10 + s.rng.Int64N(15)
		out = append(out, s.flow(t, scanner, t.Addr, uint16(40000+i*7), 22, p, p*90, at+30+int64(i)*15, true, "ingress"))
	}
	return out
}

func injectRDPBrute(s *ScenarioGenerator, at int64) []flowlog.Record {
	a, t := s.eni(0), s.eni(3)
	var out []flowlog.Record
	for i := 0; i < 25; i++ {
		p := 8 + s.rng.Int64N(12)
		out = append(out, s.flow(a, a.Addr, t.Addr, uint16(50000+i*3), 3389, p, p*120, at+30+int64(i)*18, true, "egress"))
	}
	return out
}

func injectExposedAdmin(s *ScenarioGenerator, at int64) []flowlog.Record {
	t := s.eni(1)
	var out []flowlog.Record
	for i := 0; i < 3; i++ {
		out = append(out, s.flow(t, visitor, t.Addr, s.ephemeral(), 22, 300, 300*200, at+60+int64(i)*600, true, "ingress"))
	}
	return out
}

func injectExposedDB(s *ScenarioGenerator, at int64) []flowlog.Record {
	t := s.eni(2)
	var out []flowlog.Record
	for i := 0; i < 2; i++ {
		out = append(out, s.flow(t, visitor, t.Addr, s.ephemeral(), 5432, 50, 50*300, at+120+int64(i)*900, true, "ingress"))
	}
	return out
}

func injectLargeEgress(s *ScenarioGenerator, at int64) []flowlog.Record {
	a := s.eni(3)
	var out []flowlog.Record
	for i := 0; i < 12; i++ {
		out = append(out, s.flow(a, a.Addr, exfilHost, s.ephemeral(), 443, 380_000, 550_000_000, at+60+int64(i)*240, true, "egress"))
	}
	return out
}

func injectMining(s *ScenarioGenerator, at int64) []flowlog.Record {
	a := s.eni(4)
	var out []flowlog.Record
	sport := s.ephemeral()
	for i := 0; i < 30; i++ {
		out = append(out, s.flow(a, a.Addr, miningPool, sport, 3333, 40, 40*180, at+int64(i)*60, true, "egress"))
	}
	return out
}

func injectLogGap(s *ScenarioGenerator, at int64) []flowlog.Record {
	e := s.eni(5)
	var out []flowlog.Record
	for i := 0; i < 3; i++ {
		set := s.set
		if e.InstanceID == "" {
			set = set.Without(flowlog.FieldInstanceID)
		}
		start := at + int64(i)*600
		out = append(out, flowlog.Record{
			Set: set, Version: s.g.version, AccountID: e.AccountID, InterfaceID: e.ID, VPCID: e.VPCID,
			SubnetID: e.SubnetID, InstanceID: e.InstanceID, Region: s.g.cfg.Region, AZID: e.AZID,
			Start: start, End: start + 59, LogStatus: flowlog.LogStatusSkipData,
		})
	}
	return out
}

func injectDNSBypass(s *ScenarioGenerator, at int64) []flowlog.Record {
	a := s.eni(6)
	var out []flowlog.Record
	for i := 0; i < 6; i++ {
		r := s.flow(a, a.Addr, publicDNS, s.ephemeral(), 53, 2, 150, at+30+int64(i)*300, true, "egress")
		r.Protocol, r.TCPFlags = 17, 0
		out = append(out, r)
	}
	return append(out, s.flow(a, a.Addr, publicDNS, s.ephemeral(), 853, 24, 24*120, at+120, true, "egress"))
}

func injectOutboundDoS(s *ScenarioGenerator, at int64) []flowlog.Record {
	a := s.eni(7)
	at -= at % 600 // one ten-minute window
	var out []flowlog.Record
	for i := 0; i < 10; i++ {
		r := s.flow(a, a.Addr, floodTarget, s.ephemeral(), 80, 1_200_000, 1_200_000*60, at+int64(i)*55, true, "egress")
		r.Protocol, r.TCPFlags = 17, 0
		r.End = r.Start + 59
		out = append(out, r)
	}
	return out
}

func injectSpamBot(s *ScenarioGenerator, at int64) []flowlog.Record {
	a := s.eni(8)
	var out []flowlog.Record
	for i := 0; i < 15; i++ {
		mx := netip.AddrFrom4([4]byte{203, 0, 113, byte(20 + i)})
		out = append(out, s.flow(a, a.Addr, mx, s.ephemeral(), 25, 30, 30*600, at+60+int64(i)*200, true, "egress"))
	}
	return out
}

// DemoThreatListName is the name of DemoThreatList, as detection and the
// lake cite it.
const DemoThreatListName = "demo-tor-exits"

// demoTorExit is on DemoThreatList; no benign peer is.
var demoTorExit = netip.MustParseAddr("192.0.2.66")

// DemoThreatList returns a small threat list in the threatlist format, for
// the threat-list-match scenario and the demo: made-up "Tor exit" entries
// in TEST-NET-1 (192.0.2.0/24, RFC 5737), which no benign flow of the
// generator reaches. It is made here, not copied from any list.
func DemoThreatList() string {
	return "# flowgen demo threat list: made-up Tor exit nodes in TEST-NET-1 (RFC 5737)\n" +
		"address,label\n" +
		demoTorExit.String() + ",tor exit (demo)\n" +
		"192.0.2.128/25,tor relays (demo)\n"
}

func injectThreatList(s *ScenarioGenerator, at int64) []flowlog.Record {
	a := s.eni(9)
	var out []flowlog.Record
	sport := s.ephemeral()
	for i := 0; i < 20; i++ {
		t := at + 90 + int64(i)*120
		out = append(out, s.flow(a, a.Addr, demoTorExit, sport, 9001, 30, 30*600, t, true, "egress"),
			s.flow(a, demoTorExit, a.Addr, 9001, sport, 28, 28*900, t, true, "ingress")) // the relay's replies
	}
	return out
}

// WriteScenario writes the named scenario to w in cfg.Format, as Write
// writes a corpus (header and gzip as cfg says), and returns how many
// records it wrote.
func WriteScenario(w io.Writer, cfg Config, name string) (int, error) {
	s, err := NewScenario(cfg, name)
	if err != nil {
		return 0, err
	}
	return writeRecords(w, s.g.cfg, s.Next)
}

// BaselineDays is the history NewBaselineScenario writes before its day.
const BaselineDays = 14

// BaselineExpect are the rules the baseline scenario's day must raise.
var BaselineExpect = []string{"unusual-port", "traffic-volume-anomaly"}

// NewBaselineScenario returns the baseline rules' scenario over cfg:
// BaselineDays benign days before cfg.Start (the background made quiet,
// as every scenario's), cfg.Records records a day, then the day that
// starts at cfg.Start with two attacks at 09:00: one of our instances
// opens connections to an IRC port (tcp 6667) it never used, and another
// sends 1,000 MiB to the internet in the hour (ten flows of 100 MiB: no
// single large flow, and less than large-egress's 5 GiB) where its
// history holds a few MiB. The history is what the compactor rolls up
// for the baseline rules; compact the lake before detecting.
func NewBaselineScenario(cfg Config) (*ScenarioGenerator, error) {
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Records <= 0 {
		cfg.Records = 10000
	}
	day := cfg.Start
	cfg.Start = day.AddDate(0, 0, -BaselineDays)
	cfg.Span = time.Duration(BaselineDays+1) * 24 * time.Hour
	cfg.Records *= BaselineDays + 1
	s, err := NewScenario(cfg, "benign")
	if err != nil {
		return nil, err
	}
	s.AddBaselineAttacks(day.Add(9*time.Hour), 1, 2)
	return s, nil
}

// AddBaselineAttacks adds the baseline scenario's two attacks at at: the
// interface of index unusual (of the estate, modulo its size) opens three
// connections to an IRC port (tcp 6667) of an internet host, and the
// interface of index loud sends ten flows of 100 MiB (1,000 MiB) to the
// internet over the next hour. They raise BaselineExpect only over a lake
// that holds those interfaces' history (BaselineDays, compacted).
func (s *ScenarioGenerator) AddBaselineAttacks(at time.Time, unusual, loud int) {
	t := at.Unix()
	a := s.eni(unusual)
	for i := 0; i < 3; i++ {
		s.inject = append(s.inject, s.flow(a, a.Addr, scanner, s.ephemeral(), 6667, 30, 30*120, t+60+int64(i)*600, true, "egress"))
	}
	b := s.eni(loud)
	for i := 0; i < 10; i++ {
		s.inject = append(s.inject, s.flow(b, b.Addr, exfilHost, s.ephemeral(), 443, 75_000, 100<<20, t+120+int64(i)*300, true, "egress"))
	}
	sort.SliceStable(s.inject, func(i, j int) bool { return s.inject[i].End < s.inject[j].End })
}
