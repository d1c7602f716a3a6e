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

// mineExpr says whose side a record is on, from the interface's point of
// view: 'src' or 'dst' when its own side (the source of what it sent, the
// destination of what it received) is that address; for a record with no
// direction, which of the two addresses appear in it ('u-src', 'u-dst',
// 'u-both', 'u-none'); NULL otherwise.
func mineExpr(q Question) string {
	s, d := addr(q.Src), addr(q.Dst)
	return `CASE
        WHEN dir = 'egress' THEN (CASE srcaddr WHEN ` + s + ` THEN 'src' WHEN ` + d + ` THEN 'dst' END)
        WHEN dir = 'ingress' THEN (CASE dstaddr WHEN ` + s + ` THEN 'src' WHEN ` + d + ` THEN 'dst' END)
        WHEN log_status = 'OK' AND dir IS NULL THEN (CASE
          WHEN srcaddr = ` + s + ` OR dstaddr = ` + s + ` THEN (CASE WHEN srcaddr = ` + d + ` OR dstaddr = ` + d + ` THEN 'u-both' ELSE 'u-src' END)
          WHEN srcaddr = ` + d + ` OR dstaddr = ` + d + ` THEN 'u-dst'
          ELSE 'u-none' END)
      END`
}

// AnswerSQL reads, in one scan of w, what Ask weighs, grouped by
// interface, log-status, action and whose side the record is on
// (mineExpr), and for the pair's records also by direction (side request
// or reply), how the interface logged it, reject-reason, protocol and
// tcp-flags; for other records those are NULL. Each group has its records,
// packets, bytes and time span, the interface's metadata, and the newest
// start of a record that involves either address. Ask sums an interface's
// groups and keeps the interfaces that own Src or Dst: narrowing the rows
// to those in SQL would cost a second scan, a subquery's or a window's,
// and a few rows an interface are cheaper than that, even at a thousand
// interfaces to a result page.
func AnswerSQL(q Question, w Window) string {
	onPair := func(e string) string { return "CASE WHEN is_pair THEN " + e + " END" }
	return `SELECT interface_id, log_status, action, mine, side, flow_dir, pair_reason, pair_protocol, pair_flags,
  count(*) AS records,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min("start") AS first_start,
  max("end") AS last_end,
  max(subnet) AS subnet,
  max(vpc) AS vpc,
  max(instance) AS instance,
  max(eni_security_group_ids) AS security_groups,
  max(` + lake.KeyRegion + `) AS region,
  max(CASE WHEN involved THEN "start" END) AS last_involved
FROM (
  SELECT interface_id, log_status, action, packets, bytes, "start", "end", subnet, vpc, instance,
    eni_security_group_ids, ` + lake.KeyRegion + `, involved,
    ` + mineExpr(q) + ` AS mine,
    ` + onPair("(CASE WHEN srcaddr = "+addr(q.Src)+" THEN 'request' ELSE 'reply' END)") + ` AS side,
    ` + onPair("dir") + ` AS flow_dir,
    ` + onPair("reject_reason") + ` AS pair_reason,
    ` + onPair("protocol") + ` AS pair_protocol,
    ` + onPair("tcp_flags") + ` AS pair_flags
  FROM (
    SELECT interface_id, log_status, action, packets, bytes, "start", "end", tcp_flags, srcaddr, dstaddr,
      reject_reason, protocol, eni_security_group_ids, ` + lake.KeyRegion + `,
      ` + dirExpr + ` AS dir,
      ` + subnetExpr + ` AS subnet,
      COALESCE(eni_vpc_id, vpc_id) AS vpc,
      COALESCE(eni_instance_id, instance_id) AS instance,
      ` + involves(q) + ` AS involved,
      (log_status = 'OK' AND ` + strings.ReplaceAll(pairFilter(q), "\n", "\n      ") + `) AS is_pair
    FROM ` + lake.TableName + `
    WHERE ` + strings.ReplaceAll(timeFilter(w.Since, w.Until), "\n", "\n    ") + `
  ) AS r
) AS k
GROUP BY interface_id, log_status, action, mine, side, flow_dir, pair_reason, pair_protocol, pair_flags
ORDER BY interface_id, side, flow_dir, action, pair_flags`
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
