package sqlcheck

import (
	"strings"
	"testing"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/lake"
)

// TestDDLAthenaSyntax parses the lake's CREATE EXTERNAL TABLE, as `flowlake
// ddl` prints it, with dt-sql-parser's Hive grammar (generated from Hive's
// own ANTLR grammar). Athena runs DDL with its Hive engine, not Trino: "With
// some exceptions, Athena DDL is based on HiveQL DDL and Athena DML is based
// on Trino" (SQL reference for Athena,
// https://docs.aws.amazon.com/athena/latest/ug/ddl-sql-reference.html; also
// https://docs.aws.amazon.com/athena/latest/ug/ddl-reference.html). ROW
// FORMAT SERDE, STORED AS INPUTFORMAT … OUTPUTFORMAT and TBLPROPERTIES are
// HiveQL, and Trino's grammar rejects the DDL: it is run on it too, and
// its verdict only logged. A broken DDL and
// Trino's own CREATE TABLE … WITH (…), which Hive rejects, must fail, or
// the check proves nothing.
func TestDDLAthenaSyntax(t *testing.T) {
	var ddl []stack.NamedSQL
	for _, tc := range []struct {
		name string
		opts lake.TableOptions
	}{
		// flowlake ddl's defaults (cmd/flowlake/ddl.go).
		{"flowlake ddl", lake.TableOptions{Name: lake.TableName, Location: "s3://BUCKET/PREFIX/"}},
		{"injected", lake.TableOptions{Location: "s3://example-lake/flows"}},
		{"enum", lake.TableOptions{Name: "vpc_flows", Location: "s3://example-lake/flows/",
			Accounts: []string{"123456789012", "210987654321"}, Regions: []string{"us-east-1", "eu-west-1"}, FirstDay: "2026-01-01"}},
		{"no location", lake.TableOptions{}},
	} {
		ddl = append(ddl, stack.NamedSQL{Name: tc.name, SQL: lake.DDL(lake.TableSchema.Table(tc.opts))})
	}
	ddl = append(ddl, stack.NamedSQL{Name: "threat lists", SQL: lake.DDL(lake.ThreatListsTable("s3://example-lake/"))})
	mustFail := []stack.NamedSQL{
		{Name: "broken", SQL: strings.Replace(ddl[0].SQL, ")\nPARTITIONED BY", "\nPARTITIONED BY", 1)},
		{Name: "trino create table", SQL: "CREATE TABLE flows (srcaddr varchar, day varchar) WITH (format = 'PARQUET', partitioned_by = ARRAY['day'])"},
	}
	res := stack.ParseSQL(t, stack.Hive, append(ddl, mustFail...))
	for i, r := range res[:len(ddl)] {
		if !r.OK() {
			t.Errorf("%s: does not parse as HiveQL (%d statements): %s\n%s", r.Name, r.Statements, strings.Join(r.Errors, "; "), ddl[i].SQL)
		}
	}
	for _, r := range res[len(ddl):] {
		if r.OK() {
			t.Errorf("%s: Hive's grammar accepted it: the syntax check proves nothing", r.Name)
		}
	}
	trino := stack.ParseSQL(t, stack.Trino, ddl)
	for _, r := range trino {
		if r.OK() {
			t.Logf("%s: Trino's grammar accepts it too", r.Name)
		} else {
			t.Logf("%s: Trino's grammar rejects it (expected: Athena runs DDL as HiveQL): %s", r.Name, r.Errors[0])
		}
	}
	t.Logf("Hive grammar: %d DDL statements parsed, %d rejected as they must be", len(ddl), len(mustFail))
}
