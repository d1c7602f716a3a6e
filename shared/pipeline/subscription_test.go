package pipeline

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// subscriptionPayload returns the awslogs.data string of the JSON body, as
// CloudWatch Logs encodes it.
func subscriptionPayload(body []byte) string {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(body)
	zw.Close()
	return base64.StdEncoding.EncodeToString(z.Bytes())
}

// checkSameAsParse reports where decodeSubscription and aws-lambda-go's
// Parse (compress/gzip and encoding/json) disagree on data: both fail, or
// both give the same batch. The one difference allowed is on a body that
// is not one valid JSON document: goccy/go-json may accept garbage in a
// field it skips, and rejects data after the document, which Parse's
// decoder ignores.
func checkSameAsParse(t *testing.T, what, data string) {
	t.Helper()
	want, werr := events.CloudwatchLogsRawData{Data: data}.Parse()
	got, gerr := decodeSubscription(data)
	if (werr != nil) != (gerr != nil) && !validBody(data) {
		return
	}
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%s: decodeSubscription error %v; Parse error %v", what, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: decodeSubscription = %+v; Parse = %+v", what, got, want)
	}
}

// TestDecodeSubscriptionMatchesParse: the repository's real-shaped
// payloads (events/), a batch of every kind of JSON string escape, and
// broken payloads decode as Parse decodes them.
func TestDecodeSubscriptionMatchesParse(t *testing.T) {
	for _, name := range []string{"cwlogs-data.json", "cwlogs-control.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		checkSameAsParse(t, name, ev.AWSLogs.Data)
	}
	var evs []string
	for i, m := range []string{`2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK`,
		`tab\there \"quoted\" back\\slash \/ \u00e9\u4e2d \ud83d\ude00 \b\f\n\r`, ``, `\u0000 nul`} {
		evs = append(evs, fmt.Sprintf(`{"id":"%056d","timestamp":%d,"message":"%s"}`, i, 1764547200000+int64(i), m))
	}
	body := `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/flowlake/flow-logs","logStream":"eni-1-all",` +
		`"subscriptionFilters":["flowlake-ingest-cwlogs"],"logEvents":[` + strings.Join(evs, ",") + `]}`
	checkSameAsParse(t, "escapes", subscriptionPayload([]byte(body)))
	got, err := decodeSubscription(subscriptionPayload([]byte(body)))
	if err != nil || len(got.LogEvents) != 4 || got.LogEvents[1].Message != "tab\there \"quoted\" back\\slash / é中 😀 \b\f\n\r" {
		t.Fatalf("escapes: %+v, %v", got, err)
	}
	for name, data := range map[string]string{
		"not base64":     "%%%",
		"not gzip":       base64.StdEncoding.EncodeToString([]byte("plain")),
		"truncated gzip": subscriptionPayload([]byte(body))[:40],
		"not json":       subscriptionPayload([]byte("{")),
	} {
		if _, err := decodeSubscription(data); err == nil {
			t.Errorf("%s: no error", name)
		}
		checkSameAsParse(t, name, data)
	}
}

// validBody reports whether the gzipped body of data is one valid JSON
// document.
func validBody(data string) bool {
	z, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return false
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return false
	}
	b, err := io.ReadAll(zr)
	return err == nil && json.Valid(b)
}

// FuzzDecodeSubscription: on any JSON body, decodeSubscription agrees
// with Parse.
func FuzzDecodeSubscription(f *testing.F) {
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","owner":"1","logEvents":[{"id":"1","timestamp":1,"message":"a b"}]}`))
	f.Add([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[]}`))
	f.Add([]byte(`{"logEvents":[{"message":"\u00e9\"\\"}],"subscriptionFilters":["x"]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkSameAsParse(t, "fuzz", subscriptionPayload(body))
	})
}
