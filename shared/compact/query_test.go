package compact_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/lakesql"
)

// queryRows runs SELECT of every column of the table and the partition
// keys over the lake in DuckDB (the flows view, as flowlake query and the
// Athena stand-in read it), each value cast to text, NULL as ∅, and
// returns the rows as a multiset.
func queryRows(t *testing.T, root string) map[string]int {
	t.Helper()
	ctx := context.Background()
	db, err := lakesql.Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cols []string
	for _, c := range lake.TableSchema.Columns() {
		cols = append(cols, fmt.Sprintf("coalesce(CAST(%q AS VARCHAR), '∅')", c.Name))
	}
	for _, k := range lake.PartitionKeys() {
		cols = append(cols, fmt.Sprintf("%q", k))
	}
	rows, err := db.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM flows")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, v := range vals {
			b.WriteString(v.String)
			b.WriteByte('|')
		}
		out[b.String()]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSameRowsInDuckDB: a query over the lake returns the same rows, every
// column with NULLs, before and after compaction, and after a redelivery
// is compacted: read the way flowlake query reads the lake.
func TestSameRowsInDuckDB(t *testing.T) {
	ctx := context.Background()
	srcs := testSources(t, 6000, 50)
	root := t.TempDir()
	ingest(t, root, srcs...)
	before := queryRows(t, root)
	if total(before) != 6000 {
		t.Fatalf("%d rows before; want 6000", total(before))
	}
	if _, err := compactor(root).Run(ctx, all); err != nil {
		t.Fatal(err)
	}
	if d := diffRows(queryRows(t, root), before); d != "" {
		t.Fatalf("after compaction: %s", d)
	}
	ingest(t, root, srcs[:20]...)
	if _, err := compactor(root).Run(ctx, all); err != nil {
		t.Fatal(err)
	}
	if d := diffRows(queryRows(t, root), before); d != "" {
		t.Fatalf("after a redelivery, compacted: %s", d)
	}
}
