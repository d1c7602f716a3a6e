package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/why"
	"github.com/flowlake/flowlake/shared/why/whytest"
)

// TestWhy asks the CLI about two scenario lakes: the text answer of a
// blocked connection (golden), the JSON answer of a reset in the v2
// default format, and the usage errors.
func TestWhy(t *testing.T) {
	dir := t.TempDir()
	nacl, _ := flowgen.LookupWhyScenario("blocked-inbound-nacl")
	richLake := filepath.Join(dir, "rich")
	q := whytest.Lake(t, richLake, nacl, "rich")
	code, out, errs := runCmd(t, "", "why", "--lake", richLake, q.Src.String(), q.Dst.String(), "5432", "--protocol", "tcp")
	if code != 0 {
		t.Fatalf("why = %d, %s", code, errs)
	}
	golden(t, "why-blocked-inbound-nacl.golden", out)

	reset, _ := flowgen.LookupWhyScenario("reset")
	defLake := filepath.Join(dir, "default")
	q = whytest.Lake(t, defLake, reset, "default")
	code, out, errs = runCmd(t, "", "why", "--json", "--lake", defLake, "--since", "2026-11-24T08:00:00Z", "--until", "2026-11-24T12:00:00Z",
		q.Src.String(), q.Dst.String(), "5432")
	if code != 0 {
		t.Fatalf("why --json = %d, %s", code, errs)
	}
	var a why.Answer
	if err := json.Unmarshal([]byte(out), &a); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("why --json printed %q: %v; want one JSON object", out, err)
	}
	if a.Verdict != why.Reset || len(a.Evidence) != 4 || a.Window.Default || len(a.Caveats) == 0 {
		t.Errorf("why --json = %s; want reset, 4 evidence groups, the given window and the no-tcp-flags caveat", out)
	}

	code, out, _ = runCmd(t, "", "why", "--sql", "--since", "2026-11-24T08:00:00Z", "--until", "2026-11-24T09:30:00Z", "10.0.0.10", "10.0.1.11", "5432")
	if code != 0 || !strings.Contains(out, `("day" = '2026-11-24' AND "hour" IN ('08', '09'))`) || strings.Count(out, "FROM flows") != 1 {
		t.Errorf("why --sql = %d:\n%s\nwant the answer's SQL, pruned to hours 08 and 09", code, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"10.0.0.1", "10.0.0.2"}, "usage"},
		{[]string{"--lake", richLake, "--athena", "10.0.0.1", "10.0.0.2"}, "usage"},
		{[]string{"--lake", richLake, "10.0.0.1"}, "usage"},
		{[]string{"--lake", richLake, "10.0.0.1", "nope"}, "DST"},
		{[]string{"--lake", richLake, "10.0.0.1", "10.0.0.2", "70000"}, "PORT"},
		{[]string{"--lake", richLake, "--protocol", "sctp", "10.0.0.1", "10.0.0.2"}, "--protocol"},
		{[]string{"--lake", richLake, "10.0.0.1", "10.0.0.1"}, "both 10.0.0.1"},
		{[]string{"--lake", richLake, "--since", "2026-11-24T10:00:00Z", "--until", "2026-11-24T09:00:00Z", "10.0.0.1", "10.0.0.2"}, "empty"},
	} {
		code, _, errs := runCmd(t, "", append([]string{"why"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("why %q = %d, %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}
