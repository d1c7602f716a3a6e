package detect

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
)

// Row is one result row: column name to its text, as Athena returns it
// (numbers in decimal, arrays as "[1, 2]"); a NULL column is absent.
type Row map[string]string

// Querier runs one SQL statement and returns its rows. functions/detect
// implements it with Athena, detect/duck with DuckDB.
type Querier interface {
	Query(ctx context.Context, sql string) ([]Row, error)
}

// Lake is the lake engine: every rule as SQL over the lake's partitions.
type Lake struct {
	Set     *Set
	Querier Querier
	Dialect Dialect
	// Samples fetches each finding's sample flows with its evidence query
	// (one more query per finding, pruned to one partition hour).
	Samples bool
}

// Run evaluates every enabled rule over the windows that start in
// [since, until), widened to whole hours, and returns the findings ordered
// by window, rule and ID.
func (l *Lake) Run(ctx context.Context, since, until time.Time) ([]finding.Finding, error) {
	if !until.After(since) {
		return nil, fmt.Errorf("detect %v to %v: empty time range", since, until)
	}
	var out []finding.Finding
	for i, q := range l.Set.Queries(l.Dialect, since, until) {
		c := &l.Set.rules[i]
		rows, err := l.Querier.Query(ctx, q.SQL)
		if err != nil {
			return nil, fmt.Errorf("detect %s: %w", q.Rule, err)
		}
		for _, row := range rows {
			a, err := parseAgg(c, row)
			if err != nil {
				return nil, fmt.Errorf("detect %s: %w", q.Rule, err)
			}
			if !c.rule.fires(&c.s, &a) {
				continue // HAVING already said so; a safety net, not a second opinion
			}
			if l.Samples {
				if a.Samples, err = l.samples(ctx, c, &a); err != nil {
					return nil, fmt.Errorf("detect %s: samples: %w", q.Rule, err)
				}
			}
			out = append(out, l.Set.build(c, &a, finding.EngineLake))
		}
	}
	sortFindings(out)
	return out, nil
}

func (l *Lake) samples(ctx context.Context, c *compiled, a *Agg) ([]finding.Flow, error) {
	rows, err := l.Querier.Query(ctx, l.Dialect.render(l.Set.evidenceSQL(c, a, finding.MaxSampleFlows)))
	if err != nil {
		return nil, err
	}
	out := make([]finding.Flow, 0, len(rows))
	for _, r := range rows {
		p := rowParser{row: r}
		f := finding.Flow{
			InterfaceID: r["interface_id"], SrcAddr: r["srcaddr"], DstAddr: r["dstaddr"],
			SrcPort: int(p.int("srcport")), DstPort: int(p.int("dstport")), Protocol: int(p.int("protocol")),
			Packets: p.int("packets"), Bytes: p.int("bytes"),
			Start: time.Unix(p.int("start"), 0).UTC(), End: time.Unix(p.int("end"), 0).UTC(),
			Action: r["action"], LogStatus: r["log_status"], FlowDirection: r["flow_direction"],
		}
		if p.err != nil {
			return nil, p.err
		}
		out = append(out, f)
	}
	return out, nil
}

type rowParser struct {
	row Row
	err error
}

func (p *rowParser) int(col string) int64 {
	v, ok := p.row[col]
	if !ok || v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("column %s = %q: %w", col, v, err)
	}
	return n
}

// parseAgg reads a row of aggregateSQL.
func parseAgg(c *compiled, r Row) (Agg, error) {
	p := rowParser{row: r}
	a := Agg{
		Account:     r["account"],
		WindowStart: p.int("window_start"),
		Key:         map[Dim]string{},
		PartAccount: r["part_account"], PartRegion: r["part_region"],
		InterfaceID: r["interface_id"], Src: r["src"], Dst: r["dst"],
		Protocol: int(p.int("protocol")),
		Flows:    p.int("flows"), Accepted: p.int("accepted"),
		Bytes: p.int("bytes"), Packets: p.int("packets"), MaxBytes: p.int("max_bytes"),
		Ports: p.int("ports"), Hosts: p.int("hosts"), Sources: p.int("sources"), Conns: p.int("conns"),
		FirstSeen: p.int("first_seen"), LastSeen: p.int("last_seen"),
	}
	for _, d := range c.rule.Entity {
		a.Key[d] = r["key_"+d.name()]
	}
	a.HistDays, a.HistValues = parseList(r["hist_days"]), parseList(r["hist_values"])
	if ll, ok := r["list_label"]; ok {
		a.List, a.Label, _ = strings.Cut(ll, " ") // list names hold no space
	}
	list := strings.Trim(strings.TrimSpace(r["port_list"]), "[]")
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" || s == "null" || s == "NULL" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return a, fmt.Errorf("column port_list = %q: %w", r["port_list"], err)
		}
		a.PortList = append(a.PortList, n)
	}
	return a, p.err
}
