package compact_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/lakesql"
)

// TestRollup: each compacted partition-hour's rollup holds what DuckDB
// adds up from the hour's flows (egress to addresses that are not ours, by
// interface, protocol and the port of a connection we opened), read by
// DuckDB's own Parquet reader; and a second run, with more sources,
// replaces it.
func TestRollup(t *testing.T) {
	if compact.RollupPrefix+"/" != lake.RollupPrefix {
		t.Fatalf("compact.RollupPrefix %q is not lake.RollupPrefix %q, which the flows view skips", compact.RollupPrefix, lake.RollupPrefix)
	}
	ctx := context.Background()
	root := t.TempDir()
	srcs := testSources(t, 6000, 50)
	ingest(t, root, srcs[:len(srcs)/2]...)
	check := func(when string) {
		t.Helper()
		db, err := lakesql.Open(ctx, root, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ours := func(col string) string {
			return fmt.Sprintf(`regexp_matches(%s, '^(10\.|127\.|169\.254\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|22[4-9]\.|23[0-9]\.|0\.0\.0\.0$|f[cd]..:|fe[89ab].:|ff..:|::1?$)')`, col)
		}
		q := func(sql string) []string {
			t.Helper()
			rows, err := db.QueryContext(ctx, sql)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				out = append(out, s)
			}
			slices.Sort(out)
			return out
		}
		want := q(`SELECT concat_ws('|', aws_account, aws_region, "day", "hour", interface_id, proto, port, n, p, b) FROM (
		  SELECT aws_account, aws_region, "day", "hour", interface_id, COALESCE(protocol, -1) AS proto,
		    CASE WHEN protocol IN (6, 17) AND srcport >= 32768 AND dstport < 32768 THEN dstport ELSE -1 END AS port,
		    count(*) AS n, COALESCE(sum(packets), 0) AS p, COALESCE(sum(bytes), 0) AS b
		  FROM flows
		  WHERE interface_id IS NOT NULL AND dstaddr IS NOT NULL AND NOT ` + ours("dstaddr") + `
		    AND (flow_direction = 'egress' OR (flow_direction IS NULL AND ` + ours("srcaddr") + `))
		  GROUP BY ALL)`)
		got := q(fmt.Sprintf(`SELECT concat_ws('|', aws_account, aws_region, "day", "hour", interface_id, protocol, dstport, flows, packets, bytes)
		FROM read_parquet('%s', hive_partitioning = true, hive_types_autocast = false)`,
			filepath.ToSlash(filepath.Join(root, compact.RollupPrefix, "**", compact.RollupName))))
		if len(want) < 50 || !slices.Equal(got, want) {
			t.Fatalf("%s: rollups hold %d rows, DuckDB adds up %d from the flows:\ngot  %.5q\nwant %.5q", when, len(got), len(want), got, want)
		}
	}
	if _, err := compactor(root).Run(ctx, all); err != nil {
		t.Fatal(err)
	}
	check("first run")
	ingest(t, root, srcs[len(srcs)/2:]...)
	if _, err := compactor(root).Run(ctx, all); err != nil {
		t.Fatal(err)
	}
	check("second run")
}
