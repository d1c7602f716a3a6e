package why

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/lake"
)

// The SQL below runs unchanged in Athena (Trino) and DuckDB: no function
// that only one of them has, integer arithmetic by % only (Trino's / of
// integers truncates, DuckDB's does not), "start" and "end" quoted.

// dirExpr is a record's direction: the flow log's own flow-direction, else
// the enrichment's direction (from the interface's addresses).
const dirExpr = "COALESCE(flow_direction, direction)"

// subnetExpr is the subnet of the interface that logged a record: the ENI
// metadata's, else the record's subnet-id field.
const subnetExpr = "COALESCE(eni_subnet_id, subnet_id)"

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func addr(a netip.Addr) string { return quote(a.String()) }

// partitionFilter restricts the day and hour partition keys to the hours
// that hold start times in [since, until), so that partition projection
// prunes the scan: whole days as day = '…', partial days with an hour IN
// list. (shared/detect prunes the same way for its rules.)
func partitionFilter(since, until time.Time) string {
	h0 := since.Unix() / 3600
	h1 := (until.Unix() + 3599) / 3600
	if since.Unix() < 0 {
		h0 = 0
	}
	var parts []string
	for h := h0; h < h1; {
		day := h - h%24
		end := min(day+24, h1)
		d := quote(time.Unix(day*3600, 0).UTC().Format(time.DateOnly))
		if h == day && end == day+24 {
			parts = append(parts, `"`+lake.KeyDay+`" = `+d)
		} else {
			var hours []string
			for x := h; x < end; x++ {
				hours = append(hours, quote(fmt.Sprintf("%02d", x-day)))
			}
			parts = append(parts, `("`+lake.KeyDay+`" = `+d+` AND "`+lake.KeyHour+`" IN (`+strings.Join(hours, ", ")+`))`)
		}
		h = end
	}
	switch len(parts) {
	case 0:
		return "FALSE"
	case 1:
		return parts[0]
	}
	return "(" + strings.Join(parts, "\n    OR ") + ")"
}

// timeFilter is the partition filter and the start-time bounds of w.
func timeFilter(since, until time.Time) string {
	return fmt.Sprintf("%s\n  AND \"start\" >= %d AND \"start\" < %d", partitionFilter(since, until), since.Unix(), until.Unix())
}

// involves matches a record with either address on either side.
func involves(q Question) string {
	in := addr(q.Src) + ", " + addr(q.Dst)
	return "(srcaddr IN (" + in + ") OR dstaddr IN (" + in + "))"
}

// pairFilter matches the request (SRC to DST, to PORT) and the reply (DST
// to SRC, from PORT), of the protocol when q names one.
func pairFilter(q Question) string {
	req := fmt.Sprintf("srcaddr = %s AND dstaddr = %s", addr(q.Src), addr(q.Dst))
	rep := fmt.Sprintf("srcaddr = %s AND dstaddr = %s", addr(q.Dst), addr(q.Src))
	if q.Port != 0 {
		req += fmt.Sprintf(" AND dstport = %d", q.Port)
		rep += fmt.Sprintf(" AND srcport = %d", q.Port)
	}
	s := "((" + req + ")\n    OR (" + rep + "))"
	if q.Protocol != 0 {
		s += fmt.Sprintf("\n  AND protocol = %d", q.Protocol)
	}
	return s
}

// WindowSQL finds, among the records that start in [since, until) (a
// zero since: the whole lake, for a local lake where DuckDB reads every
// file anyway, never for Athena), the newest start time of a record that
// involves q's addresses, and the newest of all.
func WindowSQL(q Question, since, until time.Time) string {
	where := timeFilter(since, until)
	if since.IsZero() {
		where = "TRUE"
	}
	return `SELECT max(CASE WHEN ` + involves(q) + ` THEN "start" END) AS last_start,
  max("start") AS newest
FROM ` + lake.TableName + `
WHERE ` + where
}

// ownExpr counts the records of an interface whose own side is a: the
// source of what it sent, the destination of what it received.
func ownExpr(a netip.Addr) string {
	return fmt.Sprintf("sum(CASE WHEN (dir = 'egress' AND srcaddr = %[1]s) OR (dir = 'ingress' AND dstaddr = %[1]s) THEN 1 ELSE 0 END)", addr(a))
}

// undirectedExpr counts the records of an interface with no direction in
// which a appears.
func undirectedExpr(a netip.Addr) string {
	return fmt.Sprintf("sum(CASE WHEN log_status = 'OK' AND dir IS NULL AND (srcaddr = %[1]s OR dstaddr = %[1]s) THEN 1 ELSE 0 END)", addr(a))
}

