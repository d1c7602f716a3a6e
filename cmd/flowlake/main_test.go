package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	goldenfile "github.com/flowlake/flowlake/shared/golden"
)

// TestMain builds flowlake's GeoIP and ASN databases (defaultDatabases)
// before any test runs, as a first command would, so that no test's stderr
// holds the one-time "building ..." line.
func TestMain(m *testing.M) {
	if _, err := defaultDatabases(io.Discard); err != nil {
		fmt.Fprintf(os.Stderr, "flowlake's GeoIP and ASN databases: %v\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// runCmd runs the CLI with args and stdin, and returns its exit status,
// stdout and stderr.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), stdio{strings.NewReader(stdin), &out, &errb}, args)
	return code, out.String(), errb.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, name, []byte(got))
}

func TestUsage(t *testing.T) {
	code, _, errs := runCmd(t, "", "nope")
	if code != 2 || !strings.Contains(errs, `unknown command "nope"`) || !strings.Contains(errs, "parse") {
		t.Errorf("run(nope) = %d, %q", code, errs)
	}
}
