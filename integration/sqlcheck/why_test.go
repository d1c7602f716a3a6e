package sqlcheck

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/why"
)

// TestWhySyntaxAndColumns parses every query `flowlake why` sends, for
// questions whose SQL differs (IPv4 with a port and a protocol, IPv6 with
// neither, a window across midnight, the subnet-neighbour queries in both
// directions) and the Athena saved query with its ? parameters, with
// Trino's grammar, and checks that each reads only the lake's table and
// its columns. A statement only DuckDB accepts must fail.
func TestWhySyntaxAndColumns(t *testing.T) {
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	questions := []struct {
		name string
		q    why.Question
		w    why.Window
	}{
		{"v4 port protocol", why.Question{Src: netip.MustParseAddr("10.0.1.45"), Dst: netip.MustParseAddr("10.0.2.90"), Port: 5432, Protocol: 6},
			why.Window{Since: day, Until: day.Add(24 * time.Hour)}},
		{"v6 any", why.Question{Src: netip.MustParseAddr("2600:1f18:1234::10"), Dst: netip.MustParseAddr("2a05:d014::1")},
			why.Window{Since: day.Add(9*time.Hour + 30*time.Minute), Until: day.Add(11 * time.Hour)}},
		{"across midnight", why.Question{Src: netip.MustParseAddr("94.130.10.20"), Dst: netip.MustParseAddr("10.0.1.11"), Port: 443, Protocol: 17},
			why.Window{Since: day.Add(-90 * time.Minute), Until: day.Add(22*time.Hour + 30*time.Minute)}},
	}
	in := []stack.NamedSQL{{Name: "window of the whole lake", SQL: why.WindowSQL(questions[0].q, time.Time{}, day)}}
	for _, c := range questions {
		in = append(in,
			stack.NamedSQL{Name: "window " + c.name, SQL: why.WindowSQL(c.q, c.w.Since, c.w.Until)},
			stack.NamedSQL{Name: "answer " + c.name, SQL: why.AnswerSQL(c.q, c.w)},
			stack.NamedSQL{Name: "neighbours in " + c.name, SQL: why.NeighboursSQL(c.q, c.w, why.Neighbours{Subnet: "subnet-0b", Exclude: []string{"eni-1", "eni-2"}, Inbound: true})},
			stack.NamedSQL{Name: "neighbours out " + c.name, SQL: why.NeighboursSQL(c.q, c.w, why.Neighbours{Subnet: "subnet-0a"})},
		)
	}
	in = append(in, stack.NamedSQL{Name: "named query " + why.NamedQueryName, SQL: why.NamedQuery()})
	n := len(in)
	in = append(in, stack.NamedSQL{Name: "duckdb integer division", SQL: `SELECT tcp_flags // 2 FROM flows`})
	res := stack.ParseSQL(t, stack.Trino, in)
	for i, r := range res[:n] {
		if !r.OK() {
			t.Errorf("%s: does not parse as Trino (%d statements): %s\n%s", r.Name, r.Statements, strings.Join(r.Errors, "; "), in[i].SQL)
			continue
		}
		for _, p := range columnProblems(r) {
			t.Errorf("%s: %s", r.Name, p)
		}
	}
	if res[n].OK() {
		t.Errorf("%s: Trino's grammar accepted it: the syntax check proves nothing", res[n].Name)
	}
	if got := strings.Count(why.NamedQuery(), "?"); got != 8 || got > 25 {
		t.Errorf("the named query has %d parameters; want 8 (the console takes at most 25)", got)
	}
	t.Logf("Trino grammar: %d why statements parsed", n)
}
