package detect

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
)

// Baseline is what traffic-volume-anomaly judged an interface-hour
// against: the same hour of the history days.
type Baseline struct {
	Days   int   // history days judged (the interface had rollups on each)
	Median int64 // bytes
	MAD    int64 // median absolute deviation, bytes
	Bytes  int64 // Median + K × MAD
}

// ReadsRollups reports whether the join reads the compactor's rollups: the
// rule is the lake engine's only, as the batch engine has no history.
func (j Join) ReadsRollups() bool { return j == JoinVolumeBaseline || j == JoinPortHistory }

// historyDays returns the history days of a group before its window's
// day, at most s.Days back.
func historyDays(s *Settings, a *Agg) []string {
	day := time.Unix(a.WindowStart, 0).UTC().Truncate(24 * time.Hour)
	first := day.AddDate(0, 0, -s.Days).Format(time.DateOnly)
	last := day.Format(time.DateOnly)
	var out []string
	for _, d := range a.HistDays {
		if d >= first && d < last && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// judge reports whether a group that reached its threshold is unusual for
// its interface's history.
func (j Join) judge(s *Settings, a *Agg) bool {
	days := historyDays(s, a)
	if len(days) < s.MinDays || len(days) == 0 {
		return false // a new interface: not enough history
	}
	switch j {
	case JoinVolumeBaseline:
		at := map[string]int64{}
		for _, v := range a.HistValues {
			d, n, ok := strings.Cut(v, "=")
			if x, err := strconv.ParseInt(n, 10, 64); ok && err == nil {
				at[d] += x
			}
		}
		vals := make([]int64, len(days))
		for i, d := range days {
			vals[i] = at[d] // a day with history but no egress that hour: 0
		}
		m := median(vals)
		dev := make([]int64, len(vals))
		for i, v := range vals {
			dev[i] = max(v-m, m-v)
		}
		mad := median(dev)
		b := &Baseline{Days: len(days), Median: m, MAD: mad, Bytes: m + int64(s.K*float64(mad))}
		a.Baseline = b
		return a.Bytes > b.Bytes
	case JoinPortHistory:
		from := time.Unix(a.WindowStart, 0).UTC().AddDate(0, 0, -s.Days)
		to := time.Unix(a.WindowStart, 0).UTC()
		for _, v := range a.HistValues {
			t, err := time.Parse("2006-01-02/15", v)
			if err == nil && !t.Before(from) && t.Before(to) {
				return false // used before
			}
		}
		return true
	}
	return false
}

// median returns the median of vs (the mean of the middle two, rounded
// down, for an even count).
func median(vs []int64) int64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// rollupSQL wraps a baseline rule's aggregate (with its part_hour column)
// in the join with the rollups of the days [firstDay, lastDay]: the
// interface's days of history, and its history of the group. The rollups
// are a few rows per interface-hour, so the history costs a small scan
// however many days it spans; the flows are read for the window only.
func (s *Set) rollupSQL(aggregate string, j Join, firstDay, lastDay time.Time) string {
	var days []string
	for d := firstDay; !d.After(lastDay); d = d.AddDate(0, 0, 1) {
		days = append(days, quote(d.Format(time.DateOnly)))
	}
	where := `"day" IN (` + strings.Join(days, ", ") + `)`
	if f := s.accountFilter(); f != "" {
		where += " AND " + f
	}
	var b strings.Builder
	b.WriteString("WITH g AS (\n" + aggregate + "\n),\n")
	b.WriteString(`h AS (
  SELECT aws_account AS h_account, interface_id AS h_eni, protocol AS h_protocol, dstport AS h_dstport,
    "day" AS h_day, "hour" AS h_hour, sum(bytes) AS h_bytes
  FROM flows_rollup
  WHERE ` + where + `
  GROUP BY aws_account, interface_id, protocol, dstport, "day", "hour"
),
d AS (
  SELECT h_account, h_eni, array_agg(DISTINCT h_day) AS hist_days
  FROM h
  GROUP BY h_account, h_eni
),
`)
	switch j {
	case JoinVolumeBaseline:
		b.WriteString(`v AS (
  SELECT h_account, h_eni, h_hour, array_agg(h_day || '=' || CAST(b AS VARCHAR)) AS hist_values
  FROM (SELECT h_account, h_eni, h_day, h_hour, sum(h_bytes) AS b FROM h GROUP BY h_account, h_eni, h_day, h_hour) x
  GROUP BY h_account, h_eni, h_hour
)
SELECT g.*, d.hist_days, v.hist_values
FROM g
LEFT JOIN d ON d.h_account = g.part_account AND d.h_eni = g.key_eni
LEFT JOIN v ON v.h_account = g.part_account AND v.h_eni = g.key_eni AND v.h_hour = g.part_hour
ORDER BY g.window_start, g.account`)
	default:
		b.WriteString(`p AS (
  SELECT h_account, h_eni, h_protocol, h_dstport, array_agg(h_day || '/' || h_hour) AS hist_values
  FROM h
  WHERE h_dstport >= 0
  GROUP BY h_account, h_eni, h_protocol, h_dstport
)
SELECT g.*, d.hist_days, p.hist_values
FROM g
LEFT JOIN d ON d.h_account = g.part_account AND d.h_eni = g.key_eni
LEFT JOIN p ON p.h_account = g.part_account AND p.h_eni = g.key_eni AND p.h_protocol = g.key_protocol AND p.h_dstport = g.key_dstport
ORDER BY g.window_start, g.account`)
	}
	return b.String()
}

// parseList reads an array column as Athena and detect/duck print it:
// "[a, b]".
func parseList(v string) []string {
	v = strings.Trim(strings.TrimSpace(v), "[]")
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" && e != "null" && e != "NULL" {
			out = append(out, e)
		}
	}
	return out
}

// baselineEvidence adds a baseline to a finding's evidence.
func baselineEvidence(f *finding.Finding, b *Baseline) {
	if b == nil {
		return
	}
	f.Evidence.Thresholds["baseline_bytes"] = b.Bytes
	f.Evidence.Thresholds["baseline_median_bytes"] = b.Median
	f.Evidence.Thresholds["baseline_mad_bytes"] = b.MAD
	f.Evidence.Thresholds["baseline_days"] = int64(b.Days)
}
