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
	"testing"
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
