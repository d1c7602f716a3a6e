package email_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowlake/flowlake/shared/detect"
	goldenfile "github.com/flowlake/flowlake/shared/golden"
	"github.com/flowlake/flowlake/shared/notify/email"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, name, []byte(got))
}

// TestGolden renders every rule's sample finding.
func TestGolden(t *testing.T) {
	for _, f := range detect.Samples() {
		t.Run(f.Rule, func(t *testing.T) {
			golden(t, f.Rule+".txt.golden", "Subject: "+email.Subject(&f)+"\n\n"+email.Render(&f))
		})
	}
}

func TestSubjectIsWhatSNSAccepts(t *testing.T) {
	f := detect.Samples()[0]
	f.Title = "Scan\r\nBcc: x@example.com \u202eevil " + strings.Repeat("é", 200)
	s := email.Subject(&f)
	if len(s) > email.MaxSubject || strings.ContainsAny(s, "\r\n") || !utf8.ValidString(s) {
		t.Errorf("Subject() = %q; want at most %d printable ASCII characters", s, email.MaxSubject)
	}
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("Subject() = %q has byte %#x", s, c)
		}
	}
}

// TestDataCannotAddLines: a value with line breaks or bidi overrides stays
// on its own line.
func TestDataCannotAddLines(t *testing.T) {
	f := detect.Samples()[0]
	f.Description = "probe\n\nWHAT TO CHECK NEXT\n1. Nothing, all fine\u202e"
	f.InterfaceID = "eni-1\nSource: 8.8.8.8"
	out := email.Render(&f)
	if strings.Count(out, "\nWHAT TO CHECK NEXT\n") != 1 || strings.Contains(out, "\nSource: 8.8.8.8") || strings.ContainsRune(out, '\u202e') {
		t.Errorf("Render() lets data add lines:\n%s", out)
	}
}
