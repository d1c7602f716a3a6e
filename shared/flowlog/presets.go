package flowlog

// RichFormat is the "rich" preset: a format string with every field of
// record versions 2 to 5 (29 fields), in the order of AWS's version 5
// example, which differs from the default format's order after
// log-status. It carries what enrichment and detection use
// (flow-direction, the pkt-* addresses, tcp-flags, traffic-path, the AWS
// service names, ...) and leaves out the v6 transit-gateway fields, which
// a VPC flow log cannot have, and the later versions' fields.
const RichFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} " +
	"${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} " +
	"${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} " +
	"${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}"
