package stack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Pinned tools.
const (
	VersityGW = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	RIE       = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"
)

// Credentials and region of the local S3.
const (
	AccessKey = "flowlake"
	SecretKey = "flowlake-secret"
	Region    = "us-east-1"
)

var installMu sync.Mutex

// RepoRoot returns the folder of go.mod above the working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("stack: no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Tool returns the path of the binary of pkg (module path@version): in
// .cache/bin, installed there with go install if missing.
func Tool(t testing.TB, pkg string) string {
	t.Helper()
	installMu.Lock()
	defer installMu.Unlock()
	path, _, _ := strings.Cut(pkg, "@")
	bin := filepath.Join(RepoRoot(t), ".cache", "bin")
	exe := filepath.Join(bin, filepath.Base(path))
	if _, err := os.Stat(exe); err == nil {
		return exe
	}
	t.Logf("installing %s into %s (once)", pkg, bin)
	cmd := exec.Command("go", "install", pkg)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s: %v\n%s", pkg, err, out)
	}
	return exe
}

// FreeAddr returns a loopback address with a free port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListen(t testing.TB, addr string, logs *syncBuffer, what string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s: %v\n%s", what, addr, err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for a process's output and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// count returns how many times sub occurs in what was written.
func (s *syncBuffer) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Count(s.b.Bytes(), []byte(sub))
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// S3 is a versitygw server with a posix backend: each bucket is the folder
// Root/<bucket>, each object a plain file in it. Its Server can be stopped
// and started again on the same address, with the same objects.
type S3 struct {
	*Server
	Endpoint string // http://127.0.0.1:PORT
	Root     string
	Client   *s3.Client
}

// StartS3 starts versitygw on loopback, stopped when the test ends.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	exe := Tool(t, VersityGW)
	addr := FreeAddr(t)
	root := t.TempDir()
	srv := startServer(t, "versitygw", addr, exe, "--port", addr, "--region", Region, "--access", AccessKey, "--secret", SecretKey, "posix", root)
	s := &S3{Server: srv, Endpoint: "http://" + addr, Root: root}
	s.Client = s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
	return s
}

// Bucket creates a bucket and returns its folder.
func (s *S3) Bucket(t testing.TB, name string) string {
	t.Helper()
	if _, err := s.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return filepath.Join(s.Root, name)
}

// Put uploads body to bucket/key and returns its ETag.
func (s *S3) Put(t testing.TB, bucket, key string, body io.ReadSeeker) string {
	t.Helper()
	out, err := s.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: body})
	if err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
	return aws.ToString(out.ETag)
}

// Env returns the environment a bootstrap needs to reach this S3.
func (s *S3) Env() []string {
	return []string{"FLOWLAKE_S3_ENDPOINT=" + s.Endpoint, "AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_REGION=" + Region}
}

var builds sync.Map // pkg -> *build

type build struct {
	once sync.Once
	path string
	err  error
}

// Bootstrap builds the Lambda function in pkg (such as
// "./functions/ingest-s3", relative to the repository) as a bootstrap for
// linux/amd64, with the deploy flags (CGO_ENABLED=0, -tags lambda.norpc,
// -trimpath), once per test binary, into .cache/build/<name>/bootstrap
// (replaced atomically), and returns its path.
func Bootstrap(t testing.TB, pkg string) string {
	t.Helper()
	root := RepoRoot(t)
	v, _ := builds.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() {
		dir := filepath.Join(root, ".cache", "build", filepath.Base(pkg))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "bootstrap")
		tmp := fmt.Sprintf("%s.%d", b.path, os.Getpid())
		defer os.Remove(tmp)
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", tmp, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
			return
		}
		b.err = os.Rename(tmp, b.path)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Function is a bootstrap running under the Runtime Interface Emulator.
type Function struct {
	URL  string // the invocations endpoint
	cmd  *exec.Cmd
	once sync.Once
	Logs *syncBuffer // the emulator's and the function's output
}

// StartFunction runs bootstrap under the emulator, with env added to the
// test's environment, on free loopback ports (never 9001). It is stopped
// when the test ends.
func StartFunction(t testing.TB, bootstrap string, env ...string) *Function {
	t.Helper()
	exe := Tool(t, RIE)
	addr, api := FreeAddr(t), FreeAddr(t)
	cmd := exec.Command(exe, "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_FUNCTION_TIMEOUT=120", "LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the bootstrap ends with the emulator
	f := &Function{URL: "http://" + addr + "/2015-03-31/functions/function/invocations", cmd: cmd, Logs: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = f.Logs, f.Logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start aws-lambda-rie: %v", err)
	}
	t.Cleanup(func() {
		f.Kill()
		if t.Failed() {
			t.Logf("function output:\n%s", f.Logs.String())
		}
	})
	waitListen(t, addr, f.Logs, "aws-lambda-rie")
	return f
}

// Invoke posts payload and returns the response body. The emulator answers
// 200 even when the handler fails: check the body (errorType).
func (f *Function) Invoke(t testing.TB, payload []byte) []byte {
	t.Helper()
	body, err := f.Post(payload)
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, f.Logs.String())
	}
	return body
}

// Post is Invoke returning an error instead of failing the test: the
// function may have been killed during the invocation.
//
// The response can arrive before the function's output has been copied
// into Logs (the output goes through a pipe, the response over HTTP), so
// Post waits, up to ten seconds, for the emulator's REPORT line of one
// more invocation: the function wrote its lines before it answered, and
// the emulator writes REPORT after.
func (f *Function) Post(payload []byte) ([]byte, error) {
	const report = "REPORT RequestId:"
	before := f.Logs.count(report)
	resp, err := http.Post(f.URL, "application/json", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	for deadline := time.Now().Add(10 * time.Second); err == nil && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if f.Logs.count(report) > before {
			break
		}
	}
	return body, err
}

// Kill ends the emulator and the bootstrap it runs at once (SIGKILL to
// both), as a Lambda environment ends mid-invocation; an invocation in
// flight fails. It does nothing the second time.
func (f *Function) Kill() {
	f.once.Do(func() {
		syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
		f.cmd.Wait()
	})
}

// BootstrapPID returns the process id of the running bootstrap, the
// emulator's child (0 before the first invocation).
func (f *Function) BootstrapPID() int {
	isBootstrap := func(pid int) bool {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		return err == nil && strings.TrimSpace(string(comm)) == "bootstrap"
	}
	// The child may have been started from any thread of the emulator.
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err == nil && strings.Contains(string(st), fmt.Sprintf("\nPPid:\t%d\n", f.cmd.Process.Pid)) && isBootstrap(pid) {
			return pid
		}
	}
	return 0
}

// PeakRSS returns VmHWM (bytes) of process pid: its peak resident set.
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
