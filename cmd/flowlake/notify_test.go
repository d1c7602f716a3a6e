package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/notify/slack"
)

// sampleFile writes detect's sample findings of the given rules, one per
// line, and returns the file's path.
func sampleFile(t *testing.T, rules ...string) string {
	t.Helper()
	var b strings.Builder
	for _, f := range detect.Samples() {
		for _, r := range rules {
			if f.Rule == r {
				line, err := f.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				b.Write(append(line, '\n'))
			}
		}
	}
	path := filepath.Join(t.TempDir(), "findings.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNotifyRenderEmail(t *testing.T) {
	code, out, errs := runCmd(t, "", "notify", "--render", "email", sampleFile(t, "ssh-brute-force"))
	if code != 0 {
		t.Fatalf("notify --render email = %d, %s", code, errs)
	}
	golden(t, "notify-email.golden", out)
}

func TestNotifyRenderSlack(t *testing.T) {
	code, out, errs := runCmd(t, "", "notify", "--render", "slack", sampleFile(t, "exposed-database-port"))
	if code != 0 {
		t.Fatalf("notify --render slack = %d, %s", code, errs)
	}
	golden(t, "notify-slack.golden", out)
	var m slack.Message
	if err := json.Unmarshal([]byte(out), &m); err != nil || len(m.Attachments) != 1 {
		t.Errorf("output is not one Slack message: %v", err)
	}
}

func TestNotifyStdinDigestAndSNS(t *testing.T) {
	in, err := os.ReadFile(sampleFile(t, "port-scan", "host-sweep", "large-egress"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, string(in), "notify", "--render", "slack", "--digest", "-")
	if code != 0 || !strings.Contains(out, "3 findings: 2 high, 1 low") {
		t.Errorf("notify --digest = %d, %s%s", code, out, errs)
	}
	code, out, errs = runCmd(t, string(in), "notify", "--render", "sns", "-")
	if code != 0 || strings.Count(out, `"MessageStructure": "json"`) != 3 || !strings.Contains(out, `"severity": "String:high"`) {
		t.Errorf("notify --render sns = %d, %s%s", code, out, errs)
	}
}

func TestNotifyErrors(t *testing.T) {
	if code, _, _ := runCmd(t, "", "notify", "--render", "sms", "x.json"); code != 2 {
		t.Errorf("notify --render sms = %d; want 2", code)
	}
	if code, _, errs := runCmd(t, `{"version":1,"id":"x"}`, "notify", "-"); code != 1 || !strings.Contains(errs, "invalid finding") {
		t.Errorf("notify (invalid finding) = %d, %s", code, errs)
	}
	if code, _, errs := runCmd(t, "", "notify", "-"); code != 1 || !strings.Contains(errs, "no findings") {
		t.Errorf("notify (empty) = %d, %s", code, errs)
	}
}
