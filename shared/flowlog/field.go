package flowlog

import "strings"

// Field identifies one flow-log field, such as FieldSrcAddr for "srcaddr".
// The zero value is FieldUnknown.
type Field uint8

// The fields AWS writes, in the order of the "Available fields" table: VPC
// flow logs v2–v5, v7 (ECS), v8, resource-id and encryption-status, then the
// transit-gateway (v6) fields.
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

// String returns the AWS name of the field, as written in a format string.
func (f Field) String() string {
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
// (6 for transit-gateway fields).
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

// FieldSet is a set of fields, one bit per field.
type FieldSet uint64

// Has reports whether f is in the set.
func (s FieldSet) Has(f Field) bool { return s&(1<<f) != 0 }

// With returns the set with f added.
func (s FieldSet) With(f Field) FieldSet { return s | 1<<f }
