package flowgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// Config says what to generate. The zero value of each field has a default.
type Config struct {
	Seed     uint64          // same seed, same corpus
	Records  int             // number of records
	Format   *flowlog.Format // nil: the default v2 format
	Header   bool            // write the S3 header line first
	Gzip     bool            // gzip the output
	Start    time.Time       // zero: 2026-11-24T00:00:00Z
	Span     time.Duration   // records' end times spread over [Start, Start+Span); 0: 1h
	Accounts int             // 0: 3
	ENIs     int             // per account; 0: 8
	Region   string          // "": us-east-1
}

// DefaultStart is the first interval of a generated corpus when Config.Start
// is zero.
var DefaultStart = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// RichFormat returns flowlog.RichFormat parsed: every v2–v5 field, in an
// order different from the default one (the order of AWS's v5 example).
func RichFormat() *flowlog.Format {
	return flowlog.MustParseFormat(flowlog.RichFormat)
}

// RichFormatString is the format string of RichFormat, flowlog.RichFormat.
const RichFormatString = flowlog.RichFormat

// V11Format returns flowlog.V11Format parsed: the rich format and the
// version-11 fields that need no tag keys (interface-type, the next hop).
func V11Format() *flowlog.Format {
	return flowlog.MustParseFormat(flowlog.V11Format)
}

// ENI is a network interface of the generated estate.
type ENI struct {
	AccountID  string
	ID         string
	VPCID      string
	SubnetID   string
	InstanceID string // "" for requester-managed interfaces
	AZID       string
	Addr       netip.Addr // primary private IPv4
	Addr6      netip.Addr // IPv6 address
}

// Estate is the set of accounts and interfaces a corpus is drawn from.
type Estate struct {
	Region string
	ENIs   []ENI
}

// NewEstate builds accounts*enis interfaces deterministically from seed.
func NewEstate(seed uint64, accounts, enis int, region string) *Estate {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	e := &Estate{Region: region}
	for a := 0; a < accounts; a++ {
		acct := fmt.Sprintf("%012d", 100000000000+rng.Int64N(899999999999))
		vpc := hexID("vpc-", rng)
		for i := 0; i < enis; i++ {
			az := i % 3
			eni := ENI{
				AccountID: acct,
				ID:        hexID("eni-", rng),
				VPCID:     vpc,
				SubnetID:  fmt.Sprintf("subnet-%017x", uint64(a*16+az)<<40|rng.Uint64()&0xffffffffff),
				AZID:      fmt.Sprintf("%s-az%d", azPrefix(region), az+1),
				Addr:      netip.AddrFrom4([4]byte{10, byte(a), byte(az), byte(10 + i)}),
				Addr6:     netip.AddrFrom16([16]byte{0x26, 0x00, 0x1f, 0x18, 0x12, 0x34, byte(a), byte(az), 0, 0, 0, 0, 0, 0, 0, byte(10 + i)}),
			}
			if i%5 != 4 { // every fifth interface is requester-managed (a NAT gateway, say)
				eni.InstanceID = hexID("i-", rng)
			}
			e.ENIs = append(e.ENIs, eni)
		}
	}
	return e
}

// hexID returns prefix followed by 17 random hex digits, as AWS ids have.
func hexID(prefix string, rng *rand.Rand) string {
	return fmt.Sprintf("%s%x%016x", prefix, rng.IntN(16), rng.Uint64())
}

func azPrefix(region string) string {
	// us-east-1 → use1, eu-west-2 → euw2
	out := []byte{}
	parts := 0
	for i := 0; i < len(region); i++ {
		c := region[i]
		if i == 0 || region[i-1] == '-' {
			parts++
			if parts == 1 {
				out = append(out, c)
				if i+1 < len(region) {
					out = append(out, region[i+1])
				}
				continue
			}
			out = append(out, c)
		}
	}
	return string(out)
}

// Generator produces records one at a time.
type Generator struct {
	cfg     Config
	rng     *rand.Rand
	estate  *Estate
	n       int
	version int32 // the highest version among the format's fields
	v11     bool  // the format has a version-11 field
}

