package stack

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a server the tests run as a child process on a loopback
// address, which a fault test can stop (SIGKILL: the process ends, its
// connections reset, new ones are refused) and start again on the same
// address, with the same state on disk.
type Server struct {
	Name string
	Addr string // host:port

	exe  string
	args []string
	env  []string
	logs *syncBuffer

	mu  sync.Mutex
	cmd *exec.Cmd
}

// startServer starts exe args on addr and stops it when the test ends.
func startServer(t testing.TB, name, addr, exe string, args ...string) *Server {
	t.Helper()
	s := &Server{Name: name, Addr: addr, exe: exe, args: args, logs: &syncBuffer{}}
	s.Start(t)
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, s.logs.String())
		}
	})
	return s
}

// Start starts the server (again) and waits until it listens.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if err := s.StartErr(); err != nil {
		t.Fatal(err)
	}
}

// StartErr is Start for a goroutine other than the test's: it returns the
// error.
func (s *Server) StartErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("%s: already running", s.Name)
	}
	cmd := exec.Command(s.exe, s.args...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its children end with it
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.Name, err)
	}
	s.cmd = cmd
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not listen on %s: %v\n%s", s.Name, s.Addr, err, s.logs.String())
		}
	}
}

// Stop kills the server (and any process it started) and waits for it to
// end. It does nothing when the server is stopped.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	s.cmd.Wait()
	s.cmd = nil
}

// Running reports whether the server was started and not stopped.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// PID returns the server's process id, 0 when it is stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Logs returns what the server wrote, over all its starts.
func (s *Server) Logs() string { return s.logs.String() }

// IO returns the bytes the server's process has read and written so far
// through system calls (rchar and wchar of /proc/PID/io: files and sockets
// alike), so that a test can stop it in the middle of serving a read.
func (s *Server) IO() (read, written int64, err error) {
	pid := s.PID()
	if pid == 0 {
		return 0, 0, fmt.Errorf("%s is stopped", s.Name)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch k {
		case "rchar":
			read = n
		case "wchar":
			written = n
		}
	}
	return read, written, nil
}

// WaitFor polls cond every few milliseconds until it returns true, and
// reports whether it did within timeout.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(2 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
