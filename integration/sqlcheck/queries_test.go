package sqlcheck

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/queries"
)

// TestAthenaSyntaxAndColumns parses every query with dt-sql-parser's Trino
// grammar (generated from Trino's own ANTLR grammar; Athena engine v3 runs
// Trino), as shared/detect checks its rules, and checks from the parse tree
// that it reads only the lake's table and that every column it references
// is a column or partition key of that table, or a name the query itself
// defines. Queries the grammar must reject (one broken, two that only
// DuckDB accepts) and queries the column check must reject show that both
// checks can fail.
func TestAthenaSyntaxAndColumns(t *testing.T) {
	var in []stack.NamedSQL
	for _, q := range queries.All() {
		in = append(in, stack.NamedSQL{Name: q.Name, SQL: q.SQL})
	}
	n := len(in)
	syntaxBad := []stack.NamedSQL{
		{Name: "broken", SQL: "SELECT count(* FROM flows WHERE"},
		{Name: "duckdb exclude", SQL: "SELECT * EXCLUDE (eni_tags) FROM flows"},
		{Name: "duckdb cast", SQL: "SELECT dstport::VARCHAR FROM flows"},
	}
	columnsBad := []stack.NamedSQL{
		{Name: "unknown column", SQL: "SELECT srcaddr, no_such_column FROM flows WHERE day = '2026-11-24'"},
		{Name: "other table", SQL: "SELECT srcaddr FROM other_flows"},
	}
	in = append(append(in, syntaxBad...), columnsBad...)
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
	for _, r := range res[n : n+len(syntaxBad)] {
		if r.OK() {
			t.Errorf("%s: Trino's grammar accepted it: the syntax check proves nothing", r.Name)
		}
	}
	for _, r := range res[n+len(syntaxBad):] {
		if !r.OK() {
			t.Errorf("%s: does not parse: %s", r.Name, strings.Join(r.Errors, "; "))
		} else if len(columnProblems(r)) == 0 {
			t.Errorf("%s: the column check found nothing wrong: it proves nothing", r.Name)
		}
	}
	t.Logf("Trino grammar: %d saved queries parsed, %d rejected as they must be", n, len(syntaxBad))
}

// columnProblems returns what is wrong with the tables and columns a
// parsed query reads: a table other than the lake's, or a column that is
// neither the table's (columns and partition keys) nor one of the query's
// own names (aliases, WITH names). A qualified column must be qualified by
// the table or one of the query's names.
func columnProblems(r stack.ParseResult) []string {
	var out []string
	for _, tb := range r.Tables {
		if tb != lake.TableName && !slices.Contains(r.Aliases, tb) {
			out = append(out, fmt.Sprintf("reads table %q; want only %s", tb, lake.TableName))
		}
	}
	if len(r.Tables) == 0 {
		out = append(out, "reads no table")
	}
	known := map[string]bool{}
	for _, c := range lake.TableSchema.Columns() {
		known[c.Name] = true
	}
	for _, k := range lake.PartitionKeys() {
		known[k] = true
	}
	for _, c := range r.Columns {
		if q, col, ok := strings.Cut(c, "."); ok {
			if q != lake.TableName && !slices.Contains(r.Aliases, q) {
				out = append(out, fmt.Sprintf("column %q: qualifier %q is not the table or a name of the query", c, q))
			}
			c = col
		}
		if !known[c] && !slices.Contains(r.Aliases, c) {
			out = append(out, fmt.Sprintf("column %q is not in the lake's table", c))
		}
	}
	return out
}
