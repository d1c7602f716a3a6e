package flowlake

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Function names: each is a main package under functions/<name>, built
// into a bootstrap binary for provided.al2023 on arm64.
const (
	FnIngestS3     = "ingest-s3"
	FnIngestCWLogs = "ingest-cwlogs"
	FnDetect       = "detect"
	FnNotifySlack  = "notify-slack"
)

// EnvBootstrapArch names the GOARCH the bootstraps are built for, for the
// end-to-end tests only (integration/e2e runs the synthesized bootstraps
// on this machine's CPU under the Lambda Runtime Interface Emulator).
// Unset, it is arm64, the architecture the template deploys; nothing else
// about the build or the template changes.
const EnvBootstrapArch = "FLOWLAKE_BOOTSTRAP_GOARCH"

// ErrMissingFunction is returned by BuildFunctions when a function's
// folder does not exist.
var ErrMissingFunction = errors.New("function folder missing")

// RepoRoot returns the folder holding go.mod, at or above dir.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory: run the app from the repository")
		}
		dir = parent
	}
}

// BuildFunctions builds each named function of the module at root with one
// go build (so shared packages compile once) into out/<name>/bootstrap,
// for linux/arm64 without cgo: trimmed paths, stripped, no VCS stamp, so the
// same source gives the same bytes and an unchanged function keeps its
// asset hash. It returns the folder of each function's bootstrap.
func BuildFunctions(root string, names []string, out string) (map[string]string, error) {
	var missing []string
	pkgs := make([]string, 0, len(names))
	for _, n := range names {
		dir := filepath.Join(root, "functions", n)
		if st, err := os.Stat(filepath.Join(dir, "main.go")); err != nil || st.IsDir() {
			missing = append(missing, "functions/"+n)
		}
		pkgs = append(pkgs, "./functions/"+n)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: %w (the app builds every Lambda it deploys from functions/<name>/main.go)",
			strings.Join(missing, ", "), ErrMissingFunction)
	}
	if len(names) == 0 {
		return map[string]string{}, nil // a member stack: `go build` of no package would build the root
	}
	bin := filepath.Join(out, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w -buildid=", "-o", bin + string(filepath.Separator)}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	arch := os.Getenv(EnvBootstrapArch)
	if arch == "" {
		arch = "arm64"
	}
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	dirs := make(map[string]string, len(names))
	for _, n := range names {
		dir := filepath.Join(out, n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(filepath.Join(bin, n), filepath.Join(dir, "bootstrap")); err != nil {
			return nil, fmt.Errorf("bootstrap of %s: %w", n, err)
		}
		dirs[n] = dir
	}
	return dirs, os.Remove(bin)
}
