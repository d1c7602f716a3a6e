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

	"github.com/flowlake/flowlake/shared/flowgen"
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
// is not one valid JSON document: decodeSubscription rejects data after
// the document, which Parse's decoder ignores.
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

// TestDecodeBatchJSON: the batches CloudWatch Logs writes (the repository's
// real-shaped payload, an account-level policy's, empty arrays) take the
// fast path and decode as encoding/json decodes them; what the fast path
// leaves to encoding/json (escapes, null, a fraction, a key in another
// case, a repeated array) is refused, not decoded differently.
func TestDecodeBatchJSON(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "cwlogs-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CloudwatchLogsEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	real := inflatePayload(t, ev.AWSLogs.Data)
	ev1 := `{"id":"1","timestamp":1764547200000,"message":"2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK"}`
	for name, body := range map[string]string{
		"real-shaped":   real,
		"policyLevel":   `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[` + ev1 + `],"policyLevel":"ACCOUNT_LEVEL_POLICY"}`,
		"empty arrays":  " {\n\t\"subscriptionFilters\" : [ ] , \"logEvents\":[]}\r\n",
		"unknown int":   `{"logEvents":[{"message":"m","extra":-12,"timestamp":-0}],"n":0}`,
		"no key at all": `{}`,
	} {
		var got events.CloudwatchLogsData
		if !decodeBatchJSON(body, &got) {
			t.Errorf("%s: refused", name)
			continue
		}
		var want events.CloudwatchLogsData
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v; encoding/json %+v", name, got, want)
		}
	}
	for name, body := range map[string]string{
		"escape":          `{"logEvents":[{"message":"a\"b"}]}`,
		"control":         "{\"owner\":\"a\tb\"}",
		"null":            `{"owner":null}`,
		"fraction":        `{"logEvents":[{"timestamp":1.5}]}`,
		"exponent":        `{"logEvents":[{"timestamp":1e3}]}`,
		"leading zero":    `{"logEvents":[{"timestamp":01}]}`,
		"overflow":        `{"logEvents":[{"timestamp":9223372036854775808}]}`,
		"other case":      `{"Owner":"1"}`,
		"folded key":      "{\"logStream\":\"s\",\"logſtream\":\"t\"}",
		"repeated array":  `{"logEvents":[],"logEvents":[]}`,
		"object value":    `{"logEvents":[{"message":"m","extractedFields":{"a":"b"}}]}`,
		"trailing data":   `{} x`,
		"not an object":   `[]`,
		"unterminated":    `{"owner":"1`,
		"missing comma":   `{"owner":"1" "logGroup":"g"}`,
		"trailing comma":  `{"owner":"1",}`,
		"array of number": `{"subscriptionFilters":[1]}`,
	} {
		var got events.CloudwatchLogsData
		if decodeBatchJSON(body, &got) {
			t.Errorf("%s: accepted %q as %+v", name, body, got)
		}
	}
	// the largest and least int64
	var got events.CloudwatchLogsData
	if !decodeBatchJSON(`{"logEvents":[{"timestamp":9223372036854775807},{"timestamp":-9223372036854775808}]}`, &got) ||
		got.LogEvents[0].Timestamp != 1<<63-1 || got.LogEvents[1].Timestamp != -1<<63 {
		t.Errorf("int64 bounds: %+v", got)
	}
}

// inflatePayload returns the JSON body of an awslogs.data string.
func inflatePayload(t *testing.T, data string) string {
	t.Helper()
	z, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSpecial: the word-at-a-time search agrees with a byte loop for
// every byte value at every position of strings of 1 to 19 bytes, over a
// background of plain bytes either side of the special ones.
func TestSpecial(t *testing.T) {
	slow := func(s string) int {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] == '"' || s[i] == '\\' {
				return i
			}
		}
		return -1
	}
	for _, bg := range []byte{'a', 0x21, 0x1f + 0x80, '"' + 1, '\\' - 1, 0xff} {
		for n := 1; n < 20; n++ {
			b := bytes.Repeat([]byte{bg}, n)
			for i := range n {
				for c := range 256 {
					b[i] = byte(c)
					if got, want := special(string(b)), slow(string(b)); got != want {
						t.Fatalf("special(%q) = %d, want %d", b, got, want)
					}
					// and a special byte later must not move the first
					if i+1 < n {
						b[n-1] = '"'
						if got, want := special(string(b)), slow(string(b)); got != want {
							t.Fatalf("special(%q) = %d, want %d", b, got, want)
						}
						b[n-1] = bg
					}
				}
				b[i] = bg
			}
		}
	}
}

// BenchmarkDecodeBatchJSON decodes the JSON of a generated 1 MiB batch
// (rich format, as bench's CloudWatch figure uses) with the fast path and
// with encoding/json, its fallback.
func BenchmarkDecodeBatchJSON(b *testing.B) {
	fm := flowgen.RichFormat()
	g := flowgen.NewGenerator(flowgen.Config{Seed: 3, Records: 1 << 20, Format: fm, Accounts: 1, ENIs: 1})
	data := events.CloudwatchLogsData{MessageType: MessageData, Owner: "123456789012", LogGroup: "/flowlake/vpc-flow-logs",
		LogStream: "eni-1-all", SubscriptionFilters: []string{"flowlake-ingest"}}
	var line []byte
	for text := 0; text < 1<<20; {
		rec := g.Next()
		line = rec.AppendText(line[:0], fm)
		text += len(line)
		data.LogEvents = append(data.LogEvents, events.CloudwatchLogsLogEvent{
			ID: fmt.Sprintf("3%055d", len(data.LogEvents)), Timestamp: rec.End * 1000, Message: string(line)})
	}
	doc, err := json.Marshal(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		s := string(doc)
		for b.Loop() {
			var d events.CloudwatchLogsData
			if !decodeBatchJSON(s, &d) || len(d.LogEvents) != len(data.LogEvents) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			var d events.CloudwatchLogsData
			if err := json.Unmarshal(doc, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
}