// NewGenerator returns a generator for cfg, with defaults filled in.
func NewGenerator(cfg Config) *Generator {
	if cfg.Format == nil {
		cfg.Format = flowlog.MustParseFormat(flowlog.DefaultFormat)
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Span <= 0 {
		cfg.Span = time.Hour
	}
	if cfg.Accounts <= 0 {
		cfg.Accounts = 3
	}
	if cfg.ENIs <= 0 {
		cfg.ENIs = 8
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	var version int32 = 2
	for _, f := range cfg.Format.Fields() {
		if v := int32(f.Version()); v > version && f.Version() != 6 {
			version = v
		}
	}
	return &Generator{
		version: version,
		v11:     version == 11,
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0xf10f)),
		estate:  NewEstate(cfg.Seed, cfg.Accounts, cfg.ENIs, cfg.Region),
	}
}

// Estate returns the interfaces the generator draws from.
func (g *Generator) Estate() *Estate { return g.estate }

// Config returns the configuration with defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Well-known public peers: a few internet hosts and AWS service ranges.
var (
	s3Addrs       = []netip.Addr{netip.MustParseAddr("52.216.100.21"), netip.MustParseAddr("3.5.10.200")}
	publicClients = []netip.Addr{
		netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("203.0.113.12"),
		netip.MustParseAddr("45.33.32.156"), netip.MustParseAddr("185.220.101.4"),
		netip.MustParseAddr("2001:db8:85a3::8a2e:370:7334"),
	}
	internetServers = []netip.Addr{
		netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("151.101.1.69"),
		netip.MustParseAddr("140.82.112.3"), netip.MustParseAddr("2606:4700::6810:85e5"),
	}
	servicePorts = []uint16{443, 443, 443, 80, 22, 5432, 3306, 6379, 8080, 53}
)

