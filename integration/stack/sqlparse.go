package stack

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// Grammar is one of dt-sql-parser's grammars, generated from an engine's
// own ANTLR grammar.
type Grammar string

// The grammars Athena runs: Trino for queries (DML), Hive for DDL. The
// Athena docs' "SQL reference for Athena" says so:
// https://docs.aws.amazon.com/athena/latest/ug/ddl-sql-reference.html
// ("Athena DDL is based on HiveQL DDL and Athena DML is based on Trino").
const (
	Trino Grammar = "trino" // TrinoSQL: Athena engine v3's queries
	Hive  Grammar = "hive"  // HiveSQL: Athena's CREATE EXTERNAL TABLE and other DDL
)

// NamedSQL is one statement to parse, named for the messages.
type NamedSQL struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

// ParseResult is what the grammar made of one NamedSQL.
type ParseResult struct {
	Name string `json:"name"`
	// Errors are the parser's syntax errors, "line:column message"; none
	// when the statement parses.
	Errors []string `json:"errors"`
	// Statements is how many statements the text holds when it parses
	// (Athena runs one per query).
	Statements int `json:"statements"`
	// Tables, Columns and Aliases come from the parse tree, for Trino
	// only, lower-cased and unquoted: the tables read, every column
	// reference (as written: "f.day" when qualified), and the names the
	// statement defines itself (select-item and relation aliases, WITH
	// names).
	Tables  []string `json:"tables"`
	Columns []string `json:"columns"`
	Aliases []string `json:"aliases"`
}

// OK reports whether the statement parsed as exactly one statement.
func (r ParseResult) OK() bool { return len(r.Errors) == 0 && r.Statements == 1 }

// ParseSQL parses each statement with dt-sql-parser's grammar g
// (integration/stack/sqlparse.mjs, run by node; npm ci on first use) and
// returns one result per statement, in order. It fails the test, never
// skips it, when the parser cannot run. Callers should include a statement
// the grammar must reject, so the check is seen to be able to fail.
func ParseSQL(t testing.TB, g Grammar, qs []NamedSQL) []ParseResult {
	t.Helper()
	root := NodeModules(t, "dt-sql-parser")
	input, err := json.Marshal(qs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(root, "integration", "stack", "sqlparse.mjs"), string(g))
	cmd.Dir = root
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node sqlparse.mjs %s: %v\n%s", g, err, stderr.Bytes())
	}
	var res []ParseResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node sqlparse.mjs %s: %v\n%s", g, err, out)
	}
	if len(res) != len(qs) {
		t.Fatalf("node sqlparse.mjs %s: %d results for %d statements", g, len(res), len(qs))
	}
	for i := range res {
		if res[i].Name != qs[i].Name {
			t.Fatalf("node sqlparse.mjs %s: result %d is %q; want %q", g, i, res[i].Name, qs[i].Name)
		}
	}
	return res
}
