// Package enrichtest builds the inputs of package enrich for tests and
// demos: small MaxMind-format databases (WriteMMDB) and a loopback server
// that answers EC2's DescribeNetworkInterfaces like EC2 does (EC2Server),
// for the real SDK client. ip-ranges.json is written by
// enrich.WriteIPRangesFile.
//
// It is test support: it may import shared/enrich and the AWS SDK, and only
// tests import it.
package enrichtest
