package queries

import (
	"fmt"
	"strings"

	"github.com/flowlake/flowlake/shared/lake"
)

// Query is one saved query.
type Query struct {
	Name        string // kebab-case, unique, also the Athena named query's name
	Description string // one line, at most 1024 characters
	SQL         string
}

// LookbackDays is how many days back each query reads, today included.
const LookbackDays = 7

// since is the day-partition predicate of every query: the partition is a
// yyyy-MM-dd string, so the bound is today's date less LookbackDays, cast
// back to a date (DuckDB's date − interval is a timestamp) and then to its
// ISO string, in both Trino and DuckDB.
var since = fmt.Sprintf("%s >= CAST(CAST(current_date - INTERVAL '%d' DAY AS DATE) AS VARCHAR)", lake.KeyDay, LookbackDays-1)

// All returns the saved queries in order; the first is the flow-logs
// guide's "top rejected destination ports".
func All() []Query {
	qs := []Query{
		{
			Name:        "top-rejected-destination-ports",
			Description: "Destination ports with the most rejected flows, and how many sources tried each (last 7 days)",
			SQL: `SELECT dstport, protocol, count(*) AS rejected_flows, count(DISTINCT srcaddr) AS sources, sum(packets) AS packets
FROM flows
WHERE {since}
  AND action = 'REJECT'
GROUP BY dstport, protocol
ORDER BY rejected_flows DESC
LIMIT 25`,
		},
		{
			Name:        "top-talkers-by-bytes",
			Description: "Source and destination pairs moving the most bytes (last 7 days)",
			SQL: `SELECT srcaddr, dstaddr, sum(bytes) AS total_bytes, sum(packets) AS total_packets, count(*) AS flows
FROM flows
WHERE {since}
  AND log_status = 'OK'
GROUP BY srcaddr, dstaddr
ORDER BY total_bytes DESC
LIMIT 25`,
		},
		{
			Name:        "rejected-ssh-rdp-from-internet",
			Description: "Rejected SSH (22) and RDP (3389) attempts from public addresses, by source (last 7 days)",
			SQL: `SELECT srcaddr, src_country, src_as_org, dstport, count(*) AS attempts,
  count(DISTINCT dstaddr) AS targets, min(start_time) AS first_seen, max(end_time) AS last_seen
FROM flows
WHERE {since}
  AND action = 'REJECT'
  AND protocol = 6
  AND dstport IN (22, 3389)
  AND src_ip_class = 'public'
GROUP BY srcaddr, src_country, src_as_org, dstport
ORDER BY attempts DESC
LIMIT 100`,
		},
		{
			Name:        "traffic-by-aws-service",
			Description: "Bytes to and from AWS services (pkt-*-aws-service, else the AWS ip-ranges match), by direction (last 7 days)",
			SQL: `SELECT COALESCE(pkt_dst_aws_service, dst_aws_service, pkt_src_aws_service, src_aws_service) AS aws_service,
  direction, sum(bytes) AS total_bytes, sum(packets) AS total_packets, count(*) AS flows
FROM flows
WHERE {since}
  AND COALESCE(pkt_dst_aws_service, dst_aws_service, pkt_src_aws_service, src_aws_service) IS NOT NULL
GROUP BY COALESCE(pkt_dst_aws_service, dst_aws_service, pkt_src_aws_service, src_aws_service), direction
ORDER BY total_bytes DESC
LIMIT 50`,
		},
		{
			Name:        "nodata-skipdata-by-eni",
			Description: "NODATA and SKIPDATA records by network interface: idle interfaces and capacity skips (last 7 days)",
			SQL: `SELECT interface_id, log_status, count(*) AS records, min(start_time) AS first_seen, max(end_time) AS last_seen
FROM flows
WHERE {since}
  AND log_status IN ('NODATA', 'SKIPDATA')
GROUP BY interface_id, log_status
ORDER BY records DESC
LIMIT 100`,
		},
		{
			Name:        "egress-to-internet-by-instance",
			Description: "Accepted egress to public addresses by instance and interface: bytes and distinct destinations (last 7 days)",
			SQL: `SELECT COALESCE(instance_id, eni_instance_id) AS instance, interface_id, sum(bytes) AS total_bytes,
  count(DISTINCT dstaddr) AS destinations, count(*) AS flows
FROM flows
WHERE {since}
  AND action = 'ACCEPT'
  AND direction = 'egress'
  AND dst_ip_class = 'public'
GROUP BY COALESCE(instance_id, eni_instance_id), interface_id
ORDER BY total_bytes DESC
LIMIT 25`,
		},
	}
	for i := range qs {
		qs[i].SQL = strings.ReplaceAll(qs[i].SQL, "{since}", since)
	}
	return qs
}

// Lookup returns the query with the given name.
func Lookup(name string) (Query, bool) {
	for _, q := range All() {
		if q.Name == name {
			return q, true
		}
	}
	return Query{}, false
}
