package enrich

import "net/netip"

// Direction says which way a flow went, from the ENI's point of view. The
// zero value means unknown (NULL).
type Direction uint8

// Directions.
const (
	DirectionUnknown Direction = iota
	DirectionIngress
	DirectionEgress
)

// String returns "ingress", "egress" or "" when unknown.
func (d Direction) String() string {
	switch d {
	case DirectionIngress:
		return "ingress"
	case DirectionEgress:
		return "egress"
	}
	return ""
}

// Fields holds the enrichment of one record: one struct field per Column.
//
// Set holds the columns that have a value. For every column the zero value
// of its struct field also means NULL (an empty string, a nil slice or map,
// ASN 0, an invalid PeerAddr, IPClassNone, DirectionUnknown), except
// TCPFlagNames, which is a non-nil empty slice when tcp-flags is 0. So a
// Parquet writer can map the fields with "optional" tags directly.
//
// Strings, slices and maps are shared with the Enricher's tables and caches:
// filling a Fields does not allocate, and they must not be modified.
type Fields struct {
	Set ColumnSet

	ProtocolName string
	TCPFlagNames []string
	SrcIPClass   IPClass
	DstIPClass   IPClass
	Direction    Direction
	SrcService   string
	DstService   string
	PeerAddr     netip.Addr

	SrcAWSService string
	SrcAWSRegion  string
	DstAWSService string
	DstAWSRegion  string

	SrcCountry string
	DstCountry string
	SrcASN     int64
	DstASN     int64
	SrcASOrg   string
	DstASOrg   string

	ENIInstanceID       string
	ENIType             string
	ENIVPCID            string
	ENISubnetID         string
	ENISecurityGroupIDs []string
	ENIDescription      string
	ENITags             map[string]string
}

// Has reports whether column c has a value.
func (f *Fields) Has(c Column) bool { return f.Set.Has(c) }

// Value returns the value of column c as a JSON-friendly Go value (string,
// []string, int64 or map[string]string) and whether it is set. It allocates
// for peer_addr and the enum columns' interface conversion; use the struct
// fields on hot paths.
func (f *Fields) Value(c Column) (any, bool) {
	if !f.Set.Has(c) {
		return nil, false
	}
	switch c {
	case ColProtocolName:
		return f.ProtocolName, true
	case ColTCPFlagNames:
		return f.TCPFlagNames, true
	case ColSrcIPClass:
		return f.SrcIPClass.String(), true
	case ColDstIPClass:
		return f.DstIPClass.String(), true
	case ColDirection:
		return f.Direction.String(), true
	case ColSrcService:
		return f.SrcService, true
	case ColDstService:
		return f.DstService, true
	case ColPeerAddr:
		return f.PeerAddr.String(), true
	case ColSrcAWSService:
		return f.SrcAWSService, true
	case ColSrcAWSRegion:
		return f.SrcAWSRegion, true
	case ColDstAWSService:
		return f.DstAWSService, true
	case ColDstAWSRegion:
		return f.DstAWSRegion, true
	case ColSrcCountry:
		return f.SrcCountry, true
	case ColDstCountry:
		return f.DstCountry, true
	case ColSrcASN:
		return f.SrcASN, true
	case ColDstASN:
		return f.DstASN, true
	case ColSrcASOrg:
		return f.SrcASOrg, true
	case ColDstASOrg:
		return f.DstASOrg, true
	case ColENIInstanceID:
		return f.ENIInstanceID, true
	case ColENIType:
		return f.ENIType, true
	case ColENIVPCID:
		return f.ENIVPCID, true
	case ColENISubnetID:
		return f.ENISubnetID, true
	case ColENISecurityGroupIDs:
		return f.ENISecurityGroupIDs, true
	case ColENIDescription:
		return f.ENIDescription, true
	case ColENITags:
		return f.ENITags, true
	}
	return nil, false
}

// Pair is one enrichment column and its value, for JSON output.
type Pair struct {
	Name  string
	Value any
}

// AppendPairs appends the set columns, in schema order, as (name, value)
// pairs to dst. NULL columns are left out.
func (f *Fields) AppendPairs(dst []Pair) []Pair {
	for c := Column(1); c < numColumns; c++ {
		if v, ok := f.Value(c); ok {
			dst = append(dst, Pair{Name: c.Name(), Value: v})
		}
	}
	return dst
}
