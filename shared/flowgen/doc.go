// Package flowgen generates realistic, seeded flow-log corpora: a mix of
// private and public IPv4 and IPv6 peers, ACCEPT and REJECT, TCP, UDP and
// ICMP, NODATA and SKIPDATA rows, over several accounts and network
// interfaces, in the default or any custom format, plain or gzip, with the
// header line S3 delivery writes.
//
// It may import shared/flowlog only. Tests, the demo and bench use it; no
// Lambda function does.
package flowgen
