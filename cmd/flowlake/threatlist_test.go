package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowgen"
)

// TestThreatList: threat-list import reports bad lines by file, line and
// field and imports the rest; detect --threat-list imports a list and the
// rule fires on the day that talks to it, and not without it.
func TestThreatList(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "day.log")
	if code, _, errs := runCmd(t, "", "gen", "--scenario", "threat-list-match", "--records", "4000", "--format", "rich", "-o", log); code != 0 {
		t.Fatalf("gen: %d %s", code, errs)
	}
	lakeDir := filepath.Join(dir, "lake")
	if code, _, errs := runCmd(t, "", "convert", "--quiet", "--lake", lakeDir, log); code != 0 {
		t.Fatalf("convert: %d %s", code, errs)
	}
	rules := func(args ...string) []string {
		t.Helper()
		code, out, errs := runCmd(t, "", append([]string{"detect", "--lake", lakeDir, "--json", "--internal", "2600:1f18:1234::/48"}, args...)...)
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
				t.Fatal(err)
			}
			got = append(got, f.Rule+": "+f.Description)
		}
		return got
	}
	if got := rules(); len(got) != 0 {
		t.Errorf("no list imported: %v", got)
	}

	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("address,label\n10.0.0.0/8,too wide\n192.0.2.1,ok\nnonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "", "threat-list", "import", "--lake", lakeDir, "vendor", bad)
	if code != 0 || !strings.Contains(errs, bad+`:2: address: IPv4 block shorter than /16 ("10.0.0.0/8")`) ||
		!strings.Contains(errs, bad+`:4: address: not an IPv4 or IPv6 address or CIDR block ("nonsense")`) ||
		!strings.Contains(out, "threat list vendor: 1 entries (2 lines skipped) as 1 rows in "+filepath.Join(lakeDir, "reference", "threat_lists", "vendor.parquet")) {
		t.Errorf("threat-list import: %d\n%s\n%s", code, out, errs)
	}
	for _, args := range [][]string{{"threat-list"}, {"threat-list", "import", "--lake", lakeDir, "x"}, {"threat-list", "import", "x", bad}} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d; want 2", args, code)
		}
	}
	if code, _, _ := runCmd(t, "", "threat-list", "import", "--lake", lakeDir, "a/b", bad); code != 1 {
		t.Errorf("a bad name: exit %d; want 1", code)
	}

	demo := filepath.Join(dir, "demo.txt")
	if err := os.WriteFile(demo, []byte(flowgen.DemoThreatList()), 0o644); err != nil {
		t.Fatal(err)
	}
	got := rules("--threat-list", flowgen.DemoThreatListName+"="+demo)
	if len(got) != 1 || !strings.HasPrefix(got[0], "threat-list-match: ") || !strings.Contains(got[0], "on threat list demo-tor-exits (tor exit (demo))") {
		t.Errorf("detect --threat-list: %v", got)
	}
	if got := rules(); len(got) != 1 {
		t.Errorf("the imported list stays in the lake: %v", got)
	}
}

// TestThreatListBucket: --bucket writes the same objects to the lake bucket.
func TestThreatListBucket(t *testing.T) {
	s := stack.StartS3(t)
	s.Bucket(t, "lake")
	path := filepath.Join(t.TempDir(), "tor.txt")
	if err := os.WriteFile(path, []byte(flowgen.DemoThreatList()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "", "threat-list", "import", "--bucket", "lake", "--endpoint", s.Endpoint, "--access-key", stack.AccessKey,
		"--secret-key", stack.SecretKey, "--region", stack.Region, "tor", path)
	if code != 0 || !strings.Contains(out, "s3://lake/reference/threat_lists/tor.parquet") {
		t.Fatalf("threat-list import --bucket = %d: %s\n%s", code, out, errs)
	}
	for _, key := range []string{"reference/threat_lists/tor.parquet", "reference/threat_list_sources/tor.txt"} {
		if _, err := os.Stat(filepath.Join(s.Root, "lake", filepath.FromSlash(key))); err != nil {
			t.Errorf("s3://lake/%s: %v", key, err)
		}
	}
}
