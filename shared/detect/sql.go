package detect

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialect is the SQL engine a query is written for. The rules' SQL is the
// subset Athena (Trino) and DuckDB share; the one difference it meets, the
// regular-expression function, is translated here and nowhere else.
type Dialect uint8

// Dialects.
const (
	Athena Dialect = iota // Athena engine v3 (Trino)
	DuckDB                // DuckDB over the local lake (lakesql)
)

func (d Dialect) String() string {
	if d == DuckDB {
		return "duckdb"
	}
	return "athena"
}

// render turns a query written in the Athena dialect into d.
func (d Dialect) render(q string) string {
	if d == DuckDB {
		// DuckDB has no regexp_like; regexp_matches is the same partial
		// match.
		q = strings.ReplaceAll(q, "regexp_like(", "regexp_matches(")
	}
	return q
}

// quote returns s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// partitionFilter restricts the lake's day and hour partition keys to the
// hours [h0, h1) (Unix hours), so partition projection prunes the scan:
// whole days as day = '…', partial days with an hour IN list.
func partitionFilter(h0, h1 int64) string {
	var parts []string
	for h := h0; h < h1; {
		day := h - h%24
		end := min(day+24, h1)
		d := quote(time.Unix(day*3600, 0).UTC().Format(time.DateOnly))
		if h == day && end == day+24 {
			parts = append(parts, `"day" = `+d)
		} else {
			var hours []string
			for x := h; x < end; x++ {
				hours = append(hours, quote(fmt.Sprintf("%02d", x-day)))
			}
			parts = append(parts, `("day" = `+d+` AND "hour" IN (`+strings.Join(hours, ", ")+`))`)
		}
		h = end
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

func (s *Set) accountFilter() string {
	if len(s.cfg.Accounts) == 0 {
		return ""
	}
	q := make([]string, len(s.cfg.Accounts))
	for i, a := range s.cfg.Accounts {
		q[i] = quote(a)
	}
	return "aws_account IN (" + strings.Join(q, ", ") + ")"
}

// where returns the AND of a rule's conditions in SQL.
func (c *compiled) where() string {
	parts := make([]string, 0, len(c.rule.When))
	for _, cond := range c.rule.When {
		if q := cond.sql(&c.env); q != "" { // "": no condition with these settings
			parts = append(parts, "("+q+")")
		}
	}
	if len(parts) == 0 {
		return "TRUE"
	}
	return strings.Join(parts, "\n  AND ")
}

// accountExpr is the account a flow is grouped under.
const accountExpr = "COALESCE(account_id, aws_account)"

func (c *compiled) windowExpr() string {
	w := int64(c.s.Window / time.Second)
	// Quoted like every other use of start and end: start is not reserved
	// in Trino or DuckDB, but end is in both.
	return fmt.Sprintf(`"start" - "start" %% %d`, w)
}

// Query is one rule's aggregate query over a time range.
type Query struct {
	Rule string
	SQL  string
}

// Queries returns each enabled rule's aggregate query over the windows
// that start in [since, until), widened to whole hours, in dialect d.
func (s *Set) Queries(d Dialect, since, until time.Time) []Query {
	h0 := since.Unix() / 3600
	h1 := (until.Unix() + 3599) / 3600
	out := make([]Query, len(s.rules))
	for i := range s.rules {
		out[i] = Query{Rule: s.rules[i].rule.ID, SQL: d.render(s.aggregateSQL(&s.rules[i], h0, h1))}
	}
	return out
}

// aggregateSQL is the SQL of one rule over the hours [h0, h1). Its columns
// are the same for every rule, so one parser reads them all (parseAgg).
func (s *Set) aggregateSQL(c *compiled, h0, h1 int64) string {
	var b strings.Builder
	win := c.windowExpr()
	fmt.Fprintf(&b, "SELECT %s AS rule,\n  %s AS account,\n  %s AS window_start,\n", quote(c.rule.ID), accountExpr, win)
	group := []string{accountExpr, win}
	for _, d := range c.rule.Entity {
		fmt.Fprintf(&b, "  %s AS key_%s,\n", d.column(), d.name())
		group = append(group, d.column())
	}
	b.WriteString(`  min(aws_account) AS part_account,
  min(aws_region) AS part_region,
  min(interface_id) AS interface_id,
  min(srcaddr) AS src,
  min(dstaddr) AS dst,
  min(protocol) AS protocol,
  count(*) AS flows,
  sum(CASE WHEN action = 'ACCEPT' THEN 1 ELSE 0 END) AS accepted,
  COALESCE(sum(bytes), 0) AS bytes,
  COALESCE(sum(packets), 0) AS packets,
  COALESCE(max(bytes), 0) AS max_bytes,
  count(DISTINCT dstport) AS ports,
  count(DISTINCT dstaddr) AS hosts,
  count(DISTINCT srcaddr) AS sources,
  count(DISTINCT srcport) AS conns,
  array_agg(DISTINCT dstport) AS port_list,
  min("start") AS first_seen,
  max("end") AS last_seen`)
	if c.rule.Join == JoinThreatLists {
		fmt.Fprintf(&b, ",\n  CASE WHEN %s THEN min(dstaddr) ELSE min(srcaddr) END AS peer", s.cls.sqlInternal("min(srcaddr)"))
	}
	if c.rule.Join.ReadsRollups() {
		b.WriteString(",\n  min(\"hour\") AS part_hour") // windows lie in one hour
	}
	b.WriteString(`
FROM flows
WHERE `)
	b.WriteString(partitionFilter(h0, h1))
	if f := s.accountFilter(); f != "" {
		b.WriteString("\n  AND " + f)
	}
	fmt.Fprintf(&b, "\n  AND \"start\" >= %d AND \"start\" < %d\n  AND ", h0*3600, h1*3600)
	b.WriteString(c.where())
	fmt.Fprintf(&b, "\nGROUP BY %s\nHAVING %s", strings.Join(group, ", "), c.rule.having(&c.s))
	if c.rule.Join == JoinThreatLists {
		return threatListsSQL(b.String())
	}
	if c.rule.Join.ReadsRollups() {
		first := time.Unix(h0*3600, 0).UTC().Truncate(24*time.Hour).AddDate(0, 0, -c.s.Days)
		last := time.Unix((h1-1)*3600, 0).UTC().Truncate(24 * time.Hour)
		return s.rollupSQL(b.String(), c.rule.Join, first, last)
	}
	return b.String() + "\nORDER BY window_start, account"
}

// evidenceSQL is the query for the flows behind an aggregate: its
// partition, window, account and entity, and the rule's filter.
func (s *Set) evidenceSQL(c *compiled, a *Agg, limit int) string {
	var b strings.Builder
	b.WriteString(`SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, "start", "end", action, log_status, flow_direction
FROM flows
WHERE `)
	part := a.PartAccount
	if part == "" {
		part = a.Account
	}
	fmt.Fprintf(&b, "aws_account = %s", quote(part))
	if a.PartRegion != "" {
		fmt.Fprintf(&b, " AND aws_region = %s", quote(a.PartRegion))
	}
	h := a.WindowStart / 3600
	b.WriteString(" AND " + partitionFilter(h, h+1))
	w := int64(c.s.Window / time.Second)
	fmt.Fprintf(&b, "\n  AND \"start\" >= %d AND \"start\" < %d\n  AND %s = %s", a.WindowStart, a.WindowStart+w, accountExpr, quote(a.Account))
	for _, d := range c.rule.Entity {
		v := a.Key[d]
		if d == DimDstPort || d == DimProtocol { // integer columns: an integer literal, as Trino wants
			n, _ := strconv.Atoi(v)
			fmt.Fprintf(&b, "\n  AND %s = %d", d.column(), n)
		} else {
			fmt.Fprintf(&b, "\n  AND %s = %s", d.column(), quote(v))
		}
	}
	b.WriteString("\n  AND " + c.where())
	b.WriteString("\nORDER BY \"start\", \"end\", interface_id, srcaddr, dstaddr, srcport, dstport")
	if limit > 0 {
		fmt.Fprintf(&b, "\nLIMIT %d", limit)
	}
	return b.String()
}
