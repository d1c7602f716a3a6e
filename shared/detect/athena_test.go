package detect_test

import (
	"bytes"
	"encoding/json"
	"github.com/flowlake/flowlake/integration/stack"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
)

// nodeModules makes sure the repository's npm dev dependencies are
// installed (npm ci from package-lock.json), and fails the test if they
// cannot be: the Athena syntax check is never skipped.
func nodeModules(t *testing.T, pkg string) string {
	t.Helper()
	return stack.NodeModules(t, pkg)
}

type namedSQL struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

// TestAthenaSyntax parses the Athena form of every rule's query, over a
// range that crosses midnight, and every sample finding's evidence query,
// with a real SQL parser in its trino dialect.
func TestAthenaSyntax(t *testing.T) {
	root := nodeModules(t, "node-sql-parser")
	var qs []namedSQL
	since := time.Date(2026, 11, 24, 22, 0, 0, 0, time.UTC)
	for _, cfg := range []detect.Config{{}, {Accounts: []string{"111122223333", "444455556666"}}} {
		set := detect.MustCompile(cfg)
		for _, q := range set.Queries(detect.Athena, since, since.Add(26*time.Hour)) {
			if strings.Contains(q.SQL, "regexp_matches") {
				t.Errorf("%s: DuckDB function in the Athena query", q.Rule)
			}
			qs = append(qs, namedSQL{"aggregate " + q.Rule, q.SQL})
		}
	}
	for _, f := range detect.Samples() {
		qs = append(qs, namedSQL{"evidence " + f.Rule, f.Query})
	}
	// The parser must also reject a broken query, or the check proves
	// nothing.
	input, _ := json.Marshal(append(qs, namedSQL{"broken", "SELECT count(* FROM flows WHERE"}))
	cmd := exec.Command("node", filepath.Join("testdata", "trino-parse.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(root, "node_modules"))
	cmd.Stdin = bytes.NewReader(input)
	out, _ := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{"broken: "}
	if len(lines) != 2 || !strings.HasPrefix(lines[0], want[0]) {
		t.Fatalf("trino parse: want only the broken query to fail; got:\n%s", out)
	}
	t.Log(lines[len(lines)-1])
}
