package ocsf

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports guards what the package doc says ocsf imports: the lake's
// table definition and nothing that runs SQL or sits above the lake
// (DuckDB, lakesql, pipeline, a function, the CLI, the CDK).
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	banned := []string{"github.com/duckdb/", "database/sql", "github.com/aws/aws-cdk-go", "github.com/aws/jsii-runtime-go",
		"github.com/flowlake/flowlake/shared/lakesql", "github.com/flowlake/flowlake/shared/pipeline",
		"github.com/flowlake/flowlake/functions", "github.com/flowlake/flowlake/cmd", "github.com/flowlake/flowlake/infra",
		"github.com/flowlake/flowlake/integration"}
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			for _, b := range banned {
				if path == b || strings.HasPrefix(path, b) {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no Go file found")
	}
}
