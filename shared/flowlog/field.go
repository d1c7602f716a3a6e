package flowlog

import "strings"

// Field identifies one flow-log field, such as FieldSrcAddr for "srcaddr".
// The zero value is FieldUnknown.
type Field uint8

// The fields AWS writes, in the order of the "Available fields" table: VPC
// flow logs v2–v5, v7 (ECS), v8, resource-id and encryption-status, v11
// (interface-type, the next hop, the EC2 tags), then the transit-gateway
// (v6) fields.
const (
	FieldUnknown Field = iota
	FieldVersion
	FieldAccountID
	FieldInterfaceID
	FieldSrcAddr
	FieldDstAddr
	FieldSrcPort
	FieldDstPort
	FieldProtocol
	FieldPackets
	FieldBytes
	FieldStart
	FieldEnd
	FieldAction
	FieldLogStatus
	FieldVPCID
	FieldSubnetID
	FieldInstanceID
	FieldTCPFlags
	FieldType
	FieldPktSrcAddr
	FieldPktDstAddr
	FieldRegion
	FieldAZID
	FieldSublocationType
	FieldSublocationID
	FieldPktSrcAWSService
	FieldPktDstAWSService
	FieldFlowDirection
	FieldTrafficPath
	FieldECSClusterARN
	FieldECSClusterName
	FieldECSContainerInstanceARN
	FieldECSContainerInstanceID
	FieldECSContainerID
	FieldECSSecondContainerID
	FieldECSServiceName
	FieldECSTaskDefinitionARN
	FieldECSTaskARN
	FieldECSTaskID
	FieldRejectReason
	FieldResourceID
	FieldEncryptionStatus
	FieldInterfaceType
	FieldNextHopInterfaceID
	FieldNextHopSubnetID
	FieldNextHopAZID
	FieldNextHopVPCID
	FieldNextHopInterfaceType
	FieldInstanceTag
	FieldInterfaceTag
	FieldResourceType
	FieldTGWID
	FieldTGWAttachmentID
	FieldTGWSrcVPCAccountID
	FieldTGWDstVPCAccountID
	FieldTGWSrcVPCID
	FieldTGWDstVPCID
	FieldTGWSrcSubnetID
	FieldTGWDstSubnetID
	FieldTGWSrcENI
	FieldTGWDstENI
	FieldTGWSrcAZID
	FieldTGWDstAZID
	FieldTGWPairAttachmentID
	FieldPacketsLostNoRoute
	FieldPacketsLostBlackhole
	FieldPacketsLostMTUExceeded
	FieldPacketsLostTTLExpired

	numFields
)

// NumFields is the number of known fields; valid fields are 1..NumFields.
const NumFields = int(numFields) - 1

// FieldExtra is no field of any format. In a Format's set it stands for the
// header columns this package does not know (Format.Unknown), and in a
// Record's set for their values (Record.Extra), so that one bit test tells
// a consumer whether there are any. Fields never returns it, and no format
// string or header line can name it.
const FieldExtra = numFields

// A FieldSet holds a bit for every field and for FieldExtra.
const _ = uint(fieldSetBits - 1 - FieldExtra) // compile error if FieldExtra does not fit

// Kind is the value type of a field.
type Kind uint8

// The kinds of field values.
const (
	KindString    Kind = iota // an open string: ids, names and enums AWS may extend
	KindInt32                 // a non-negative 32-bit integer (version, tcp-flags, traffic-path, encryption-status)
	KindPort                  // 0–65535
	KindProtocol              // 0–255
	KindInt64                 // 0 to 2^63−1: packets, bytes, start, end, packets-lost-*
	KindAddr                  // an IPv4 or IPv6 address
	KindAction                // ACCEPT or REJECT
	KindLogStatus             // OK, NODATA or SKIPDATA
)

// String returns the kind's name, for documentation and errors.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt32:
		return "int32"
	case KindPort:
		return "port"
	case KindProtocol:
		return "protocol"
	case KindInt64:
		return "int64"
	case KindAddr:
		return "address"
	case KindAction:
		return "action"
	case KindLogStatus:
		return "log-status"
	}
	return "unknown"
}

type fieldInfo struct {
	name    string
	kind    Kind
	version int // the record version that introduced the field
	doc     string
}

