package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/flowlake/flowlake/"

// deps runs go list over pattern and returns each package's imports (or,
// with transitive, every dependency), module paths shortened.
func deps(t *testing.T, transitive, tests bool, pattern string) map[string][]string {
	t.Helper()
	field := "Imports"
	if transitive {
		field = "Deps"
	}
	args := []string{"list", "-f", "{{.ImportPath}} {{join ." + field + " \" \"}}"}
	if tests {
		args = append(args, "-test")
	}
	out, err := exec.Command("go", append(args, module+pattern)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pattern, err, out)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(f[0], module)
		for _, d := range f[1:] {
			m[pkg] = append(m[pkg], strings.TrimPrefix(d, module))
		}
	}
	return m
}

// TestArrows: each package imports none of what its layer forbids.
func TestArrows(t *testing.T) {
	flowlakeAbove := func(allowed ...string) func(string) bool {
		return func(d string) bool {
			if !strings.HasPrefix(d, "shared/") && !strings.HasPrefix(d, "functions/") && !strings.HasPrefix(d, "cmd/") &&
				!strings.HasPrefix(d, "infra") && !strings.HasPrefix(d, "integration/") {
				return false
			}
			for _, a := range allowed {
				if d == a || strings.HasPrefix(d, a+"/") {
					return false
				}
			}
			return true
		}
	}
	prefixes := func(ps ...string) func(string) bool {
		return func(d string) bool {
			for _, p := range ps {
				if d == p || strings.HasPrefix(d, p+"/") {
					return true
				}
			}
			return false
		}
	}
	rules := []struct {
		pkg       string // a package, or a prefix ending in "/..."
		forbidden func(dep string) bool
		why       string
	}{
		{"shared/...", prefixes("functions", "cmd", "infra", "integration"), "shared packages never import a function, the CLI, the CDK app or the integration tests"},
		{"shared/flowlog/...", flowlakeAbove("shared/inflate", "shared/internal"), "the parser imports nothing above it"},
		{"shared/inflate", flowlakeAbove(), "decompression stands alone"},
		{"shared/finding", flowlakeAbove(), "findings are plain values"},
		{"shared/emf", flowlakeAbove(), "the metric encoding stands alone"},
		{"shared/threatlist", flowlakeAbove(), "a threat list is plain values"},
		{"shared/enrich", prefixes("shared/lake", "shared/pipeline", "shared/detect", "shared/notify", "shared/schedule", "shared/why"), "enrichment comes before the lake"},
		{"shared/ocsf", flowlakeAbove("shared/lake"), "the OCSF mapping reads the lake's table only; lakesql and infra render it"},
		{"shared/lake/...", prefixes("shared/pipeline", "shared/detect", "shared/notify", "shared/schedule", "shared/why", "shared/lakesql"), "the lake comes before detection"},
		// detect itself; its engines, detect/duck and detect/athena, read the SQL's results.
		{"shared/detect", prefixes("shared/lake", "shared/pipeline", "shared/notify", "shared/schedule"), "detection reads the lake through SQL only"},
		{"shared/notify/...", prefixes("shared/pipeline", "shared/lake", "shared/flowlog", "shared/schedule", "shared/enrich"), "publishing takes findings, not flows"},
		{"shared/schedule/...", prefixes("shared/lake", "shared/pipeline", "shared/lakesql", "shared/detect/duck"), "the scheduled detector reads the lake through Athena only"},
	}
	matches := func(pkg, pattern string) bool {
		if base, ok := strings.CutSuffix(pattern, "/..."); ok {
			return pkg == base || strings.HasPrefix(pkg, base+"/")
		}
		return pkg == pattern
	}
	direct := deps(t, false, false, "shared/...")
	for _, r := range rules {
		for pkg, imports := range direct {
			if !matches(pkg, r.pkg) {
				continue
			}
			for _, d := range imports {
				if r.forbidden(d) {
					t.Errorf("%s imports %s: %s", pkg, d, r.why)
				}
			}
		}
	}
}

// TestSharedTestsNeedNoIntegration: go test ./shared/... needs no npm, no
// network and no server binaries, which only integration/ may use.
func TestSharedTestsNeedNoIntegration(t *testing.T) {
	for pkg, ds := range deps(t, true, true, "shared/...") {
		for _, d := range ds {
			if strings.HasPrefix(d, "integration/") {
				t.Errorf("%s (with its tests) depends on %s", pkg, d)
			}
		}
	}
}

// TestLambdaBinaries: no Lambda binary links DuckDB (cgo, about 68 MB)
// or the CDK.
func TestLambdaBinaries(t *testing.T) {
	got := deps(t, true, false, "functions/...")
	if len(got) < 5 {
		t.Fatalf("go list found %d functions; want 5", len(got))
	}
	for fn, ds := range got {
		for _, d := range ds {
			if strings.Contains(d, "duckdb") || strings.Contains(d, "aws-cdk-go") || strings.Contains(d, "jsii-runtime-go") || d == "shared/lakesql" {
				t.Errorf("%s links %s", fn, d)
			}
		}
	}
}
