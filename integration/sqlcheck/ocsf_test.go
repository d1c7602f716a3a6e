package sqlcheck

import (
	"slices"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/ocsf"
)

// TestOCSFViewTrino parses the SQL of the Glue view flows_ocsf (the
// originalSql the stack encodes in the view's definition) with Trino's
// grammar, as the SELECT and as the CREATE VIEW that makes it by hand, and
// checks from the parse tree that it reads only the flows table and only
// its columns (the map_filter lambda's k and v aside). The same view as
// DuckDB has it (struct_pack, := and a lambda of DuckDB's) and a ROW cast
// with a broken type must not parse: the check can fail.
func TestOCSFViewTrino(t *testing.T) {
	v := ocsf.AthenaView()
	in := []stack.NamedSQL{
		{Name: "flows_ocsf", SQL: v.SQL},
		{Name: "create view flows_ocsf", SQL: `CREATE OR REPLACE VIEW "` + v.Name + `" AS ` + v.SQL},
	}
	bad := []stack.NamedSQL{
		{Name: "duckdb view", SQL: ocsf.DuckDBViewSQL()},
		{Name: "broken row type", SQL: `SELECT CAST(ROW("srcaddr") AS row("ip" varchar,)) AS "src_endpoint" FROM "flows"`},
	}
	res := stack.ParseSQL(t, stack.Trino, append(in, bad...))
	known := map[string]bool{"k": true, "v": true} // map_filter's (k, v) -> v IS NOT NULL
	for _, c := range lake.TableSchema.Columns() {
		known[c.Name] = true
	}
	for _, k := range lake.PartitionKeys() {
		known[k] = true
	}
	for i, r := range res[:len(in)] {
		if !r.OK() {
			t.Errorf("%s: does not parse as Trino (%d statements): %s\n%s", r.Name, r.Statements, strings.Join(r.Errors, "; "), in[i].SQL)
			continue
		}
		if !slices.Equal(r.Tables, []string{lake.TableName}) {
			t.Errorf("%s reads tables %v; want only %s", r.Name, r.Tables, lake.TableName)
		}
		for _, c := range r.Columns {
			if q, col, ok := strings.Cut(c, "."); ok {
				if q != lake.TableName {
					t.Errorf("%s: column %q is qualified by %q, not the table", r.Name, c, q)
				}
				c = col
			}
			if !known[c] {
				t.Errorf("%s: column %q is not in the lake's table", r.Name, c)
			}
		}
		if len(r.Columns) < 40 {
			t.Errorf("%s: %d column references; the view reads more", r.Name, len(r.Columns))
		}
	}
	for _, r := range res[len(in):] {
		if r.OK() {
			t.Errorf("%s: Trino's grammar accepted it: the check proves nothing", r.Name)
		}
	}
}