var fields = [numFields]fieldInfo{
	FieldUnknown:                 {"", KindString, 0, ""},
	FieldVersion:                 {"version", KindInt32, 2, "flow log version"},
	FieldAccountID:               {"account-id", KindString, 2, "account that owns the source network interface (may be 'unknown')"},
	FieldInterfaceID:             {"interface-id", KindString, 2, "network interface id"},
	FieldSrcAddr:                 {"srcaddr", KindAddr, 2, "source address"},
	FieldDstAddr:                 {"dstaddr", KindAddr, 2, "destination address"},
	FieldSrcPort:                 {"srcport", KindPort, 2, "source port"},
	FieldDstPort:                 {"dstport", KindPort, 2, "destination port"},
	FieldProtocol:                {"protocol", KindProtocol, 2, "IANA protocol number"},
	FieldPackets:                 {"packets", KindInt64, 2, "packets in the flow during the interval"},
	FieldBytes:                   {"bytes", KindInt64, 2, "bytes in the flow during the interval"},
	FieldStart:                   {"start", KindInt64, 2, "Unix seconds of the first packet in the interval"},
	FieldEnd:                     {"end", KindInt64, 2, "Unix seconds of the last packet in the interval"},
	FieldAction:                  {"action", KindAction, 2, "ACCEPT or REJECT"},
	FieldLogStatus:               {"log-status", KindLogStatus, 2, "OK, NODATA or SKIPDATA"},
	FieldVPCID:                   {"vpc-id", KindString, 3, "VPC id"},
	FieldSubnetID:                {"subnet-id", KindString, 3, "subnet id"},
	FieldInstanceID:              {"instance-id", KindString, 3, "instance id"},
	FieldTCPFlags:                {"tcp-flags", KindInt32, 3, "OR of TCP flags seen: FIN=1 SYN=2 RST=4 SYN-ACK=18"},
	FieldType:                    {"type", KindString, 3, "IPv4, IPv6 or EFA"},
	FieldPktSrcAddr:              {"pkt-srcaddr", KindAddr, 3, "packet-level source address"},
	FieldPktDstAddr:              {"pkt-dstaddr", KindAddr, 3, "packet-level destination address"},
	FieldRegion:                  {"region", KindString, 4, "region of the network interface"},
	FieldAZID:                    {"az-id", KindString, 4, "availability zone id"},
	FieldSublocationType:         {"sublocation-type", KindString, 4, "wavelength, outpost or localzone"},
	FieldSublocationID:           {"sublocation-id", KindString, 4, "sublocation id"},
	FieldPktSrcAWSService:        {"pkt-src-aws-service", KindString, 5, "AWS service of pkt-srcaddr"},
	FieldPktDstAWSService:        {"pkt-dst-aws-service", KindString, 5, "AWS service of pkt-dstaddr"},
	FieldFlowDirection:           {"flow-direction", KindString, 5, "ingress or egress"},
	FieldTrafficPath:             {"traffic-path", KindInt32, 5, "egress path: 1 VPC, 2 IGW/gateway endpoint, 3 VGW, 4 peering, 5 inter-region peering, 6 local gateway, 7 gateway endpoint, 8 IGW"},
	FieldECSClusterARN:           {"ecs-cluster-arn", KindString, 7, "ECS cluster ARN"},
	FieldECSClusterName:          {"ecs-cluster-name", KindString, 7, "ECS cluster name"},
	FieldECSContainerInstanceARN: {"ecs-container-instance-arn", KindString, 7, "ECS container instance ARN"},
	FieldECSContainerInstanceID:  {"ecs-container-instance-id", KindString, 7, "ECS container instance id"},
	FieldECSContainerID:          {"ecs-container-id", KindString, 7, "Docker runtime id of the first container"},
	FieldECSSecondContainerID:    {"ecs-second-container-id", KindString, 7, "Docker runtime id of the second container"},
	FieldECSServiceName:          {"ecs-service-name", KindString, 7, "ECS service name"},
	FieldECSTaskDefinitionARN:    {"ecs-task-definition-arn", KindString, 7, "ECS task definition ARN"},
	FieldECSTaskARN:              {"ecs-task-arn", KindString, 7, "ECS task ARN"},
	FieldECSTaskID:               {"ecs-task-id", KindString, 7, "ECS task id"},
	FieldRejectReason:            {"reject-reason", KindString, 8, "why the traffic was rejected (BPA)"},
	FieldResourceID:              {"resource-id", KindString, 10, "id of the resource that owns the interface"},
	FieldEncryptionStatus:        {"encryption-status", KindInt32, 10, "0 clear, 1 Nitro-encrypted, 2 application-encrypted, 3 both"},
	FieldInterfaceType:           {"interface-type", KindString, 11, "type of the network interface that recorded the traffic"},
	FieldNextHopInterfaceID:      {"next-hop-interface-id", KindString, 11, "network interface id of the next hop of the traffic"},
	FieldNextHopSubnetID:         {"next-hop-subnet-id", KindString, 11, "subnet id of the next hop"},
	FieldNextHopAZID:             {"next-hop-az-id", KindString, 11, "availability zone id of the next hop"},
	FieldNextHopVPCID:            {"next-hop-vpc-id", KindString, 11, "VPC id of the next hop"},
	FieldNextHopInterfaceType:    {"next-hop-interface-type", KindString, 11, "type of the network interface of the next hop (regional_nat_gateway, ...)"},
	FieldInstanceTag:             {"instance-tag", KindString, 11, "value of the instance tag whose key the flow log names (TagFieldSpecifications)"},
	FieldInterfaceTag:            {"interface-tag", KindString, 11, "value of the network interface tag whose key the flow log names (TagFieldSpecifications)"},
	FieldResourceType:            {"resource-type", KindString, 6, "transit gateway: resource type (TransitGateway)"},
	FieldTGWID:                   {"tgw-id", KindString, 6, "transit gateway id"},
	FieldTGWAttachmentID:         {"tgw-attachment-id", KindString, 6, "transit gateway attachment id"},
	FieldTGWSrcVPCAccountID:      {"tgw-src-vpc-account-id", KindString, 6, "account of the source VPC"},
	FieldTGWDstVPCAccountID:      {"tgw-dst-vpc-account-id", KindString, 6, "account of the destination VPC"},
	FieldTGWSrcVPCID:             {"tgw-src-vpc-id", KindString, 6, "source VPC id"},
	FieldTGWDstVPCID:             {"tgw-dst-vpc-id", KindString, 6, "destination VPC id"},
	FieldTGWSrcSubnetID:          {"tgw-src-subnet-id", KindString, 6, "source subnet id"},
	FieldTGWDstSubnetID:          {"tgw-dst-subnet-id", KindString, 6, "destination subnet id"},
	FieldTGWSrcENI:               {"tgw-src-eni", KindString, 6, "source network interface id"},
	FieldTGWDstENI:               {"tgw-dst-eni", KindString, 6, "destination network interface id"},
	FieldTGWSrcAZID:              {"tgw-src-az-id", KindString, 6, "source availability zone id"},
	FieldTGWDstAZID:              {"tgw-dst-az-id", KindString, 6, "destination availability zone id"},
	FieldTGWPairAttachmentID:     {"tgw-pair-attachment-id", KindString, 6, "paired attachment id"},
	FieldPacketsLostNoRoute:      {"packets-lost-no-route", KindInt64, 6, "packets lost: no route"},
	FieldPacketsLostBlackhole:    {"packets-lost-blackhole", KindInt64, 6, "packets lost: blackhole route"},
	FieldPacketsLostMTUExceeded:  {"packets-lost-mtu-exceeded", KindInt64, 6, "packets lost: MTU exceeded"},
	FieldPacketsLostTTLExpired:   {"packets-lost-ttl-expired", KindInt64, 6, "packets lost: TTL expired"},
}

