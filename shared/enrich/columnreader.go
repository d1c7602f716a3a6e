package enrich

import (
	"encoding/binary"
	"net/netip"
)

// ColumnReader reads enrichment columns a chunk of rows at a time, for a
// columnar writer (the lake's, through lake.HookedColumns): one call fills
// one column's values for many records, so the writer makes one call per
// column and chunk instead of one per value.
//
// Fields is the enrichment of the group of records being written, by the
// record's index in the group; set it before reading the group. Each read
// method fills dst[i] and ok[i] (false for NULL) for the record at index
// rows[i] of Fields, for every i of rows; dst and ok must be at least as
// long as rows. Values share memory with Fields and the Enricher's tables:
// they must not be modified.
//
// The zero value is ready to use. Reads of one column must not overlap (the
// peer_addr column keeps a cache); reads of different columns may run
// concurrently.
type ColumnReader struct {
	Fields []Fields

	peers *[peerSlots]peerText // peer_addr's text of recent peers, made on first use
}

// peerText is the text of an address, as a cache entry.
type peerText struct {
	a netip.Addr
	s string
}

const peerSlots = 1024

// Strings reads a string column: ColProtocolName, the address classes,
// direction, the services, peer_addr, the ip-ranges, GeoIP and ASN
// organization columns and the eni_* strings. It panics for a column of
// another type.
func (r *ColumnReader) Strings(c Column, rows []int32, dst []string, ok []bool) {
	// One function per source group: each loop inlines only while its
	// function stays small.
	switch c.Group() {
	case GroupRecord:
		r.recordStrings(c, rows, dst, ok)
	case GroupIPRanges, GroupGeoIP, GroupASN:
		r.lookupStrings(c, rows, dst, ok)
	case GroupENI:
		r.eniStrings(c, rows, dst, ok)
	default:
		panic("enrich: " + c.Name() + " is not a string column")
	}
}

func (r *ColumnReader) recordStrings(c Column, rows []int32, dst []string, ok []bool) {
	fs := r.Fields
	switch c {
	case ColProtocolName:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.ProtocolName })
	case ColSrcIPClass:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return ipClassName[f.SrcIPClass] })
	case ColDstIPClass:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return ipClassName[f.DstIPClass] })
	case ColDirection:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return directionName[f.Direction] })
	case ColSrcService:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.SrcService })
	case ColDstService:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.DstService })
	case ColPeerAddr:
		r.peerAddrs(rows, dst, ok)
	default:
		panic("enrich: " + c.Name() + " is not a string column")
	}
}

func (r *ColumnReader) lookupStrings(c Column, rows []int32, dst []string, ok []bool) {
	fs := r.Fields
	switch c {
	case ColSrcAWSService:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.SrcAWSService })
	case ColSrcAWSRegion:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.SrcAWSRegion })
	case ColDstAWSService:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.DstAWSService })
	case ColDstAWSRegion:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.DstAWSRegion })
	case ColSrcCountry:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.SrcCountry })
	case ColDstCountry:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.DstCountry })
	case ColSrcASOrg:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.SrcASOrg })
	case ColDstASOrg:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.DstASOrg })
	default:
		panic("enrich: " + c.Name() + " is not a string column")
	}
}

func (r *ColumnReader) eniStrings(c Column, rows []int32, dst []string, ok []bool) {
	fs := r.Fields
	switch c {
	case ColENIInstanceID:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.ENIInstanceID })
	case ColENIType:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.ENIType })
	case ColENIVPCID:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.ENIVPCID })
	case ColENISubnetID:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.ENISubnetID })
	case ColENIDescription:
		fill(fs, c, rows, dst, ok, func(f *Fields) string { return f.ENIDescription })
	default:
		panic("enrich: " + c.Name() + " is not a string column")
	}
}

// Ints reads a bigint column: ColSrcASN or ColDstASN.
func (r *ColumnReader) Ints(c Column, rows []int32, dst []int64, ok []bool) {
	switch c {
	case ColSrcASN:
		fill(r.Fields, c, rows, dst, ok, func(f *Fields) int64 { return f.SrcASN })
	case ColDstASN:
		fill(r.Fields, c, rows, dst, ok, func(f *Fields) int64 { return f.DstASN })
	default:
		panic("enrich: " + c.Name() + " is not a bigint column")
	}
}

// Lists reads an array<string> column: ColTCPFlagNames or
// ColENISecurityGroupIDs. A set value with no elements is an empty array.
func (r *ColumnReader) Lists(c Column, rows []int32, dst [][]string, ok []bool) {
	switch c {
	case ColTCPFlagNames:
		fill(r.Fields, c, rows, dst, ok, func(f *Fields) []string { return f.TCPFlagNames })
	case ColENISecurityGroupIDs:
		fill(r.Fields, c, rows, dst, ok, func(f *Fields) []string { return f.ENISecurityGroupIDs })
	default:
		panic("enrich: " + c.Name() + " is not an array<string> column")
	}
}

// Maps reads a map<string,string> column: ColENITags.
func (r *ColumnReader) Maps(c Column, rows []int32, dst []map[string]string, ok []bool) {
	switch c {
	case ColENITags:
		fill(r.Fields, c, rows, dst, ok, func(f *Fields) map[string]string { return f.ENITags })
	default:
		panic("enrich: " + c.Name() + " is not a map<string,string> column")
	}
}

// fill sets dst[i] to get's value of the record at rows[i], and ok[i] to
// whether that record has column c. It and get inline into each caller,
// so a column's loop makes no call per row (BenchmarkColumnReader).
func fill[T any](fs []Fields, c Column, rows []int32, dst []T, ok []bool, get func(*Fields) T) {
	bit := ColumnSet(1) << c
	dst, ok = dst[:len(rows)], ok[:len(rows)]
	for i, k := range rows {
		f := &fs[k]
		dst[i], ok[i] = get(f), f.Set&bit != 0
	}
}

// peerAddrs reads peer_addr. Peers repeat heavily (a few services, NAT
// gateways, the same clients), so their text comes from a small cache of
// the recent peers instead of being formatted each time.
func (r *ColumnReader) peerAddrs(rows []int32, dst []string, ok []bool) {
	if r.peers == nil {
		r.peers = new([peerSlots]peerText)
	}
	fs := r.Fields
	dst, ok = dst[:len(rows)], ok[:len(rows)]
	for i, k := range rows {
		f := &fs[k]
		if !f.Set.Has(ColPeerAddr) {
			dst[i], ok[i] = "", false
			continue
		}
		e := &r.peers[peerSlot(f.PeerAddr)]
		if e.a != f.PeerAddr || e.s == "" {
			e.a, e.s = f.PeerAddr, f.PeerAddr.String()
		}
		dst[i], ok[i] = e.s, true
	}
}

// peerSlot hashes an address to a slot of the peer cache.
func peerSlot(a netip.Addr) int {
	b := a.As16()
	h := binary.LittleEndian.Uint64(b[:8]) ^ binary.LittleEndian.Uint64(b[8:])*0x9E3779B97F4A7C15
	return int((h * 0xC2B2AE3D27D4EB4F) >> (64 - 10))
}

// ipClassName and directionName are the names of every value of the byte
// enums, so a read is one table load.
var (
	ipClassName   = byteEnumNames(func(v uint8) string { return IPClass(v).String() })
	directionName = byteEnumNames(func(v uint8) string { return Direction(v).String() })
)

func byteEnumNames(name func(uint8) string) *[256]string {
	var t [256]string
	for v := range t {
		t[v] = name(uint8(v))
	}
	return &t
}
