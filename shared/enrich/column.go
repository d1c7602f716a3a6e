package enrich

import (
	"slices"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// Column identifies one enrichment column, such as ColProtocolName for
// "protocol_name". The zero value is not a column.
type Column uint8

// The enrichment columns, in the order the lake schema appends them.
const (
	ColProtocolName Column = iota + 1
	ColTCPFlagNames
	ColSrcIPClass
	ColDstIPClass
	ColDirection
	ColSrcService
	ColDstService
	ColPeerAddr
	ColSrcAWSService
	ColSrcAWSRegion
	ColDstAWSService
	ColDstAWSRegion
	ColSrcCountry
	ColDstCountry
	ColSrcASN
	ColDstASN
	ColSrcASOrg
	ColDstASOrg
	ColENIInstanceID
	ColENIType
	ColENIVPCID
	ColENISubnetID
	ColENISecurityGroupIDs
	ColENIDescription
	ColENITags

	numColumns
)

// NumColumns is the number of enrichment columns; valid columns are
// 1..NumColumns.
const NumColumns = int(numColumns) - 1

// Source groups say where a column's value comes from.
const (
	GroupRecord   = "record"    // derived from the record alone, no I/O
	GroupIPRanges = "ip-ranges" // AWS ip-ranges.json
	GroupGeoIP    = "geoip"     // a MaxMind-format country database
	GroupASN      = "asn"       // a MaxMind-format ASN database
	GroupENI      = "eni"       // EC2 DescribeNetworkInterfaces
)

type columnInfo struct {
	name  string
	typ   string // Athena type
	group string
	doc   string
}

var columns = [numColumns]columnInfo{
	ColProtocolName:        {"protocol_name", "string", GroupRecord, "lower-case IANA keyword of protocol (tcp, udp, icmp, ipv6-icmp, ...)"},
	ColTCPFlagNames:        {"tcp_flag_names", "array<string>", GroupRecord, "tcp_flags decoded: fin, syn, syn-ack, rst, psh, ack, urg, ece, cwr"},
	ColSrcIPClass:          {"src_ip_class", "string", GroupRecord, "IANA special-purpose class of srcaddr: private, public, shared, loopback, link-local, multicast, reserved, unspecified"},
	ColDstIPClass:          {"dst_ip_class", "string", GroupRecord, "IANA special-purpose class of dstaddr (see src_ip_class)"},
	ColDirection:           {"direction", "string", GroupRecord, "ingress or egress: flow_direction, else inferred from the ENI's own addresses, else NULL"},
	ColSrcService:          {"src_service", "string", GroupRecord, "well-known service name of srcport (ssh, https, postgresql, ...)"},
	ColDstService:          {"dst_service", "string", GroupRecord, "well-known service name of dstport (ssh, https, postgresql, ...)"},
	ColPeerAddr:            {"peer_addr", "string", GroupRecord, "the remote address from the ENI's point of view (dstaddr on egress, srcaddr on ingress)"},
	ColSrcAWSService:       {"src_aws_service", "string", GroupIPRanges, "AWS ip-ranges service of srcaddr (S3, EC2, CLOUDFRONT, AMAZON, ...)"},
	ColSrcAWSRegion:        {"src_aws_region", "string", GroupIPRanges, "AWS ip-ranges region of srcaddr's range (us-east-1, GLOBAL, ...)"},
	ColDstAWSService:       {"dst_aws_service", "string", GroupIPRanges, "AWS ip-ranges service of dstaddr (S3, EC2, CLOUDFRONT, AMAZON, ...)"},
	ColDstAWSRegion:        {"dst_aws_region", "string", GroupIPRanges, "AWS ip-ranges region of dstaddr's range (us-east-1, GLOBAL, ...)"},
	ColSrcCountry:          {"src_country", "string", GroupGeoIP, "ISO 3166-1 alpha-2 country of a public srcaddr"},
	ColDstCountry:          {"dst_country", "string", GroupGeoIP, "ISO 3166-1 alpha-2 country of a public dstaddr"},
	ColSrcASN:              {"src_asn", "bigint", GroupASN, "autonomous system number of a public srcaddr"},
	ColDstASN:              {"dst_asn", "bigint", GroupASN, "autonomous system number of a public dstaddr"},
	ColSrcASOrg:            {"src_as_org", "string", GroupASN, "autonomous system organization of a public srcaddr"},
	ColDstASOrg:            {"dst_as_org", "string", GroupASN, "autonomous system organization of a public dstaddr"},
	ColENIInstanceID:       {"eni_instance_id", "string", GroupENI, "instance the ENI is attached to"},
	ColENIType:             {"eni_type", "string", GroupENI, "ENI interface type as EC2 reports it (interface, natGateway, load_balancer, lambda, vpc_endpoint, ...)"},
	ColENIVPCID:            {"eni_vpc_id", "string", GroupENI, "VPC of the ENI"},
	ColENISubnetID:         {"eni_subnet_id", "string", GroupENI, "subnet of the ENI"},
	ColENISecurityGroupIDs: {"eni_security_group_ids", "array<string>", GroupENI, "security groups of the ENI"},
	ColENIDescription:      {"eni_description", "string", GroupENI, "description of the ENI (NULL when empty)"},
	ColENITags:             {"eni_tags", "map<string,string>", GroupENI, "tags of the ENI"},
}

// Columns returns every enrichment column, in schema order.
func Columns() []Column {
	out := make([]Column, 0, NumColumns)
	for c := Column(1); c < numColumns; c++ {
		out = append(out, c)
	}
	return out
}

// ColumnsIn returns the columns of the given groups (GroupRecord, ...), in
// schema order; nil groups give every column.
func ColumnsIn(groups []string) []Column {
	if groups == nil {
		return Columns()
	}
	var out []Column
	for _, c := range Columns() {
		if slices.Contains(groups, c.Group()) {
			out = append(out, c)
		}
	}
	return out
}

// LookupColumn returns the column with the given name ("protocol_name").
func LookupColumn(name string) (Column, bool) {
	for c := Column(1); c < numColumns; c++ {
		if columns[c].name == name {
			return c, true
		}
	}
	return 0, false
}

// Name returns the column name, as in the lake schema and JSON output.
func (c Column) Name() string {
	if c == 0 || c >= numColumns {
		return "unknown"
	}
	return columns[c].name
}

// String returns the column name.
func (c Column) String() string { return c.Name() }

// Type returns the Athena type: string, bigint, array<string> or
// map<string,string>.
func (c Column) Type() string {
	if c >= numColumns {
		return ""
	}
	return columns[c].typ
}

// Group returns where the value comes from: GroupRecord, GroupIPRanges,
// GroupGeoIP, GroupASN or GroupENI.
func (c Column) Group() string {
	if c >= numColumns {
		return ""
	}
	return columns[c].group
}

// Doc returns a one-line description of the column.
func (c Column) Doc() string {
	if c >= numColumns {
		return ""
	}
	return columns[c].doc
}

// DependsOn returns the flow-log field without which the column is always
// NULL (protocol_name needs protocol, the eni_* columns interface-id), or 0
// when it has no single such field (direction, the services, peer_addr). A
// columnar writer can leave the column out of a file whose format lacks
// the field.
func (c Column) DependsOn() flowlog.Field {
	if c.Group() == GroupENI {
		return flowlog.FieldInterfaceID
	}
	switch c {
	case ColProtocolName:
		return flowlog.FieldProtocol
	case ColTCPFlagNames:
		return flowlog.FieldTCPFlags
	case ColSrcIPClass, ColSrcAWSService, ColSrcAWSRegion, ColSrcCountry, ColSrcASN, ColSrcASOrg:
		return flowlog.FieldSrcAddr
	case ColDstIPClass, ColDstAWSService, ColDstAWSRegion, ColDstCountry, ColDstASN, ColDstASOrg:
		return flowlog.FieldDstAddr
	}
	return 0
}

// ColumnSet is a set of columns, one bit per column.
type ColumnSet uint32

// Has reports whether c is in the set.
func (s ColumnSet) Has(c Column) bool { return s&(1<<c) != 0 }

// With returns the set with c added.
func (s ColumnSet) With(c Column) ColumnSet { return s | 1<<c }
