package main

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/queries"
)

// demoRules is what the demo's day must raise: the rules of every
// injected scenario and of the baseline attacks (over the history), each
// once, and nothing else.
func demoRules() []string {
	want := slices.Clone(flowgen.BaselineExpect)
	for _, sc := range flowgen.Scenarios {
		want = append(want, sc.Expect...)
	}
	slices.Sort(want)
	return want
}

var findingLine = regexp.MustCompile(`(?m)^  (LOW|MEDIUM|HIGH|CRITICAL) +(\S+) +\d\d:\d\dZ  `)

// checkDemo checks the printed steps of a demo run and returns the rules
// of its findings.
func checkDemo(t *testing.T, out string) []string {
	t.Helper()
	for _, want := range []string{"== 1. generating", "== 2. ingesting", "one per record", "== 3. scheduled detection",
		"--- the email of finding 1", "WHAT TO CHECK NEXT", "== 4. the 6 saved queries", "== done in", "next:", "flowlake query --lake", "flowlake detect --lake",
		"and one broken connection", "== 5. the broken connection: flowlake why", "verdict: reply-blocked (likely: network-acl)", "flowlake why --lake"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	qs := queries.All()
	first := strings.Index(out, "-- "+qs[0].Name)
	for _, q := range qs[1:] {
		if i := strings.Index(out, "-- "+q.Name); i < first {
			t.Errorf("query %s printed at %d, before %s (%d)", q.Name, i, qs[0].Name, first)
		}
	}
	var rules []string
	for _, m := range findingLine.FindAllStringSubmatch(out, -1) {
		rules = append(rules, m[2])
	}
	slices.Sort(rules)
	return rules
}

// lakeSums returns the MD5 of every file under dir, by relative path.
func lakeSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h := md5.Sum(b)
		rel, _ := filepath.Rel(dir, path)
		sums[rel] = hex.EncodeToString(h[:])
		return nil
	})
	return sums
}

// TestDemo runs the demo at its default size: every injected attack is
// found once and the benign background raises nothing; the raw files
// follow the AWS layout; the Slack messages are saved.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("a day of 200 000 records")
	}
	dir := t.TempDir()
	args := []string{"demo", "--dir", dir, "--day", "2026-11-24"}
	t0 := time.Now()
	code, out, errs := runCmd(t, "", args...)
	if code != 0 {
		t.Fatalf("demo = %d: %s\n%s", code, errs, out)
	}
	t.Logf("demo at the default size: %s", time.Since(t0))
	if got, want := checkDemo(t, out), demoRules(); !slices.Equal(got, want) {
		t.Errorf("findings %v; want %v", got, want)
	}
	slackFiles, _ := filepath.Glob(filepath.Join(dir, "slack", "*.json"))
	if len(slackFiles) != len(demoRules()) {
		t.Errorf("%d Slack messages; want %d", len(slackFiles), len(demoRules()))
	}
	checkREADMEWhy(t, out)
	files, _ := filepath.Glob(filepath.Join(dir, "raw", demoBucket, "AWSLogs", "*", "vpcflowlogs", "us-east-1", "2026", "11", "24", "*_vpcflowlogs_us-east-1_fl-*_2026112[45]T[0-9][0-9][0-9][0-9]Z_*.log.gz"))
	if len(files) != 2*288 {
		t.Errorf("%d raw files in the AWS layout; want 576 (2 accounts × 288 intervals)", len(files))
	}

}

// TestDemoReset: a run with other parameters starts from an empty folder
// rather than mixing two days' rows; the same parameters keep it.
func TestDemoReset(t *testing.T) {
	dir := t.TempDir()
	c := demoConfig{dir: dir}
	st := demoState{Day: "2026-11-24", Records: 10, Seed: 1, Region: "us-east-1", Target: "folder"}
	var log strings.Builder
	if err := demoReset(c, st, &log); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "lake", "x"), 0o755)
	if err := demoReset(c, st, &log); err != nil || log.Len() != 0 {
		t.Fatalf("demoReset, same state = %v, %q", err, log.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "lake", "x")); err != nil {
		t.Errorf("same parameters: the lake was removed")
	}
	st.Day = "2026-11-25"
	if err := demoReset(c, st, &log); err != nil || !strings.Contains(log.String(), "starting afresh") {
		t.Fatalf("demoReset, another day = %v, %q", err, log.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "lake")); !os.IsNotExist(err) {
		t.Errorf("another day: the lake is still there (%v)", err)
	}
}

