package stack

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/flowlake/flowlake/shared/notify/slack"
)

// ServeIPRanges serves doc (an ip-ranges.json document, as JSON) as AWS serves
// it, over TLS with ETag and If-None-Match, and returns its URL and a file
// holding the server's certificate, for the functions' SSL_CERT_FILE: the
// template's https URL of AWS's ranges, replaced by a local endpoint that
// the same HTTPS code path reads. It stops when the test ends.
func ServeIPRanges(t testing.TB, doc any, etag string) (url, certFile string) {
	t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(body)
	}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	certFile = filepath.Join(t.TempDir(), "ip-ranges-ca.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL + "/ip-ranges.json", certFile
}

// ServeSecret is a loopback Secrets Manager (JSON protocol) that answers
// GetSecretValue for id with value, and ResourceNotFoundException for
// anything else. It returns the endpoint URL and stops when the test ends.
func ServeSecret(t testing.TB, id, value string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != id {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"no such secret"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:" + Region + ":111122223333:secret:" + id, "Name": id, "SecretString": value})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// ErrorType returns "errorType: errorMessage" of a function's response
// through the emulator, "" if the handler succeeded (the emulator answers
// HTTP 200 either way).
func ErrorType(body []byte) string {
	var r struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	json.Unmarshal(body, &r)
	if r.ErrorType == "" {
		return ""
	}
	return r.ErrorType + ": " + r.ErrorMessage
}

// SlackWebhook is a loopback Slack incoming webhook at URL (its Path under
// a test server), as notify-slack posts to it. Each post takes the next of
// the statuses Fail queued (a 429 with Retry-After: 1) while there are
// any, then 200 "ok"; it keeps every payload it accepted.
type SlackWebhook struct {
	URL string

	path     string
	mu       sync.Mutex
	faults   []int
	answers  []int
	accepted []slack.Message
}

// ServeSlackWebhook starts a SlackWebhook at path (/services/...); it
// stops when the test ends.
func ServeSlackWebhook(t testing.TB, path string) *SlackWebhook {
	t.Helper()
	h := &SlackWebhook{path: path}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	h.URL = srv.URL + path
	return h
}

// Fail queues statuses for the next posts to answer.
func (h *SlackWebhook) Fail(statuses ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = append(h.faults, statuses...)
}

// Accepted returns the payloads accepted so far, in order.
func (h *SlackWebhook) Accepted() []slack.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.accepted)
}

// Answers returns the status of every post of a valid payload, in order.
func (h *SlackWebhook) Answers() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.answers)
}

func (h *SlackWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != h.path {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	var m slack.Message
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	status := http.StatusOK
	if len(h.faults) > 0 {
		status, h.faults = h.faults[0], h.faults[1:]
	}
	h.answers = append(h.answers, status)
	switch status {
	case http.StatusOK:
		h.accepted = append(h.accepted, m)
		io.WriteString(w, "ok")
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "rate_limited", status)
	default:
		http.Error(w, "internal_error", status)
	}
}
