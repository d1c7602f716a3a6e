package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCompactLake: flowlake compact over a folder lake of three converted
// files (three objects per partition-hour) leaves one object per hour, and
// `flowlake query` returns the same rows, every column, NULLs included.
// Converting a file again after the compaction (a redelivery: the same
// object names) adds its rows only until the next compact, which replaces
// them: the rows are the same again. --before leaves younger hours alone.
func TestCompactLake(t *testing.T) {
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	var files []string
	for seed := 1; seed <= 3; seed++ {
		f := filepath.Join(dir, "flows-"+strconv.Itoa(seed)+".log.gz")
		if code, _, errs := runCmd(t, "", "gen", "--records", "3000", "--seed", strconv.Itoa(seed), "--format", "rich", "--gzip",
			"--start", "2026-11-24T00:00:00Z", "--span", "3h", "--accounts", "1", "-o", f); code != 0 {
			t.Fatalf("gen: %d %s", code, errs)
		}
		files = append(files, f)
	}
	if code, _, errs := runCmd(t, "", append([]string{"convert", "--lake", lakeDir, "--account", "123456789012", "--no-enrich", "--quiet"}, files...)...); code != 0 {
		t.Fatalf("convert: %d %s", code, errs)
	}
	rows := func() []string {
		t.Helper()
		code, out, errs := runCmd(t, "", "query", "--lake", lakeDir, "--json", "SELECT * FROM flows")
		if code != 0 {
			t.Fatalf("query: %d %s", code, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		slices.Sort(lines)
		return lines
	}
	perHour := func() map[string]int {
		t.Helper()
		n := map[string]int{}
		filepath.WalkDir(lakeDir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
				n[filepath.Base(filepath.Dir(p))]++
			}
			return nil
		})
		return n
	}
	want := rows()
	before := perHour()
	if len(want) < 9000 || len(before) != 4 || before["hour=01"] != 3 {
		t.Fatalf("the lake: %d rows, objects per hour %v; want 9,000 rows and 3 objects in each of 4 hours (23 to 02)", len(want), before)
	}

	// --before: only the hours that ended by 02:00 (23, 00 and 01).
	code, out, errs := runCmd(t, "", "compact", "--lake", lakeDir, "--before", "2026-11-24T02:00:00Z", "--json")
	if code != 0 {
		t.Fatalf("compact: %d %s %s", code, out, errs)
	}
	var res struct {
		Partitions     int   `json:"partitions"`
		Compacted      int   `json:"compacted"`
		ObjectsRead    int   `json:"objects_read"`
		ObjectsWritten int   `json:"objects_written"`
		PeakRSS        int64 `json:"peak_rss_bytes"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("compact --json: %v\n%s", err, out)
	}
	if res.Partitions != 3 || res.Compacted != 3 || res.ObjectsRead != 9 || res.ObjectsWritten != 3 || res.PeakRSS <= 0 {
		t.Errorf("compact --before 02:00 = %+v; want 3 hours compacted, 9 objects into 3", res)
	}
	if got := perHour(); got["hour=23"] != 1 || got["hour=00"] != 1 || got["hour=01"] != 1 || got["hour=02"] != 3 {
		t.Errorf("objects per hour after compact --before 02:00: %v; want 1, 1, 1 and the last hour left alone (3)", got)
	}
	if got := rows(); !slices.Equal(got, want) {
		t.Fatalf("after compaction the lake holds %d rows; want the same %d rows", len(got), len(want))
	}

	// Every closed hour (the default: ended 3 h ago), in plain text.
	code, out, errs = runCmd(t, "", "compact", "--lake", lakeDir)
	if code != 0 || !strings.Contains(out, "1 compacted") || !strings.Contains(out, "records/s") || !strings.Contains(out, "peak RSS") {
		t.Errorf("compact: %d\n%s%s", code, out, errs)
	}
	for h, n := range perHour() {
		if n != 1 {
			t.Errorf("%s: %d objects after compaction; want 1", h, n)
		}
	}
	if got := rows(); !slices.Equal(got, want) {
		t.Fatalf("after compaction the lake holds %d rows; want the same %d rows", len(got), len(want))
	}

	// A redelivery: the first file converted again, as it was.
	if code, _, errs := runCmd(t, "", "convert", "--lake", lakeDir, "--account", "123456789012", "--no-enrich", "--quiet", files[0]); code != 0 {
		t.Fatalf("convert again: %d %s", code, errs)
	}
	// Until the next run, its rows are there twice (the package's
	// documented window).
	if got := rows(); len(got) <= len(want) {
		t.Errorf("after a redelivery, before compaction: %d rows; want more than %d", len(got), len(want))
	}
	if code, out, errs := runCmd(t, "", "compact", "--lake", lakeDir, "--json"); code != 0 || !strings.Contains(out, `"redelivered": 4`) {
		t.Errorf("compact after the redelivery: %d\n%s%s; want its 4 objects (one an hour) replaced", code, out, errs)
	}
	if got := rows(); !slices.Equal(got, want) {
		t.Fatalf("after a redelivery and a compaction the lake holds %d rows; want the same %d rows", len(got), len(want))
	}

	for _, args := range [][]string{{"compact"}, {"compact", "--lake", lakeDir, "--bucket", "b"}, {"compact", "--lake", lakeDir, "--before", "yesterday"}} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d; want 2", args, code)
		}
	}
	os.RemoveAll(lakeDir)
}
