package email

import (
	"fmt"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify/text"
)

// MaxSubject is the longest subject SNS accepts, in characters.
const MaxSubject = 99

// Subject is the email subject: "[HIGH] Port scan: 1.2.3.4 -> 10.0.0.1
// (111122223333)". It is printable ASCII without line breaks and at most
// MaxSubject characters, as SNS requires; other characters become "?".
func Subject(f *finding.Finding) string {
	s := fmt.Sprintf("[%s] %s (%s)", text.SeverityLabel(f.Severity), text.Headline(f), text.Clean(f.AccountID))
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	s = strings.Join(strings.Fields(string(b)), " ")
	if len(s) > MaxSubject {
		s = s[:MaxSubject-3] + "..."
	}
	return s
}

// Render returns the email text of a finding.
func Render(f *finding.Finding) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	field := func(label, v string) {
		if v != "" {
			w("%-12s %s\n", label+":", v)
		}
	}
	w("%s: %s\n", text.SeverityLabel(f.Severity), text.Headline(f))

	w("\nWHAT HAPPENED\n%s\n", orDash(text.Clean(f.Description)))

	w("\nWHERE\n")
	field("Account", text.Clean(f.AccountID))
	field("Region", text.Clean(f.Region))
	field("Interface", text.Clean(f.InterfaceID))
	field("Source", text.Clean(f.Src))
	field("Destination", text.Clean(f.Dst))
	field("Ports", text.Ports(f.Ports, f.Protocol))

	w("\nHOW BAD\n")
	field("Severity", string(f.Severity))
	field("Role", text.Role(f.Role))
	rule := text.Clean(f.Rule)
	if len(f.Mitre) > 0 {
		rule += " (MITRE " + text.Mitre(f.Mitre) + ")"
	}
	field("Rule", rule)
	field("Count", text.Count(f))
	field("Window", text.Window(f.WindowStart, f.WindowEnd))
	field("Seen", text.Window(f.FirstSeen, f.LastSeen))

	e := &f.Evidence
	w("\nEVIDENCE\n%s.\nDistinct: %s.\n", text.Evidence(e), text.Distinct(e))
	if n := len(e.Samples); n > 0 {
		shown := min(n, text.MaxSampleLines)
		w("Sample flows (%d of %d):\n", shown, n)
		for i := range shown {
			w("  %s\n", text.Flow(&e.Samples[i]))
		}
	}

	w("\nWHAT TO CHECK NEXT\n")
	for i, s := range text.NextSteps(f) {
		w("%d. %s\n", i+1, s)
	}

	if q := strings.TrimSpace(f.Query); q != "" {
		w("\nATHENA QUERY (the flows behind this finding)\n%s\n", cleanLines(q))
	}

	w("\n--\nFinding %s, %s engine, detected %s.\n", text.Clean(f.ID), orDash(text.Clean(string(f.Engine))), stamp(f.Detected))
	return b.String()
}

// cleanLines cleans each line of a multi-line value, keeping its breaks.
func cleanLines(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = text.Clean(l)
	}
	return strings.Join(lines, "\n")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