var fieldByName = func() map[string]Field {
	m := make(map[string]Field, 2*NumFields)
	for f := Field(1); f < numFields; f++ {
		m[fields[f].name] = f
		m[strings.ReplaceAll(fields[f].name, "-", "_")] = f
	}
	return m
}()

// Fields returns every known field, in table order.
func Fields() []Field {
	out := make([]Field, 0, NumFields)
	for f := Field(1); f < numFields; f++ {
		out = append(out, f)
	}
	return out
}

// LookupField returns the field with the given AWS name ("srcaddr",
// "log-status"). The Athena spelling with underscores is accepted too.
func LookupField(name string) (Field, bool) {
	f, ok := fieldByName[name]
	return f, ok
}

// String returns the AWS name of the field, as written in a format string;
// "extra" for FieldExtra.
func (f Field) String() string {
	if f == FieldExtra {
		return "extra"
	}
	if f == 0 || f >= numFields {
		return "unknown"
	}
	return fields[f].name
}

// Column returns the Athena column name: the AWS name with '-' as '_'.
func (f Field) Column() string {
	return strings.ReplaceAll(f.String(), "-", "_")
}

// Kind returns the value type of the field.
func (f Field) Kind() Kind {
	if f >= numFields {
		return KindString
	}
	return fields[f].kind
}

// Version returns the flow-log record version that introduced the field
// (6 for transit-gateway fields, 11 for interface-type, the next hop and
// the EC2 tags).
func (f Field) Version() int {
	if f >= numFields {
		return 0
	}
	return fields[f].version
}

// Doc returns a one-line description of the field.
func (f Field) Doc() string {
	if f >= numFields {
		return ""
	}
	return fields[f].doc
}

// FieldSet is a set of fields, one bit per field and one for FieldExtra.
// The zero value is the empty set; sets compare with == and can key a map.
type FieldSet struct{ w [fieldSetBits / 64]uint64 }

const fieldSetBits = 128

// Has reports whether f is in the set.
func (s FieldSet) Has(f Field) bool { return s.w[f>>6&1]&(1<<(f&63)) != 0 }

// With returns the set with f added.
func (s FieldSet) With(f Field) FieldSet {
	s.w[f>>6&1] |= 1 << (f & 63)
	return s
}

// Without returns the set with f removed.
func (s FieldSet) Without(f Field) FieldSet {
	s.w[f>>6&1] &^= 1 << (f & 63)
	return s
}

// Union returns the fields in s or o.
func (s FieldSet) Union(o FieldSet) FieldSet {
	return FieldSet{[2]uint64{s.w[0] | o.w[0], s.w[1] | o.w[1]}}
}

// Contains reports whether every field of o is in s.
func (s FieldSet) Contains(o FieldSet) bool {
	return o.w[0]&^s.w[0] == 0 && o.w[1]&^s.w[1] == 0
}

// Empty reports whether the set has no field.
func (s FieldSet) Empty() bool { return s.w[0]|s.w[1] == 0 }

// AllFields returns the set of every known field and FieldExtra: "any
// field", for a caller that does not know the format.
func AllFields() FieldSet {
	var s FieldSet
	for f := Field(1); f <= FieldExtra; f++ {
		s = s.With(f)
	}
	return s
}
