// Package flowgen generates realistic, seeded flow-log corpora: a mix of
// private and public IPv4 and IPv6 peers, ACCEPT and REJECT, TCP, UDP and
// ICMP, NODATA and SKIPDATA rows, over several accounts and network
// interfaces, in the default or any custom format, plain or gzip, with the
// header line S3 delivery writes.
package flowgen