// Next returns the next record. Every field is filled; the format decides
// what is written.
func (g *Generator) Next() flowlog.Record {
	r := g.rng
	e := &g.estate.ENIs[r.IntN(len(g.estate.ENIs))]
	span := int64(g.cfg.Span / time.Second)
	end := g.cfg.Start.Unix() + int64(g.n)*span/int64(max(g.cfg.Records, 1)) + r.Int64N(5)
	if end >= g.cfg.Start.Unix()+span {
		end = g.cfg.Start.Unix() + span - 1
	}
	start := end - r.Int64N(60)
	g.n++

	rec := flowlog.Record{
		Version: g.version, AccountID: e.AccountID, InterfaceID: e.ID,
		VPCID: e.VPCID, SubnetID: e.SubnetID, InstanceID: e.InstanceID,
		Region: g.cfg.Region, AZID: e.AZID,
		Start: start, End: end,
	}
	var set flowlog.FieldSet
	for _, f := range []flowlog.Field{
		flowlog.FieldVersion, flowlog.FieldAccountID, flowlog.FieldInterfaceID, flowlog.FieldStart,
		flowlog.FieldEnd, flowlog.FieldLogStatus, flowlog.FieldVPCID, flowlog.FieldSubnetID,
		flowlog.FieldRegion, flowlog.FieldAZID,
	} {
		set = set.With(f)
	}
	if e.InstanceID != "" {
		set = set.With(flowlog.FieldInstanceID)
	}

	switch p := r.IntN(1000); {
	case p < 45:
		rec.LogStatus = flowlog.LogStatusNoData // no traffic in the interval
		if p >= 40 {
			rec.LogStatus = flowlog.LogStatusSkipData // records AWS could not capture
		}
		if g.v11 {
			set = g.fillV11(&rec, set, e, nil)
		}
		rec.Set = set
		return rec
	}
	rec.LogStatus = flowlog.LogStatusOK
	for _, f := range []flowlog.Field{
		flowlog.FieldSrcAddr, flowlog.FieldDstAddr, flowlog.FieldSrcPort, flowlog.FieldDstPort,
		flowlog.FieldProtocol, flowlog.FieldPackets, flowlog.FieldBytes, flowlog.FieldAction,
		flowlog.FieldTCPFlags, flowlog.FieldType, flowlog.FieldPktSrcAddr, flowlog.FieldPktDstAddr,
		flowlog.FieldFlowDirection,
	} {
		set = set.With(f)
	}

	v6 := r.IntN(100) < 15
	local := e.Addr
	if v6 {
		local = e.Addr6
	}
	ephemeral := uint16(32768 + r.IntN(28000))
	var peer netip.Addr
	var ingress bool
	var hop *ENI // the next hop of an egress record inside the VPC
	rec.Protocol = 6
	rec.Action = flowlog.ActionAccept
	switch k := r.IntN(100); {
	case k < 30: // egress to the internet over HTTPS/HTTP
		peer = pick(r, internetServers, v6)
		rec.SrcPort, rec.DstPort = ephemeral, []uint16{443, 443, 80}[r.IntN(3)]
		rec.TrafficPath = 8
	case k < 40: // egress to S3
		peer = s3Addrs[r.IntN(len(s3Addrs))]
		local = e.Addr
		rec.SrcPort, rec.DstPort = ephemeral, 443
		rec.PktDstAWSService = "S3"
		rec.TrafficPath = 7
	case k < 65: // east-west inside the VPC
		other := &g.estate.ENIs[r.IntN(len(g.estate.ENIs))]
		peer = other.Addr
		if v6 {
			peer = other.Addr6
		}
		port := servicePorts[r.IntN(len(servicePorts))]
		ingress = r.IntN(2) == 0
		if ingress {
			rec.SrcPort, rec.DstPort = ephemeral, port
		} else {
			rec.SrcPort, rec.DstPort = ephemeral, port
			rec.TrafficPath = 1
			if other.VPCID == e.VPCID { // else a peering connection: no next-hop interface
				hop = other
			}
		}
		if port == 53 {
			rec.Protocol = 17
		}
	case k < 85: // probes from the internet, mostly rejected
		peer = pick(r, publicClients, v6)
		ingress = true
		rec.SrcPort, rec.DstPort = ephemeral, uint16(1+r.IntN(10000))
		if r.IntN(10) < 8 {
			rec.Action = flowlog.ActionReject
		}
	case k < 93: // UDP
		peer = pick(r, internetServers, v6)
		rec.Protocol = 17
		rec.SrcPort, rec.DstPort = ephemeral, []uint16{123, 443, 500, 4500}[r.IntN(4)]
		rec.TrafficPath = 8
	default: // ICMP echo
		peer = pick(r, publicClients, v6)
		ingress = r.IntN(2) == 0
		if v6 {
			rec.Protocol = 58
		} else {
			rec.Protocol = 1
		}
		if !ingress {
			rec.TrafficPath = 8
		}
		if r.IntN(4) == 0 {
			rec.Action = flowlog.ActionReject
		}
	}
	if rec.Protocol == 1 || rec.Protocol == 58 {
		rec.SrcPort, rec.DstPort = 0, 0
	}
	if peer.Is4() != local.Is4() {
		peer = map[bool]netip.Addr{true: internetServers[0], false: internetServers[3]}[local.Is4()]
	}
	if ingress {
		rec.SrcAddr, rec.DstAddr = peer, local
		rec.FlowDirection = "ingress"
		rec.TrafficPath = 0
		if rec.PktDstAWSService != "" {
			rec.PktSrcAWSService, rec.PktDstAWSService = rec.PktDstAWSService, ""
		}
	} else {
		rec.SrcAddr, rec.DstAddr = local, peer
		rec.FlowDirection = "egress"
	}
	rec.PktSrcAddr, rec.PktDstAddr = rec.SrcAddr, rec.DstAddr
	if rec.SrcAddr.Is4() {
		rec.Type = "IPv4"
	} else {
		rec.Type = "IPv6"
	}
	if rec.TrafficPath != 0 {
		set = set.With(flowlog.FieldTrafficPath)
	}
	if rec.PktSrcAWSService != "" {
		set = set.With(flowlog.FieldPktSrcAWSService)
	}
	if rec.PktDstAWSService != "" {
		set = set.With(flowlog.FieldPktDstAWSService)
	}

	rec.Packets = 1 + r.Int64N(40)
	if rec.Action == flowlog.ActionReject {
		rec.Packets = 1 + r.Int64N(3)
	}
	rec.Bytes = rec.Packets * (40 + r.Int64N(1400))
	if (rec.DstPort == 22 || rec.DstPort == 3389) && rec.Action == flowlog.ActionAccept && (peer.IsPrivate() || EstateIPv6Prefix.Contains(peer)) {
		// An administrator's session inside the VPC lasts: dozens of
		// packets, never the handful of a failed login, however many of
		// them a busy day holds.
		per := rec.Bytes / rec.Packets
		rec.Packets += 60
		rec.Bytes = rec.Packets * per
	}
	if r.IntN(5000) == 0 { // the odd bulk transfer, past 2^32 bytes
		rec.Packets = 3_000_000 + r.Int64N(1_000_000)
		rec.Bytes = rec.Packets * 1500
	}
	switch {
	case rec.Protocol != 6:
		rec.TCPFlags = 0
	case rec.Action == flowlog.ActionReject:
		rec.TCPFlags = 2 // SYN
	case ingress:
		rec.TCPFlags = []int32{2, 3, 18, 19}[r.IntN(4)]
	default:
		rec.TCPFlags = []int32{3, 19, 18}[r.IntN(3)]
	}
	if g.v11 {
		set = g.fillV11(&rec, set, e, hop)
	}
	rec.Set = set
	return rec
}

