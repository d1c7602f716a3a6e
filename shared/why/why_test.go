package why_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/lakesql"
	"github.com/flowlake/flowlake/shared/why"
	"github.com/flowlake/flowlake/shared/why/whytest"
)

// TestVerdicts asks each why scenario's question of its lake in DuckDB,
// in the rich and the v2 default format, and checks the verdict, the
// likely cause and the evidence's interfaces and subnets. The rich lakes
// find their default window as the CLI's --lake does, the default ones as
// --athena does.
func TestVerdicts(t *testing.T) {
	for _, sc := range flowgen.WhyScenarios {
		for _, format := range whytest.Formats {
			t.Run(sc.Name+"/"+format, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "lake")
				q := whytest.Lake(t, dir, sc, format)
				db, err := lakesql.Open(context.Background(), dir, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if format == "rich" {
					// As flowlake why --lake asks: the whole lake, tried first
					// at its newest hour partition (one query).
					q.Lookback, q.Newest = -1, whytest.Day.Add(23*time.Hour)
				} else {
					// As --athena asks: the newest record within the lookback
					// first (two queries).
					q.Now = whytest.Day.Add(24 * time.Hour)
				}
				a, err := why.Ask(context.Background(), duck.Querier{DB: db}, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range whytest.Check(a, sc, format) {
					t.Error(p)
				}
				if t.Failed() || testing.Verbose() {
					var b strings.Builder
					why.Render(&b, a)
					t.Log("\n" + b.String())
				}
			})
		}
	}
}

// TestEveryVerdictHasAScenario: the vocabulary and the scenarios agree.
func TestEveryVerdictHasAScenario(t *testing.T) {
	has := map[string]bool{}
	for _, sc := range flowgen.WhyScenarios {
		has[sc.Verdict] = true
	}
	for _, v := range why.Verdicts {
		if !has[string(v)] {
			t.Errorf("no why scenario answers %s", v)
		}
		delete(has, string(v))
	}
	for v := range has {
		t.Errorf("a why scenario answers %q, which is not a verdict", v)
	}
}

// TestNamedQuery runs the Athena saved query's SQL with its ? parameters
// bound (DuckDB binds them as Athena's execution parameters do) on the
// connected scenario: every record of the pair, in both directions.
func TestNamedQuery(t *testing.T) {
	sc, _ := flowgen.LookupWhyScenario("connected")
	dir := filepath.Join(t.TempDir(), "lake")
	q := whytest.Lake(t, dir, sc, "rich")
	db, err := lakesql.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	day := whytest.Day.Format("2006-01-02")
	src, dst := q.Src.String(), q.Dst.String()
	rows, err := db.QueryContext(context.Background(), why.NamedQuery(), day, day, src, dst, q.Port, dst, src, q.Port)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, byDir := 0, map[string]int{}
	for rows.Next() {
		var start, end, packets, bytes, proto, sport, dport, flags int64
		var eni, subnet, dir, sa, da, action, status string
		var reason *string
		if err := rows.Scan(&start, &end, &eni, &subnet, &dir, &sa, &sport, &da, &dport, &proto, &action, &reason, &flags, &packets, &bytes, &status); err != nil {
			t.Fatal(err)
		}
		n++
		byDir[sa+" "+dir]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 32 || byDir[src+" egress"] != 8 || byDir[dst+" egress"] != 8 || byDir[src+" ingress"] != 8 {
		t.Errorf("the named query returned %d rows %v; want the 8 attempts' 32 records, 8 at each point", n, byDir)
	}
}
