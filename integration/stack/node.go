package stack

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NodeModules returns the repository root after making sure the npm dev
// dependencies of package-lock.json are installed (npm ci when pkg is
// missing from node_modules). An exclusive lock on .cache/npm.lock keeps
// test binaries that run at once from installing over each other. It fails
// the test, never skips it, when they cannot be installed.
func NodeModules(t testing.TB, pkg string) string {
	t.Helper()
	root := RepoRoot(t)
	marker := filepath.Join(root, "node_modules", pkg, "package.json")
	if _, err := os.Stat(marker); err == nil {
		return root
	}
	if err := os.MkdirAll(filepath.Join(root, ".cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(root, ".cache", "npm.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("lock %s: %v", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(marker); err == nil {
		return root // another test binary installed it while we waited
	}
	t.Logf("node_modules/%s missing: running npm ci in %s", pkg, root)
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	return root
}

// StartDynamoDB starts dynalite, a DynamoDB-compatible server from the npm
// dev dependencies, on loopback, and returns a real SDK client for it. The
// server is stopped when the test ends.
func StartDynamoDB(t testing.TB) *dynamodb.Client {
	t.Helper()
	return StartDynamoDBServer(t, "").Client
}

// DynamoDB is a dynalite server.
type DynamoDB struct {
	*Server
	URL    string // http://127.0.0.1:PORT
	Client *dynamodb.Client
}

// StartDynamoDBServer starts dynalite on loopback, its tables in memory,
// or, with dir, in a LevelDB store in dir, so that the server can be
// stopped and started again (a fault) with its items. It is stopped when
// the test ends.
func StartDynamoDBServer(t testing.TB, dir string) *DynamoDB {
	t.Helper()
	root := NodeModules(t, "dynalite")
	addr := FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	args := []string{filepath.Join(root, "node_modules", "dynalite", "cli.js"), "--port", port, "--host", "127.0.0.1", "--createTableMs", "0"}
	if dir != "" {
		args = append(args, "--path", dir)
	}
	// node directly, not npx: killing an npx parent can leave node running.
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("dynalite needs node: %v", err)
	}
	srv := startServer(t, "dynalite", addr, node, args...)
	return &DynamoDB{Server: srv, URL: "http://" + addr, Client: dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String("http://" + addr),
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})}
}