// Version-11 values of the generated estate: each interface's type, and
// the values of one instance tag and one interface tag, by the interface's
// place in the estate; they draw nothing from the generator's source, so a
// corpus in any other format is the same with or without them.
var (
	instanceTags  = []string{"payments", "search", "platform"}
	interfaceTags = []string{"web", "db", "batch", "edge"}
)

func interfaceType(e *ENI) string {
	if e.InstanceID == "" {
		return "nat_gateway" // the estate's requester-managed interfaces
	}
	return "interface"
}

// fillV11 sets the version-11 fields of rec, recorded by e, whose next hop
// is hop (nil: none with an interface, such as an internet gateway), and
// returns set with them.
func (g *Generator) fillV11(rec *flowlog.Record, set flowlog.FieldSet, e, hop *ENI) flowlog.FieldSet {
	k := int(e.Addr.As4()[3]) + int(e.Addr.As4()[1])
	rec.InterfaceType = interfaceType(e)
	set = set.With(flowlog.FieldInterfaceType)
	if e.InstanceID != "" {
		rec.InstanceTag = instanceTags[k%len(instanceTags)]
		set = set.With(flowlog.FieldInstanceTag)
	}
	rec.InterfaceTag = interfaceTags[k%len(interfaceTags)]
	set = set.With(flowlog.FieldInterfaceTag)
	if hop != nil && rec.LogStatus == flowlog.LogStatusOK {
		rec.NextHopInterfaceID, rec.NextHopSubnetID, rec.NextHopAZID = hop.ID, hop.SubnetID, hop.AZID
		rec.NextHopVPCID, rec.NextHopInterfaceType = hop.VPCID, interfaceType(hop)
		for _, f := range []flowlog.Field{flowlog.FieldNextHopInterfaceID, flowlog.FieldNextHopSubnetID,
			flowlog.FieldNextHopAZID, flowlog.FieldNextHopVPCID, flowlog.FieldNextHopInterfaceType} {
			set = set.With(f)
		}
	}
	return set
}

func pick(r *rand.Rand, addrs []netip.Addr, v6 bool) netip.Addr {
	for range 8 {
		a := addrs[r.IntN(len(addrs))]
		if a.Is6() == v6 {
			return a
		}
	}
	// Eight misses (one IPv6 record in six, for a list with one IPv6
	// address): the list's first address of the family, so that an
	// internet client stays one (quiet spreads it over many sources)
	// instead of turning into the one server every miss fell back to,
	// which then probed every IPv6 interface on a busy day.
	for _, a := range addrs {
		if a.Is6() == v6 {
			return a
		}
	}
	return addrs[0]
}

// Write writes cfg.Records records to w in cfg.Format and returns how many
// it wrote.
func Write(w io.Writer, cfg Config) (int, error) {
	g := NewGenerator(cfg)
	n := 0
	return writeRecords(w, g.cfg, func() (flowlog.Record, bool) {
		if n == g.cfg.Records {
			return flowlog.Record{}, false
		}
		n++
		return g.Next(), true
	})
}

// writeRecords writes the records next returns, until it says no more, to w
// as S3 delivery writes them: cfg.Format, the header line and gzip as cfg
// says. It returns how many it wrote.
func writeRecords(w io.Writer, cfg Config, next func() (flowlog.Record, bool)) (int, error) {
	var zw *gzip.Writer
	out := w
	if cfg.Gzip {
		zw, _ = gzip.NewWriterLevel(w, gzip.DefaultCompression)
		out = zw
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	if cfg.Header {
		bw.WriteString(cfg.Format.Header())
		bw.WriteByte('\n')
	}
	var line []byte
	n := 0
	for {
		rec, ok := next()
		if !ok {
			break
		}
		line = rec.AppendText(line[:0], cfg.Format)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return n, fmt.Errorf("write record %d: %w", n+1, err)
		}
		n++
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("flush: %w", err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return n, fmt.Errorf("close gzip: %w", err)
		}
	}
	return n, nil
}
