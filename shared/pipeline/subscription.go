package pipeline

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/klauspost/compress/gzip"
)

// maxSubscriptionHint bounds the buffer decodeSubscription sizes from the
// gzip trailer's length (which a corrupt payload may overstate): a
// subscription batch is at most 1 MiB of messages, about 1.5 MiB of JSON.
const maxSubscriptionHint = 8 << 20

// decodeSubscription decodes a CloudWatch Logs subscription payload (the
// awslogs.data string: base64 of gzip of the JSON of the batch), as
// events.CloudwatchLogsRawData.Parse does, with the same result: the
// standard library's base64, klauspost's gzip in place of compress/gzip,
// and decodeBatchJSON for the JSON CloudWatch Logs writes, falling back to
// encoding/json for anything else (TestDecodeSubscriptionMatchesParse and
// FuzzDecodeSubscription compare the two). goccy/go-json was the decoder
// before: it panicked on a fuzzed body ({"\), intermittently.
func decodeSubscription(data string) (events.CloudwatchLogsData, error) {
	var d events.CloudwatchLogsData
	zipped, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return d, fmt.Errorf("base64: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		return d, fmt.Errorf("gzip: %w", err)
	}
	hint := 0
	if len(zipped) >= 4 {
		hint = min(int(binary.LittleEndian.Uint32(zipped[len(zipped)-4:])), maxSubscriptionHint)
	}
	// Inflated into a string, which the fast path's strings share.
	var doc strings.Builder
	doc.Grow(hint + 512)
	if _, err := io.Copy(&doc, zr); err != nil {
		return d, fmt.Errorf("gzip: %w", err)
	}
	if err := zr.Close(); err != nil {
		return d, fmt.Errorf("gzip: %w", err)
	}
	if !decodeBatchJSON(doc.String(), &d) {
		d = events.CloudwatchLogsData{}
		if err := json.Unmarshal([]byte(doc.String()), &d); err != nil {
			return d, fmt.Errorf("json: %w", err)
		}
	}
	// encoding/json turns each byte of invalid UTF-8 in a string into
	// U+FFFD; decodeBatchJSON keeps it. CloudWatch Logs writes UTF-8, so
	// this is a check, and a rewrite only for a corrupt payload.
	for _, p := range []*string{&d.Owner, &d.LogGroup, &d.LogStream, &d.MessageType} {
		*p = validUTF8(*p)
	}
	for i := range d.SubscriptionFilters {
		d.SubscriptionFilters[i] = validUTF8(d.SubscriptionFilters[i])
	}
	for i := range d.LogEvents {
		e := &d.LogEvents[i]
		e.ID, e.Message = validUTF8(e.ID), validUTF8(e.Message)
	}
	return d, nil
}

// validUTF8 returns s with each byte of invalid UTF-8 replaced by U+FFFD,
// as encoding/json decodes a string.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