// AnswerSQL reads, in one scan of w, what Ask weighs: for every interface
// logged in w, one row of its records other than the pair's (side NULL)
// and one row for each group of the pair's records (side request or
// reply, with how it was logged, action, reject-reason and protocol, and
// the TCP flags seen: SYN 2, RST 4, FIN 1, SYN-ACK 18). Every row carries
// the interface's metadata, its record counts by log-status and action,
// and how many records show each address as the interface's own side; an
// interface's totals are the sums of its rows, and Ask keeps only the
// interfaces that own Src or Dst. (Narrowing the rows to those in SQL
// costs a second scan, a subquery's or a window's: an interface's row is
// cheaper than that, even at a thousand interfaces to a result page.)
func AnswerSQL(q Question, w Window) string {
	pair := "log_status = 'OK' AND " + strings.ReplaceAll(pairFilter(q), "\n", " ")
	onPair := func(e string) string { return "CASE WHEN " + pair + " THEN " + e + " END" }
	return `SELECT *
FROM (
  SELECT interface_id, side, flow_dir, pair_action, pair_reason, pair_protocol,
    max(subnet) AS subnet,
    max(vpc) AS vpc,
    max(instance) AS instance,
    max(eni_security_group_ids) AS security_groups,
    max(` + lake.KeyAccount + `) AS account,
    max(` + lake.KeyRegion + `) AS region,
    count(*) AS records,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    min("start") AS first_start,
    max("end") AS last_end,
    count(tcp_flags) AS flagged,
    max(CASE WHEN tcp_flags % 4 >= 2 AND tcp_flags % 32 < 16 THEN 1 ELSE 0 END) AS syn,
    max(CASE WHEN tcp_flags % 4 >= 2 AND tcp_flags % 32 >= 16 THEN 1 ELSE 0 END) AS syn_ack,
    max(CASE WHEN tcp_flags % 8 >= 4 THEN 1 ELSE 0 END) AS rst,
    max(CASE WHEN tcp_flags % 2 = 1 THEN 1 ELSE 0 END) AS fin,
    sum(CASE WHEN log_status = 'OK' THEN 1 ELSE 0 END) AS ok,
    sum(CASE WHEN log_status = 'NODATA' THEN 1 ELSE 0 END) AS nodata,
    sum(CASE WHEN log_status = 'SKIPDATA' THEN 1 ELSE 0 END) AS skipdata,
    min(CASE WHEN log_status = 'SKIPDATA' THEN "start" END) AS skip_first,
    max(CASE WHEN log_status = 'SKIPDATA' THEN "end" END) AS skip_last,
    sum(CASE WHEN action = 'ACCEPT' THEN 1 ELSE 0 END) AS accepted,
    sum(CASE WHEN action = 'REJECT' THEN 1 ELSE 0 END) AS rejected,
    ` + ownExpr(q.Src) + ` AS own_src,
    ` + ownExpr(q.Dst) + ` AS own_dst,
    sum(CASE WHEN log_status = 'OK' AND dir IS NULL THEN 1 ELSE 0 END) AS undirected,
    ` + undirectedExpr(q.Src) + ` AS undirected_src,
    ` + undirectedExpr(q.Dst) + ` AS undirected_dst
  FROM (
    SELECT interface_id, log_status, action, packets, bytes, "start", "end", tcp_flags, srcaddr, dstaddr,
      eni_security_group_ids, ` + lake.KeyAccount + `, ` + lake.KeyRegion + `,
      ` + dirExpr + ` AS dir,
      ` + subnetExpr + ` AS subnet,
      COALESCE(eni_vpc_id, vpc_id) AS vpc,
      COALESCE(eni_instance_id, instance_id) AS instance,
      ` + onPair("(CASE WHEN srcaddr = "+addr(q.Src)+" THEN 'request' ELSE 'reply' END)") + ` AS side,
      ` + onPair(dirExpr) + ` AS flow_dir,
      ` + onPair("action") + ` AS pair_action,
      ` + onPair("reject_reason") + ` AS pair_reason,
      ` + onPair("protocol") + ` AS pair_protocol
    FROM ` + lake.TableName + `
    WHERE ` + strings.ReplaceAll(timeFilter(w.Since, w.Until), "\n", "\n    ") + `
  ) AS r
  GROUP BY interface_id, side, flow_dir, pair_action, pair_reason, pair_protocol
) AS per_interface
ORDER BY interface_id, side`
}

// Neighbours asks about the other interfaces of a subnet: were they sent
// the same request (inbound: from Src; outbound: to Dst), and what did
// they do with it?
type Neighbours struct {
	Subnet  string
	Exclude []string // the pair's own interfaces
	Inbound bool     // records from Src received in Subnet; else sent to Dst from Subnet
}