// TestDemoEndpoint runs a small demo against versitygw, twice: the raw
// objects and the lake are in the bucket, the lake's local copy holds
// them all, and the second run leaves the bucket's lake (named after the
// objects' real ETags) and the findings as they were.
func TestDemoEndpoint(t *testing.T) {
	s := stack.StartS3(t)
	dir := t.TempDir()
	args := []string{"demo", "--dir", dir, "--records", "5000", "--day", "2026-11-24", "--endpoint", s.Endpoint,
		"--bucket", "demo", "--access-key", stack.AccessKey, "--secret-key", stack.SecretKey, "--region", stack.Region}
	code, out, errs := runCmd(t, "", args...)
	if code != 0 {
		t.Fatalf("demo --endpoint = %d: %s\n%s", code, errs, out)
	}
	rules := checkDemo(t, out)
	if len(rules) == 0 {
		t.Errorf("no findings:\n%s", out)
	}
	// The baseline rules read the history's rollups, which the compactor
	// wrote in the bucket and the demo copied for DuckDB.
	for _, r := range flowgen.BaselineExpect {
		if !slices.Contains(rules, r) {
			t.Errorf("no %s finding: the rollups were not in the bucket or not copied; findings %v", r, rules)
		}
	}
	if !strings.Contains(out, "compacted as the compact function does") {
		t.Errorf("the first run wrote no history:\n%s", out)
	}
	inBucket := lakeSums(t, filepath.Join(s.Root, "demo", demoPrefix))
	if copied := lakeSums(t, filepath.Join(dir, "lake", demoPrefix)); len(inBucket) == 0 || !equalMaps(inBucket, copied) {
		t.Errorf("%d Parquet objects in the bucket, %d copied", len(inBucket), len(copied))
	}
	if raw, _ := filepath.Glob(filepath.Join(s.Root, "demo", "AWSLogs", "*")); len(raw) != 2 {
		t.Errorf("raw objects of %d accounts in the bucket; want 2", len(raw))
	}
	find1 := readFile(t, filepath.Join(dir, "findings.jsonl"))

	code, out, errs = runCmd(t, "", args...)
	if code != 0 {
		t.Fatalf("demo again = %d: %s\n%s", code, errs, out)
	}
	if !strings.Contains(out, "already in the lake") {
		t.Errorf("the second run did not keep the history:\n%s", out)
	}
	if again := lakeSums(t, filepath.Join(s.Root, "demo", demoPrefix)); !equalMaps(inBucket, again) {
		t.Errorf("the second run changed the lake: %d objects, then %d", len(inBucket), len(again))
	}
	idsOf := func(s string) []string { return regexp.MustCompile(`"id":"[^"]+"`).FindAllString(s, -1) }
	if find2 := readFile(t, filepath.Join(dir, "findings.jsonl")); !slices.Equal(idsOf(find1), idsOf(find2)) {
		t.Errorf("the second run's findings differ:\n%s\n%s", find1, find2)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// checkREADMEWhy: the README's worked example of flowlake why is the
// answer the demo of 2026-11-24 prints for its broken connection.
func checkREADMEWhy(t *testing.T, out string) {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "$ flowlake why --lake flowlake-demo/lake 10.0.0.10 10.0.1.11 5432\n"
	_, example, ok := strings.Cut(string(readme), cmd)
	example, _, _ = strings.Cut(example, "```")
	_, answer, ok2 := strings.Cut(out, "== 5. the broken connection")
	_, answer, _ = strings.Cut(answer, "\n")
	answer, _, _ = strings.Cut(answer, "answered in")
	if !ok || !ok2 || example != answer {
		t.Errorf("the README's flowlake why example is not the demo's answer; the demo printed:\n%s", answer)
	}
}
