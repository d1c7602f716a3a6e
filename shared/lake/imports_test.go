package lake

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports guards what the package doc says lake imports: no unsafe (the
// zero-copy string value is shared/internal/pqvalue), no gzip (package
// inflate decompresses), and nothing above the lake (pipeline, functions,
// the CLI, DuckDB).
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	banned := []string{"unsafe", "compress/", "github.com/klauspost/compress", "github.com/duckdb/",
		"github.com/flowlake/flowlake/shared/pipeline", "github.com/flowlake/flowlake/shared/lakesql",
		"github.com/flowlake/flowlake/functions", "github.com/flowlake/flowlake/cmd"}
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
