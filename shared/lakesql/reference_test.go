package lakesql

import (
	"context"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/threatlist"
)

// The reference data beside the flows is not flows: flows reads only the
// partition folders (at the lake's root or under a prefix), and
// threat_lists reads the lists, or is empty without them.
func TestThreatListsView(t *testing.T) {
	ctx := context.Background()
	in := "version srcaddr dstaddr start\n2 10.0.0.1 192.0.2.66 1700000000\n2 10.0.0.2 192.0.2.67 1700000000\n"
	for _, prefix := range []string{"", "flows"} {
		dir := t.TempDir()
		c := lake.Converter{Prefix: prefix}
		if _, err := c.Convert(ctx, lake.DirStore{Root: dir}, lake.Source{ID: "x"}, flowlog.NewReader(strings.NewReader(in))); err != nil {
			t.Fatal(err)
		}
		count := func(q string) int {
			db, err := Open(ctx, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int
			if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		}
		if n := count("SELECT count(*) FROM threat_lists"); n != 0 {
			t.Errorf("prefix %q, no lists: %d rows; want 0", prefix, n)
		}
		l, _, err := threatlist.Parse("demo", "", strings.NewReader("192.0.2.66 exit\n198.51.100.0/23 net\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lake.WriteThreatList(ctx, lake.DirStore{Root: dir}, "", l, []byte("192.0.2.66 exit\n")); err != nil {
			t.Fatal(err)
		}
		if n := count("SELECT count(*) FROM flows"); n != 2 {
			t.Errorf("prefix %q: flows has %d rows; want 2", prefix, n)
		}
		if n := count("SELECT count(*) FROM threat_lists WHERE list = 'demo' AND lo <= hi"); n != 3 {
			t.Errorf("prefix %q: threat_lists has %d rows; want 3", prefix, n)
		}
	}
}
