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

// V11Format is the "v11" preset: RichFormat's 29 fields, then the six
// version-11 fields a flow log can carry without configuration:
// interface-type and the next hop (its network interface, subnet,
// availability zone, VPC and interface type). Records of this format have
// version 11. The two other version-11 fields, instance-tag and
// interface-tag, record the values of the tag keys a flow log names at
// creation (the EC2 API's TagFieldSpecifications), so a format asks for
// them only along with their keys (the CDK app appends each when
// flowlake:instanceTagKey or flowlake:interfaceTagKey names its key).
const V11Format = RichFormat + " ${interface-type} ${next-hop-interface-id} ${next-hop-subnet-id} ${next-hop-az-id}" +
	" ${next-hop-vpc-id} ${next-hop-interface-type}"
