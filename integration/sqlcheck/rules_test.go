package sqlcheck

import (
	"bytes"
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/threatlist"
)

// athenaConfigs are rule sets whose SQL differs: the defaults, an
// enumerated Accounts list, and internal prefixes (one of whole octets,
// one a /10 the SQL writes as 64 patterns, an IPv6 block) with changed
// windows, emptied port lists and a disabled rule.
var athenaConfigs = []struct {
	name string
	cfg  detect.Config
}{
	{"defaults", detect.Config{}},
	{"accounts", detect.Config{Accounts: []string{"111122223333", "444455556666"}}},
	{"tuned", detect.Config{
		Accounts:         []string{"111122223333"},
		Account:          "111122223333",
		Region:           "eu-west-1",
		InternalPrefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("100.64.0.0/10"), flowgen.EstateIPv6Prefix},
		Disabled:         []string{"log-gap"},
		Rules: map[string]detect.Settings{
			"port-scan":          {Window: 5 * time.Minute, Ports: []int{}},
			"exposed-admin-port": {Ports: []int{}},
			"large-egress":       {Window: 10 * time.Minute, Threshold: 1 << 40},
		},
	}},
}

// athenaRanges cross midnight: over a whole day and a bit, and from the
// middle of an hour before a new year to the middle of an hour after it.
var athenaRanges = [][2]time.Time{
	{time.Date(2026, 11, 24, 22, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)},
	{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 45, 0, 0, time.UTC)},
}

// TestAthenaSyntax parses, with dt-sql-parser's Trino grammar (generated
// from Trino's own ANTLR grammar; Athena engine v3 runs Trino), the Athena
// form of every rule's aggregate query for several configurations and time
// ranges, every sample finding's evidence query, and the evidence queries
// of the findings the lake engine raises on a generated day. Each must be
// exactly one statement. Statements Trino rejects, one broken and two that
// only DuckDB accepts, must fail, or the check proves nothing.
func TestAthenaSyntax(t *testing.T) {
	var qs []stack.NamedSQL
	for _, c := range athenaConfigs {
		set := detect.MustCompile(c.cfg)
		for _, r := range athenaRanges {
			for _, q := range set.Queries(detect.Athena, r[0], r[1]) {
				if strings.Contains(q.SQL, "regexp_matches") {
					t.Errorf("%s: DuckDB function in the Athena query", q.Rule)
				}
				qs = append(qs, stack.NamedSQL{Name: "aggregate " + q.Rule + " (" + c.name + ", " + r[0].Format(time.RFC3339) + ")", SQL: q.SQL})
			}
		}
	}
	for _, f := range detect.Samples() {
		qs = append(qs, stack.NamedSQL{Name: "sample evidence " + f.Rule, SQL: f.Query})
	}
	lakeFindings := 0
	for _, f := range lakeEngineFindings(t) {
		qs = append(qs, stack.NamedSQL{Name: "lake evidence " + f.Rule + " " + f.ID, SQL: f.Query})
		lakeFindings++
	}
	if lakeFindings == 0 {
		t.Error("the lake engine raised nothing on scenario all: no lake evidence query checked")
	}
	mustFail := []stack.NamedSQL{
		{Name: "broken", SQL: "SELECT count(* FROM flows WHERE"},
		{Name: "duckdb qualify", SQL: `SELECT srcaddr FROM flows QUALIFY row_number() OVER (PARTITION BY srcaddr ORDER BY "start") = 1`},
		{Name: "duckdb cast", SQL: `SELECT "start"::BIGINT FROM flows`},
	}
	res := stack.ParseSQL(t, stack.Trino, append(qs, mustFail...))
	for i, r := range res[:len(qs)] {
		if !r.OK() {
			t.Errorf("%s: does not parse as Trino (%d statements): %s\n%s", r.Name, r.Statements, strings.Join(r.Errors, "; "), qs[i].SQL)
		}
	}
	for _, r := range res[len(qs):] {
		if r.OK() {
			t.Errorf("%s: Trino's grammar accepted it: the syntax check proves nothing", r.Name)
		}
	}
	t.Logf("Trino grammar: %d statements parsed (%d lake evidence queries), %d rejected as they must be", len(qs), lakeFindings, len(mustFail))
}

// lakeEngineFindings runs the lake engine (DuckDB over a local lake) on
// scenario all, every attack in one day, and returns its findings: their
// Query is the Athena evidence query built from real aggregate rows.
func lakeEngineFindings(t *testing.T) []finding.Finding {
	t.Helper()
	var text bytes.Buffer
	cfg := flowgen.Config{Seed: 7, Records: 20000, Span: 24 * time.Hour, Format: flowgen.RichFormat(), Header: true}
	if _, err := flowgen.WriteScenario(&text, cfg, "all"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := lake.Convert(context.Background(), lake.DirStore{Root: dir}, lake.Source{ID: "scenario:all"}, flowlog.NewReader(&text)); err != nil {
		t.Fatalf("lake.Convert: %v", err)
	}
	demo, bad, err := threatlist.Parse(flowgen.DemoThreatListName, "", strings.NewReader(flowgen.DemoThreatList()))
	if err != nil || len(bad) > 0 {
		t.Fatalf("demo list: %v %v", bad, err)
	}
	if _, err := lake.WriteThreatList(context.Background(), lake.DirStore{Root: dir}, "", demo, nil); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC) }
	set := detect.MustCompile(detect.Config{Now: now, InternalPrefixes: []netip.Prefix{flowgen.EstateIPv6Prefix}})
	fs, err := duck.Detect(context.Background(), dir, set, time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("lake engine: %v", err)
	}
	if !slices.ContainsFunc(fs, func(f finding.Finding) bool { return f.Rule == "threat-list-match" }) {
		t.Error("the lake engine found no threat-list-match on scenario all, with the demo list in the lake")
	}
	return fs
}
