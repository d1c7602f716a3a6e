package flowlake_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/infra/flowlake"
)

// TestBuildFunctionsMissingFolder: a deployed function without its folder
// fails the synth with the folder's name, before any build.
func TestBuildFunctionsMissingFolder(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "functions", "detect"), 0o755)
	os.WriteFile(filepath.Join(root, "functions", "detect", "main.go"), []byte("package main\nfunc main() {}\n"), 0o644)
	_, err := flowlake.BuildFunctions(root, []string{flowlake.FnDetect, flowlake.FnNotifySlack}, t.TempDir())
	if !errors.Is(err, flowlake.ErrMissingFunction) || !strings.Contains(err.Error(), "functions/notify-slack") ||
		strings.Contains(err.Error(), "functions/detect") {
		t.Errorf("BuildFunctions = %v; want ErrMissingFunction naming functions/notify-slack only", err)
	}
}
