package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

// TestCheck: the same bytes pass, other bytes and a missing file fail, and
// -update writes the file.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	r := &recorder{TB: t}
	if Check(r, "missing.golden", []byte("x")); !r.failed {
		t.Error("a missing golden file passed")
	}
	*update = true
	Check(t, "sub/a.golden", []byte("hello\n"))
	*update = false
	if b, err := os.ReadFile(filepath.Join("testdata", "sub", "a.golden")); err != nil || string(b) != "hello\n" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}
	r = &recorder{TB: t}
	if Check(r, "sub/a.golden", []byte("hello\n")); r.failed {
		t.Error("the same bytes failed")
	}
	if Check(r, "sub/a.golden", []byte("hullo\n")); !r.failed {
		t.Error("different bytes passed")
	}
}
