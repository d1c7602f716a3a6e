package detect_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowlake/flowlake/shared/detect"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

// TestSamples pins every rule's sample finding, the input of the
// notifiers' golden tests.
func TestSamples(t *testing.T) {
	var buf bytes.Buffer
	for _, r := range detect.Rules {
		f := r.Sample()
		if err := f.Validate(); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
		if f.Rule != r.ID {
			t.Errorf("Rules[%s].Sample().Rule = %q", r.ID, f.Rule)
		}
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	golden(t, "samples.golden", buf.Bytes())
}
