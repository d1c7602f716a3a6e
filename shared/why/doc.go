// Package why answers "why can't these two talk?" from the flow records:
// given a source, a destination and optionally a port and a protocol, Ask
// reads the lake's records of the pair in each direction, and of the
// network interfaces that own either address, and returns a verdict from
// a stable vocabulary (Verdicts: connected, reset, blocked-inbound,
// blocked-outbound, reply-blocked, unanswered, lost-in-path, never-sent,
// blocked-by-bpa, not-logged, log-gap, no-coverage), where the records can
// narrow it the likely cause (security-group, network-acl or either), the
// evidence, caveats, and the next checks as aws CLI commands.
//
// The SQL is written once, in the subset of Trino (Athena engine v3) and
// DuckDB that both run unchanged, and every query prunes by the lake's day
// and hour partition keys. It runs through a detect.Querier: DuckDB over a
// local lake (detect/duck) in the flowlake CLI and the tests, Athena
// (detect/athena) in AWS. NamedQuery is the same evidence as an Athena
// saved query with ? execution parameters, InsightsQuery as a CloudWatch
// Logs Insights one.
//
// How the records are read:
//   - A record's side comes from flow-direction, else from the enrichment
//     column direction (the interface's own addresses), else from which of
//     the two addresses appears in every record of the interface. A
//     record logged as egress belongs to the interface of its srcaddr, as
//     ingress to that of its dstaddr.
//   - The request is SRC to DST (to PORT); the reply is DST to SRC (from
//     PORT). A security group is stateful, so it never rejects the reply
//     of a flow it accepted: a rejected reply is a network ACL.
//   - With tcp-flags, a reply with SYN-ACK is a connection and one with
//     RST and no SYN-ACK a reset. Without them (the v2 default format),
//     the reply's ACCEPT stands for the SYN-ACK, and a reply of bare
//     headers only (40 bytes a packet over IPv4, 60 over IPv6) to requests
//     of three packets at most is read as a reset.
//   - A verdict that rests on a missing record (unanswered, lost-in-path,
//     never-sent) becomes log-gap when a SKIPDATA record of an interface
//     that matters overlaps the attempts.
//
// It may import shared/detect (for the Querier and its Row) and
// shared/lake (the table's names). It must not import DuckDB, the AWS SDK
// or anything that writes the lake: the CLI and the tests bring the
// engine.
package why
