package queries_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/queries"
)

var kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func TestQueriesAreWellFormed(t *testing.T) {
	qs := queries.All()
	if len(qs) == 0 || qs[0].Name != "top-rejected-destination-ports" {
		t.Fatalf("All()[0] = %q; want the guide's top-rejected-destination-ports first", qs[0].Name)
	}
	seen := map[string]bool{}
	for _, q := range qs {
		if !kebab.MatchString(q.Name) || len(q.Name) > 128 {
			t.Errorf("%q: want a kebab-case name of at most 128 characters", q.Name)
		}
		if seen[q.Name] {
			t.Errorf("%q: duplicate name", q.Name)
		}
		seen[q.Name] = true
		if q.Description == "" || len(q.Description) > 1024 {
			t.Errorf("%q: description of %d characters; want 1 to 1024", q.Name, len(q.Description))
		}
		if !strings.Contains(q.SQL, "day >= CAST(") {
			t.Errorf("%q: no predicate on the day partition", q.Name)
		}
		if got, ok := queries.Lookup(q.Name); !ok || got.SQL != q.SQL {
			t.Errorf("Lookup(%q) = %v, %v; want the query", q.Name, got.Name, ok)
		}
	}
}
