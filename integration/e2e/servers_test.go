package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goaws "github.com/Admiral-Piett/goaws/app"
	goawsrouter "github.com/Admiral-Piett/goaws/app/router"
	"github.com/sirupsen/logrus"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/notify/slack"
)

// snsDown, while set, makes the SNS server answer every Publish with a
// 500, as SNS does when it is unavailable.
var snsDown atomic.Bool

// startGoaws runs goaws in-process on loopback (its state is global: one
// per test binary, which this package is) and returns its URL. While
// snsDown is set, Publish fails.
func startGoaws(t *testing.T) string {
	t.Helper()
	logrus.SetOutput(io.Discard)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	goaws.CurrentEnvironment.Host = "127.0.0.1"
	goaws.CurrentEnvironment.Port = port
	goaws.CurrentEnvironment.Region = stack.Region
	goaws.CurrentEnvironment.AccountID = "111122223333"
	router := goawsrouter.New()
	faulty := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if snsDown.Load() {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			if bytes.Contains(b, []byte("Action=Publish")) {
				http.Error(w, "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>unavailable</Message></Error></ErrorResponse>", http.StatusInternalServerError)
				return
			}
		}
		router.ServeHTTP(w, r)
	})
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: faulty}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// subscriber is the topic's HTTP subscriber: it confirms the subscription
// and keeps every notification.
type subscriber struct {
	mu            sync.Mutex
	notifications []delivered
}

// delivered is an SNS HTTP notification, as SNS documents its JSON.
type delivered struct {
	Type, MessageId, TopicArn, Subject, Message string
}

func (s *subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	switch r.Header.Get("x-amz-sns-message-type") {
	case "SubscriptionConfirmation":
		var m struct{ SubscribeURL string }
		json.Unmarshal(b, &m)
		go func() { // confirm as a subscriber does, after answering
			if resp, err := http.Get(m.SubscribeURL); err == nil {
				resp.Body.Close()
			}
		}()
	case "Notification":
		var n delivered
		if err := json.Unmarshal(b, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.notifications = append(s.notifications, n)
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (s *subscriber) all() []delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notifications)
}

// hook is the loopback Slack webhook: it records each payload.
type hook struct {
	mu       sync.Mutex
	payloads []slack.Message
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != hookPath {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	var m slack.Message
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.payloads = append(h.payloads, m)
	h.mu.Unlock()
	io.WriteString(w, "ok")
}

// secrets is a loopback Secrets Manager (JSON protocol) holding the
// webhook URL.
func secrets(t *testing.T, value string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != secretID {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"no such secret"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:" + secretID, "Name": secretID, "SecretString": value})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// startDynalite runs dynalite (npm) on loopback, as shared/dedup's tests
// do, and returns its URL.
func startDynalite(t *testing.T) string {
	t.Helper()
	root := stack.RepoRoot(t)
	cli := filepath.Join(root, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	addr := stack.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("node", cli, "--port", port, "--host", "127.0.0.1", "--createTableMs", "0")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dynalite: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dynalite did not listen on %s:\n%s", addr, logs.String())
		}
	}
	return "http://" + addr
}

// ipRanges serves doc as AWS serves ip-ranges.json, over TLS, and returns
// its URL and a file holding its certificate, for the functions'
// SSL_CERT_FILE: the template's https URL of AWS's ranges, replaced by a
// local endpoint that the same HTTPS code path reads.
func ipRanges(t *testing.T, doc *enrich.IPRanges) (url, certFile string) {
	t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `"e2e-1"`)
		if r.Header.Get("If-None-Match") == `"e2e-1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(body)
	}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	certFile = filepath.Join(t.TempDir(), "ip-ranges-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(certFile, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL + "/ip-ranges.json", certFile
}
