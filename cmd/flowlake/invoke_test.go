package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInvokeS3SQSBatch(t *testing.T) {
	dir := t.TempDir()
	args := []string{"invoke", "s3", "../../events/sqs-s3.json", "--lake", dir, "--raw", "../../events/raw"}
	code, out, errs := runCmd(t, "", args...)
	if code != 0 {
		t.Fatalf("invoke s3 = %d; want 0 (the damaged object keeps its good records)\n%s", code, errs)
	}
	golden(t, "invoke-s3-sqs.golden", out)
	if !strings.Contains(errs, `"level":"WARN","msg":"object damaged`) {
		t.Errorf("stderr lacks the damaged object's log line:\n%s", errs)
	}
	// A redelivery writes the same objects.
	before := lakeFiles(t, dir)
	runCmd(t, "", args...)
	if after := lakeFiles(t, dir); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("redelivery changed the lake: %v; want %v", after, before)
	}
}

func TestInvokeCloudWatch(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCmd(t, "", "invoke", "cwlogs", "../../events/cwlogs-data.json", "--lake", dir)
	if code != 0 {
		t.Fatalf("invoke cwlogs = %d\n%s", code, errs)
	}
	golden(t, "invoke-cwlogs.golden", out)
	code, out, _ = runCmd(t, "", "invoke", "cwlogs", "--lake", dir, "../../events/cwlogs-control.json", "--format", "${srcaddr} ${dstaddr}")
	if code != 0 || !strings.Contains(out, "ignored: control message") {
		t.Errorf("invoke cwlogs control = %d, %q", code, out)
	}
}

func TestInvokeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"invoke"},
		{"invoke", "kinesis", "x.json", "--lake", "d"},
		{"invoke", "s3", "../../events/s3-put.json"},
		{"invoke", "s3", "../../events/s3-put.json", "--lake", "d", "--bucket", "b", "--endpoint", "http://x"},
		{"invoke", "s3", "../../events/s3-put.json", "--lake", t.TempDir()}, // no raw objects
		{"invoke", "cwlogs", "../../events/cwlogs-data.json", "--lake", t.TempDir(), "--format", "${nope}"},
	} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("flowlake %v = %d; want 2", args, code)
		}
	}
}

func lakeFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}
