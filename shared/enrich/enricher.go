package enrich

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// Defaults for Config's zero values.
const (
	DefaultRangesRefresh  = 15 * time.Minute
	DefaultENITTL         = 15 * time.Minute
	DefaultENINegativeTTL = 15 * time.Minute
	DefaultENIErrorTTL    = time.Minute
)

// Config says where an Enricher finds its data. The zero Config derives the
// columns that need no I/O (GroupRecord) and leaves the others NULL.
type Config struct {
	// IPRanges supplies AWS's ip-ranges.json (FileSource locally, S3Source
	// in AWS). Nil leaves the *_aws_* columns NULL.
	IPRanges Source
	// RangesRefresh is how often Enrich asks IPRanges whether the document
	// changed. Default DefaultRangesRefresh; negative: never.
	RangesRefresh time.Duration

	// GeoIPPath is a MaxMind-format country database: GeoLite2-Country or
	// -City layout (country.iso_code), or ip-location-db's (country_code),
	// which flowlake ships (package geodb). Empty leaves *_country NULL.
	GeoIPPath string
	// ASNPath is a MaxMind-format ASN database (GeoLite2-ASN layout:
	// autonomous_system_number, autonomous_system_organization), such as
	// the one flowlake builds from ip-location-db's (package geodb). Empty
	// leaves *_asn and *_as_org NULL.
	ASNPath string

	// EC2 describes network interfaces for the eni_* columns (an
	// *ec2.Client, ideally with WithThrottleRetries). Nil leaves them NULL
	// and direction is then only taken from flow-direction.
	EC2 DescribeNetworkInterfacesAPI
	// ENITTL is how long ENI metadata is cached. Default DefaultENITTL.
	ENITTL time.Duration
	// ENINegativeTTL is how long an id that EC2 did not return (a deleted
	// ENI) is remembered as unknown. Default DefaultENINegativeTTL.
	ENINegativeTTL time.Duration
	// ENIErrorTTL is how long an id whose lookup failed is left NULL before
	// EC2 is asked again. Default DefaultENIErrorTTL.
	ENIErrorTTL time.Duration

	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives warnings (EC2 or ip-ranges unavailable). Default
	// slog.Default().
	Logger *slog.Logger
}

// Paths names local files, as the CLI flags --ip-ranges, --geoip and --asn
// do. Empty paths are not used.
type Paths struct {
	IPRanges string
	GeoIP    string
	ASN      string
}

// Config returns a Config that reads the files at p.
func (p Paths) Config() Config {
	c := Config{GeoIPPath: p.GeoIP, ASNPath: p.ASN}
	if p.IPRanges != "" {
		c.IPRanges = FileSource{Path: p.IPRanges}
	}
	return c
}

// Stats counts what one Enrich call did. Warnings are counted, not fatal:
// the records are enriched with what was available.
type Stats struct {
	Records         int // records enriched
	ENICalls        int // DescribeNetworkInterfaces requests made (pages)
	ENIErrors       int // failed DescribeNetworkInterfaces fetches, after the SDK's retries
	ENIUnavailable  int // records whose eni_* columns are NULL because EC2 could not be asked
	ENINotFound     int // ENI ids EC2 did not return (deleted); cached as unknown
	RangesRefreshed int // new ip-ranges documents loaded
	RangesErrors    int // failed ip-ranges refreshes; the previous table stays in use
}

// Add adds o to s.
func (s *Stats) Add(o Stats) {
	s.Records += o.Records
	s.ENICalls += o.ENICalls
	s.ENIErrors += o.ENIErrors
	s.ENIUnavailable += o.ENIUnavailable
	s.ENINotFound += o.ENINotFound
	s.RangesRefreshed += o.RangesRefreshed
	s.RangesErrors += o.RangesErrors
}

// Warnings returns the number of warnings: failed EC2 and ip-ranges fetches.
func (s Stats) Warnings() int { return s.ENIErrors + s.RangesErrors }

// An Enricher fills Fields for flow-log records. Build one per process and
// share it: it is safe for concurrent use, and its caches (ENI metadata,
// GeoIP) live as long as it does.
type Enricher struct {
	cfg Config
	now func() time.Time
	log *slog.Logger

	ranges   atomic.Pointer[Ranges]
	rmu      sync.Mutex // guards rversion and rchecked; held while refreshing
	rversion string
	rchecked time.Time

	geo  *geoDB
	enis *eniCache

	scratch sync.Pool // *batchScratch
}

