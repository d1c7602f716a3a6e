package queries_test

import (
	"bytes"
	"encoding/json"
	"github.com/flowlake/flowlake/integration/stack"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/lake"
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

type parsed struct {
	Name    string   `json:"name"`
	Error   string   `json:"error"`
	Tables  []string `json:"tables"`
	Columns []string `json:"columns"`
}

// TestAthenaSyntaxAndColumns parses every query with node-sql-parser's
// trino dialect (as shared/detect checks its rules) and checks that every
// column it reads is a column or partition key of the lake's table, or an
// alias the query itself defines. A broken query must fail, or the check
// proves nothing.
func TestAthenaSyntaxAndColumns(t *testing.T) {
	root := stack.NodeModules(t, "node-sql-parser")
	type namedSQL struct {
		Name string `json:"name"`
		SQL  string `json:"sql"`
	}
	var in []namedSQL
	for _, q := range queries.All() {
		in = append(in, namedSQL{q.Name, q.SQL})
	}
	in = append(in, namedSQL{"broken", "SELECT count(* FROM flows WHERE"})
	input, _ := json.Marshal(in)
	cmd := exec.Command("node", filepath.Join("testdata", "columns.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(root, "node_modules"))
	cmd.Stdin = bytes.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node columns.js: %v\n%s", err, out)
	}
	var res []parsed
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	known := map[string]bool{}
	for _, c := range lake.TableSchema.Columns() {
		known[c.Name] = true
	}
	for _, k := range lake.PartitionKeys() {
		known[k] = true
	}
	alias := regexp.MustCompile(`(?i)\bAS\s+([a-z_][a-z0-9_]*)`)
	for i, r := range res {
		if r.Name == "broken" {
			if r.Error == "" {
				t.Error("the broken query parsed: the syntax check proves nothing")
			}
			continue
		}
		if r.Error != "" {
			t.Errorf("%s: does not parse as trino: %s\n%s", r.Name, r.Error, in[i].SQL)
			continue
		}
		if len(r.Tables) != 1 || r.Tables[0] != lake.TableName {
			t.Errorf("%s: reads tables %v; want only %s", r.Name, r.Tables, lake.TableName)
		}
		own := map[string]bool{}
		for _, m := range alias.FindAllStringSubmatch(in[i].SQL, -1) {
			own[strings.ToLower(m[1])] = true
		}
		for _, c := range r.Columns {
			if c == "(.*)" || known[c] || own[c] {
				continue
			}
			t.Errorf("%s: column %q is not in the lake's table", r.Name, c)
		}
	}
}
