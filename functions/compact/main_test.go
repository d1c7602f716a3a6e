package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDuckDB keeps DuckDB (cgo, about 68 MB) out of the Lambda binary.
func TestNoDuckDB(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "duckdb") {
		t.Error("functions/compact depends on DuckDB")
	}
}
