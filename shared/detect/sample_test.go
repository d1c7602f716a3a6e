package detect_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/flowlake/flowlake/shared/detect"
	goldenfile "github.com/flowlake/flowlake/shared/golden"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got)
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