// New builds an Enricher. It loads ip-ranges.json and opens the GeoIP
// databases now, and returns an error if any of them cannot be read.
func New(ctx context.Context, cfg Config) (*Enricher, error) {
	e := &Enricher{cfg: cfg, now: cfg.Now, log: cfg.Logger}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.cfg.RangesRefresh == 0 {
		e.cfg.RangesRefresh = DefaultRangesRefresh
	}
	if cfg.IPRanges != nil {
		if _, err := e.RefreshRanges(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.GeoIPPath != "" || cfg.ASNPath != "" {
		g, err := openGeo(cfg.GeoIPPath, cfg.ASNPath)
		if err != nil {
			return nil, err
		}
		e.geo = g
	}
	if cfg.EC2 != nil {
		e.enis = &eniCache{
			api:    cfg.EC2,
			now:    e.now,
			ttl:    orDefault(cfg.ENITTL, DefaultENITTL),
			negTTL: orDefault(cfg.ENINegativeTTL, DefaultENINegativeTTL),
			errTTL: orDefault(cfg.ENIErrorTTL, DefaultENIErrorTTL),
		}
	}
	return e, nil
}

// NewFromPaths builds an Enricher that reads local files (see Paths).
func NewFromPaths(ctx context.Context, p Paths) (*Enricher, error) {
	return New(ctx, p.Config())
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Close releases the GeoIP databases.
func (e *Enricher) Close() error {
	if e.geo != nil {
		return e.geo.close()
	}
	return nil
}

// Ranges returns the ip-ranges table in use, or nil.
func (e *Enricher) Ranges() *Ranges { return e.ranges.Load() }

// RefreshRanges loads ip-ranges.json from the configured Source if it
// changed, and reports whether it did. On error the previous table stays.
func (e *Enricher) RefreshRanges(ctx context.Context) (bool, error) {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	return e.refreshLocked(ctx)
}

func (e *Enricher) refreshLocked(ctx context.Context) (bool, error) {
	if e.cfg.IPRanges == nil {
		return false, nil
	}
	e.rchecked = e.now()
	body, version, err := e.cfg.IPRanges.Open(ctx, e.rversion)
	if errors.Is(err, ErrNotModified) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("refresh ip-ranges: %w", err)
	}
	defer body.Close()
	rs, err := ParseIPRanges(body)
	if err != nil {
		return false, fmt.Errorf("refresh ip-ranges: %w", err)
	}
	e.ranges.Store(rs)
	e.rversion = version
	return true, nil
}

// maybeRefresh refreshes ip-ranges when RangesRefresh has passed. Only one
// caller refreshes; the others go on with the current table.
func (e *Enricher) maybeRefresh(ctx context.Context, st *Stats) {
	if e.cfg.IPRanges == nil || e.cfg.RangesRefresh < 0 || !e.rmu.TryLock() {
		return
	}
	defer e.rmu.Unlock()
	if e.now().Sub(e.rchecked) < e.cfg.RangesRefresh {
		return
	}
	changed, err := e.refreshLocked(ctx)
	if err != nil {
		st.RangesErrors++
		e.log.WarnContext(ctx, "enrich: ip-ranges refresh failed; keeping the previous table", "error", err)
		return
	}
	if changed {
		st.RangesRefreshed++
		rs := e.ranges.Load()
		e.log.InfoContext(ctx, "enrich: loaded ip-ranges", "sync_token", rs.SyncToken, "prefixes", rs.Len())
	}
}

// batchScratch is per-call working memory, pooled.
type batchScratch struct {
	ids  []string    // distinct ENI ids of the batch
	idx  []int32     // per record: index into ids, or -1
	ents []*eniEntry // per id: its cache entry
	seen map[string]int32
	// ranges caches recent ip-ranges lookups: public peers repeat.
	ranges [rangeCacheSlots]rangeHit
}

const rangeCacheSlots = 256

// rangeHit is a cached Ranges.Lookup: rs.Lookup(a) was r.
type rangeHit struct {
	rs *Ranges
	a  netip.Addr
	r  *AWSRange
}

// lookup is rs.Lookup(a) through the cache.
func (sc *batchScratch) lookup(rs *Ranges, a netip.Addr) *AWSRange {
	b := a.As16()
	h := binary.LittleEndian.Uint64(b[:8]) ^ binary.LittleEndian.Uint64(b[8:])*0x9E3779B97F4A7C15
	e := &sc.ranges[(h*0xC2B2AE3D27D4EB4F)>>(64-8)]
	if e.rs != rs || e.a != a {
		*e = rangeHit{rs, a, rs.Lookup(a)}
	}
	return e.r
}

// Enrich fills out[i] with the enrichment of recs[i]. out must be at least
// as long as recs. It makes at most one EC2 request per batch for the ENIs
// not in the cache (more only past 200 unknown ENIs or 1000 results), and
// never fails: what cannot be looked up is NULL and counted in Stats.
func (e *Enricher) Enrich(ctx context.Context, recs []flowlog.Record, out []Fields) Stats {
	if len(out) < len(recs) {
		panic("enrich: Enrich: out is shorter than recs")
	}
	st := Stats{Records: len(recs)}
	e.maybeRefresh(ctx, &st)
	rs := e.ranges.Load()
	sc := e.getScratch()
	defer e.putScratch(sc)
	if e.enis == nil {
		for i := range recs {
			e.fill(sc, &recs[i], rs, nil, &out[i])
		}
		return st
	}

	sc.idx = sc.idx[:0]
	last, lastIdx := "", int32(-1)
	for i := range recs {
		r := &recs[i]
		if !r.Set.Has(flowlog.FieldInterfaceID) || r.InterfaceID == "" {
			sc.idx = append(sc.idx, -1)
			continue
		}
		if r.InterfaceID != last {
			k, ok := sc.seen[r.InterfaceID]
			if !ok {
				k = int32(len(sc.ids))
				sc.seen[r.InterfaceID] = k
				sc.ids = append(sc.ids, r.InterfaceID)
			}
			last, lastIdx = r.InterfaceID, k
		}
		sc.idx = append(sc.idx, lastIdx)
	}
	sc.ents = append(sc.ents[:0], make([]*eniEntry, len(sc.ids))...)
	if len(sc.ids) > 0 {
		e.resolve(ctx, sc.ids, sc.ents, &st)
	}
	for i := range recs {
		var eni *ENI
		if k := sc.idx[i]; k >= 0 {
			eni = st.entryENI(sc.ents[k])
		}
		e.fill(sc, &recs[i], rs, eni, &out[i])
	}
	return st
}

func (e *Enricher) getScratch() *batchScratch {
	if sc, ok := e.scratch.Get().(*batchScratch); ok {
		return sc
	}
	return &batchScratch{seen: make(map[string]int32)}
}

func (e *Enricher) putScratch(sc *batchScratch) {
	clear(sc.seen)
	clear(sc.ids)
	clear(sc.ents)
	sc.ids, sc.ents = sc.ids[:0], sc.ents[:0]
	if cap(sc.idx) > 1<<20 {
		return // don't pool huge batches
	}
	e.scratch.Put(sc)
}

// EnrichRecord enriches one record (see Enrich). Enrich a batch where you
// can: each call may ask EC2 about its record's ENI.
func (e *Enricher) EnrichRecord(ctx context.Context, rec *flowlog.Record, out *Fields) Stats {
	st := Stats{Records: 1}
	e.maybeRefresh(ctx, &st)
	var eni *ENI
	if e.enis != nil && rec.Set.Has(flowlog.FieldInterfaceID) && rec.InterfaceID != "" {
		var ents [1]*eniEntry
		e.resolve(ctx, []string{rec.InterfaceID}, ents[:], &st)
		eni = st.entryENI(ents[0])
	}
	sc := e.getScratch()
	defer e.putScratch(sc)
	e.fill(sc, rec, e.ranges.Load(), eni, out)
	return st
}

// resolve looks ids up in the ENI cache and counts what it did in st.
func (e *Enricher) resolve(ctx context.Context, ids []string, ents []*eniEntry, st *Stats) {
	es, err := e.enis.resolve(ctx, ids, ents)
	st.ENICalls += es.calls
	st.ENIErrors += es.errors
	st.ENINotFound += es.notFound
	if err != nil {
		e.log.WarnContext(ctx, "enrich: describe network interfaces failed; their eni columns are NULL", "enis", len(ids), "error", err)
	}
}

// entryENI returns the metadata of a resolved entry, counting a record
// left NULL because EC2 could not be asked.
func (st *Stats) entryENI(en *eniEntry) *ENI {
	switch {
	case en == nil:
		st.ENIUnavailable++
	case en.eni != nil:
		return en.eni
	case en.failed:
		st.ENIUnavailable++
	}
	return nil
}

// fill computes every column of rec. It does not allocate.
func (e *Enricher) fill(sc *batchScratch, rec *flowlog.Record, rs *Ranges, eni *ENI, f *Fields) {
	*f = Fields{}
	var set ColumnSet
	if rec.Set.Has(flowlog.FieldProtocol) {
		if s := ianaProtocols[rec.Protocol]; s != "" {
			f.ProtocolName, set = s, set|1<<ColProtocolName
		}
		if rec.Protocol == protoTCP || rec.Protocol == protoUDP {
			if rec.Set.Has(flowlog.FieldSrcPort) {
				if s := ServiceName(rec.Protocol, rec.SrcPort); s != "" {
					f.SrcService, set = s, set|1<<ColSrcService
				}
			}
			if rec.Set.Has(flowlog.FieldDstPort) {
				if s := ServiceName(rec.Protocol, rec.DstPort); s != "" {
					f.DstService, set = s, set|1<<ColDstService
				}
			}
		}
	}
	if rec.Set.Has(flowlog.FieldTCPFlags) {
		if n := TCPFlagNames(rec.TCPFlags); n != nil {
			f.TCPFlagNames, set = n, set|1<<ColTCPFlagNames
		}
	}
	hasSrc, hasDst := rec.Set.Has(flowlog.FieldSrcAddr), rec.Set.Has(flowlog.FieldDstAddr)
	if hasSrc {
		f.SrcIPClass = ClassifyIP(rec.SrcAddr)
		if f.SrcIPClass != IPClassNone {
			set |= 1 << ColSrcIPClass
		}
		if f.SrcIPClass == IPClassPublic {
			set |= e.public(sc, rec.SrcAddr, rs, &f.SrcAWSService, &f.SrcAWSRegion, &f.SrcCountry, &f.SrcASN, &f.SrcASOrg, ColSrcAWSService)
		}
	}
	if hasDst {
		f.DstIPClass = ClassifyIP(rec.DstAddr)
		if f.DstIPClass != IPClassNone {
			set |= 1 << ColDstIPClass
		}
		if f.DstIPClass == IPClassPublic {
			set |= e.public(sc, rec.DstAddr, rs, &f.DstAWSService, &f.DstAWSRegion, &f.DstCountry, &f.DstASN, &f.DstASOrg, ColDstAWSService)
		}
	}

	// Direction: flow-direction is fact; else the ENI's own addresses.
	if rec.Set.Has(flowlog.FieldFlowDirection) {
		switch rec.FlowDirection {
		case "ingress":
			f.Direction = DirectionIngress
		case "egress":
			f.Direction = DirectionEgress
		}
	}
	if f.Direction == DirectionUnknown && eni != nil {
		src := hasSrc && eni.HasAddr(rec.SrcAddr)
		dst := hasDst && eni.HasAddr(rec.DstAddr)
		switch {
		case src && !dst:
			f.Direction = DirectionEgress
		case dst && !src:
			f.Direction = DirectionIngress
		}
	}
	switch {
	case f.Direction == DirectionIngress && hasSrc:
		f.PeerAddr, set = rec.SrcAddr, set|1<<ColPeerAddr
	case f.Direction == DirectionEgress && hasDst:
		f.PeerAddr, set = rec.DstAddr, set|1<<ColPeerAddr
	}
	if f.Direction != DirectionUnknown {
		set |= 1 << ColDirection
	}

	if eni != nil {
		set |= setString(&f.ENIInstanceID, eni.InstanceID, ColENIInstanceID) |
			setString(&f.ENIType, eni.Type, ColENIType) |
			setString(&f.ENIVPCID, eni.VPCID, ColENIVPCID) |
			setString(&f.ENISubnetID, eni.SubnetID, ColENISubnetID) |
			setString(&f.ENIDescription, eni.Description, ColENIDescription)
		if len(eni.SecurityGroupIDs) > 0 {
			f.ENISecurityGroupIDs, set = eni.SecurityGroupIDs, set|1<<ColENISecurityGroupIDs
		}
		if len(eni.Tags) > 0 {
			f.ENITags, set = eni.Tags, set|1<<ColENITags
		}
	}
	f.Set = set
}

// public fills the owner columns of a public address. The column order is
// service, region, country, asn, as_org for both ends, starting at svc.
func (e *Enricher) public(sc *batchScratch, a netip.Addr, rs *Ranges, svc, region, country *string, asn *int64, org *string, svcCol Column) ColumnSet {
	var set ColumnSet
	if r := sc.lookup(rs, a); r != nil {
		set |= setString(svc, r.Service, svcCol) | setString(region, r.Region, svcCol+1)
	}
	if e.geo != nil {
		g := e.geo.lookup(a)
		countryCol, asnCol, orgCol := ColSrcCountry, ColSrcASN, ColSrcASOrg
		if svcCol == ColDstAWSService {
			countryCol, asnCol, orgCol = ColDstCountry, ColDstASN, ColDstASOrg
		}
		set |= setString(country, g.country, countryCol) | setString(org, g.asn.org, orgCol)
		if g.asn.number != 0 {
			*asn, set = g.asn.number, set|1<<asnCol
		}
	}
	return set
}

func setString(dst *string, v string, c Column) ColumnSet {
	if v == "" {
		return 0
	}
	*dst = v
	return 1 << c
}
