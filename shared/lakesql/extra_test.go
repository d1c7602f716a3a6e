package lakesql

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

// A header file carrying columns no flow-log version defines keeps their
// values in extra (header name → value as written; '-' absent; a record
// with none is NULL); a file whose header has none leaves the column out,
// and the view reads it as NULL there; the version-11 fields are columns.
func TestExtraColumn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	files := map[string]string{
		"new": "version interface-id srcaddr start next-hop-interface-type asg-tag future-field\n" +
			"11 eni-a 10.0.0.1 1700000000 regional_nat_gateway web-asg 42\n" +
			"11 eni-b 10.0.0.2 1700000000 - - 7\n" +
			"11 eni-c 10.0.0.3 1700000000 - - -\n",
		"old": "version interface-id srcaddr start\n" +
			"5 eni-d 10.0.0.4 1700000000\n",
	}
	for id, text := range files {
		if _, err := lake.Convert(ctx, lake.DirStore{Root: dir}, lake.Source{ID: id}, flowlog.NewReader(strings.NewReader(text))); err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT interface_id, coalesce(next_hop_interface_type, 'NULL'), coalesce(CAST(extra AS VARCHAR), 'NULL'),
		coalesce(extra['future-field'], 'NULL'), cardinality(extra) FROM flows ORDER BY interface_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, hop, extra, future string
		var n *int64
		if err := rows.Scan(&id, &hop, &extra, &future, &n); err != nil {
			t.Fatal(err)
		}
		c := "NULL"
		if n != nil {
			c = fmt.Sprint(*n)
		}
		got = append(got, strings.Join([]string{id, hop, extra, future, c}, " "))
	}
	want := []string{
		"eni-a regional_nat_gateway {asg-tag=web-asg, future-field=42} 42 2",
		"eni-b NULL {future-field=7} 7 1",
		"eni-c NULL NULL NULL NULL",
		"eni-d NULL NULL NULL NULL",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Only the new file has an extra column (and the version-11 one).
	var withExtra, objects int
	err = db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(DISTINCT file_name) FILTER (WHERE name = 'extra'), count(DISTINCT file_name)
		FROM parquet_schema(%s)`, globSQL(dir))).Scan(&withExtra, &objects)
	if err != nil || withExtra != 1 || objects != 2 {
		t.Errorf("%d of %d files have an extra column (%v); want 1 of 2", withExtra, objects, err)
	}
}
