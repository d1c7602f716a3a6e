package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/finding"
)

// TestDetectScenarios generates a day per scenario with `gen --scenario`,
// converts it and checks what `detect --json` prints.
func TestDetectScenarios(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		want     []string
	}{
		{"benign", nil},
		{"crypto-mining-port", []string{"crypto-mining-port"}},
		{"ssh-brute-force", []string{"ssh-brute-force", "exposed-admin-port"}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "day.log")
			if code, _, errs := runCmd(t, "", "gen", "--scenario", tc.scenario, "--records", "8000", "--format", "rich", "-o", log); code != 0 {
				t.Fatalf("gen: %d %s", code, errs)
			}
			lakeDir := filepath.Join(dir, "lake")
			if code, _, errs := runCmd(t, "", "convert", "--quiet", "--lake", lakeDir, log); code != 0 {
				t.Fatalf("convert: %d %s", code, errs)
			}
			code, out, errs := runCmd(t, "", "detect", "--lake", lakeDir, "--json", "--internal", "2600:1f18:1234::/48")
			if code != 0 {
				t.Fatalf("detect: %d %s", code, errs)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line == "" {
					continue
				}
				f, err := finding.Unmarshal([]byte(line))
				if err != nil {
					t.Fatalf("detect --json line %q: %v", line, err)
				}
				if err := f.Validate(); err != nil {
					t.Error(err)
				}
				got = append(got, f.Rule)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("detect on %s: rules %v; want %v", tc.scenario, got, tc.want)
			}
			// The readable summary says the same.
			_, text, _ := runCmd(t, "", "detect", "--lake", lakeDir, "--internal", "2600:1f18:1234::/48", "--since", "2026-11-24T00:00:00Z", "--until", "2026-11-25T00:00:00Z")
			if n := len(tc.want); !strings.Contains(text, strconv.Itoa(n)+" findings") {
				t.Errorf("summary: %q", text)
			}
		})
	}
}

func TestDetectFlags(t *testing.T) {
	for _, args := range [][]string{
		{"detect"},
		{"detect", "--lake", "x", "--set", "nope.threshold=1"},
		{"detect", "--lake", "x", "--since", "yesterday"},
		{"detect", "--lake", "x", "--internal", "2600::/7"},
		{"gen", "--scenario", "nope"},
	} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d; want 2", args, code)
		}
	}
	code, out, _ := runCmd(t, "", "detect", "--sql", "--since", "2026-11-24T06:00:00Z", "--until", "2026-11-24T08:00:00Z")
	if code != 0 || !strings.Contains(out, "-- port-scan") || !strings.Contains(out, `("day" = '2026-11-24' AND "hour" IN ('06', '07'))`) {
		t.Errorf("detect --sql: %d\n%s", code, out)
	}
}
