package main

import (
	"os"
	"strings"
	"testing"

	goldenfile "github.com/flowlake/flowlake/shared/golden"
)

// The README's generated sections equal what the code generates now; run
// with -update to rewrite them.
func TestREADMEGenerated(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for name, gen := range docSections {
		begin := "<!-- BEGIN GENERATED: " + name + " -->\n"
		end := "<!-- END GENERATED: " + name + " -->"
		i := strings.Index(readme, begin)
		j := strings.Index(readme, end)
		if i < 0 || j < i {
			t.Errorf("README.md lacks the %q markers", name)
			continue
		}
		want := gen()
		if got := readme[i+len(begin) : j]; got != want {
			if goldenfile.Update() {
				readme = readme[:i+len(begin)] + want + readme[j:]
				continue
			}
			t.Errorf("README.md section %q is out of date; run go test ./cmd/flowlake -run README -update", name)
		}
	}
	if goldenfile.Update() {
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