// NeighboursSQL counts, by interface and action, the records of the other
// interfaces of n.Subnet in w that carry the blocked request's source
// (inbound) or destination (outbound), and how many of them have q's port
// and protocol.
func NeighboursSQL(q Question, w Window, n Neighbours) string {
	var match, dir string
	var same []string
	if n.Inbound {
		match, dir = "srcaddr = "+addr(q.Src), "ingress"
		if q.Port != 0 {
			same = append(same, fmt.Sprintf("dstport = %d", q.Port))
		}
	} else {
		match, dir = "dstaddr = "+addr(q.Dst), "egress"
		if q.Port != 0 {
			same = append(same, fmt.Sprintf("dstport = %d", q.Port))
		}
	}
	if q.Protocol != 0 {
		same = append(same, fmt.Sprintf("protocol = %d", q.Protocol))
	}
	sameExpr := "count(*)"
	if len(same) > 0 {
		sameExpr = "sum(CASE WHEN " + strings.Join(same, " AND ") + " THEN 1 ELSE 0 END)"
	}
	ex := make([]string, len(n.Exclude))
	for i, e := range n.Exclude {
		ex[i] = quote(e)
	}
	s := `SELECT interface_id, action, count(*) AS records, ` + sameExpr + ` AS same_port
FROM ` + lake.TableName + `
WHERE ` + timeFilter(w.Since, w.Until) + `
  AND log_status = 'OK'
  AND ` + subnetExpr + ` = ` + quote(n.Subnet) + `
  AND ` + match + `
  AND (` + dirExpr + ` IS NULL OR ` + dirExpr + ` = '` + dir + `')`
	if len(ex) > 0 {
		s += "\n  AND interface_id NOT IN (" + strings.Join(ex, ", ") + ")"
	}
	return s + "\nGROUP BY interface_id, action\nORDER BY interface_id, action"
}

// NamedQueryName is the name of the Athena saved query of NamedQuery.
const NamedQueryName = "why-src-dst-port"

// NamedQueryDescription describes NamedQuery's parameters, in order.
const NamedQueryDescription = "flowlake why: the records of one connection in each direction, with the interface and subnet that logged each. " +
	"Parameters in order: first day and last day ('yyyy-MM-dd'), source and destination addresses ('10.0.1.45'), port (5432), " +
	"then destination, source and port again (the reply)."

// NamedQuery is the evidence of `flowlake why SRC DST PORT` as an Athena
// saved query with ? execution parameters (only in the WHERE clause, as
// Athena requires): the first and last day, SRC, DST and PORT for the
// request, then DST, SRC and PORT for the reply. String values are entered
// quoted, as in the console's Enter parameters dialog: '2026-11-24'.
func NamedQuery() string {
	return `SELECT "start", "end", interface_id, ` + subnetExpr + ` AS subnet, ` + dirExpr + ` AS flow_dir,
  srcaddr, srcport, dstaddr, dstport, protocol, action, reject_reason, tcp_flags, packets, bytes, log_status
FROM ` + lake.TableName + `
WHERE "` + lake.KeyDay + `" >= ? AND "` + lake.KeyDay + `" <= ?
  AND log_status = 'OK'
  AND ((srcaddr = ? AND dstaddr = ? AND dstport = ?)
    OR (srcaddr = ? AND dstaddr = ? AND srcport = ?))
ORDER BY "start", interface_id, srcaddr
LIMIT 1000`
}

// InsightsQuery is the same evidence as a CloudWatch Logs Insights query
// over a flow-log group, after a parse statement that names the format's
// fields as the lake's columns ('-' as '_'): edit SRC, DST and PORT, and
// pick the time range in the console. It reads srcaddr, dstaddr, srcport,
// dstport, interface-id, action, log-status, packets and bytes, and
// flow-direction and tcp-flags when the format has them (InsightsFields).
func InsightsQuery(hasDirection, hasFlags bool) string {
	by := "interface_id, action, protocol, srcaddr, dstaddr"
	if hasDirection {
		by += ", flow_direction"
	}
	if hasFlags {
		by += ", tcp_flags"
	}
	stats := "count(*) as records, sum(packets) as total_packets, sum(bytes) as total_bytes, min(start) as first_start, max(end) as last_end"
	return `filter log_status = "OK"
| filter (srcaddr = "SRC" and dstaddr = "DST" and dstport = "PORT") or (srcaddr = "DST" and dstaddr = "SRC" and srcport = "PORT")
| stats ` + stats + ` by ` + by + `
| sort first_start asc
| limit 100`
}

// InsightsFields are the flow-log fields InsightsQuery always reads.
var InsightsFields = []string{"srcaddr", "dstaddr", "srcport", "dstport", "protocol", "interface-id", "action", "log-status", "packets", "bytes", "start", "end"}
