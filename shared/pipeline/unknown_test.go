package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// An object whose header has columns no flow-log version defines says so
// once, whatever its number of records: one ingested log line naming them
// (unknown_fields) and one EMF line counting them (UnknownColumns); an
// object without says nothing of them and counts 0.
func TestUnknownColumnsOncePerObject(t *testing.T) {
	ctx := context.Background()
	tl := newTestLake(t)
	var b strings.Builder
	b.WriteString("version interface-id srcaddr start end log-status asg-tag future-field\n")
	for range 500 {
		b.WriteString("11 eni-1 10.0.0.1 1700000000 1700000060 OK web-asg 42\n")
	}
	objs := map[string]string{
		"new": b.String(),
		"old": "version interface-id srcaddr start end log-status\n5 eni-1 10.0.0.1 1700000000 1700000060 OK\n",
	}
	dir := t.TempDir()
	var ev events.S3Event
	for _, name := range []string{"new", "old"} {
		key := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14/123456789012_vpcflowlogs_us-east-1_fl-1_20231114T2210Z_" + name + ".log"
		path := filepath.Join(dir, "raw", filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(objs[name]), 0o644); err != nil {
			t.Fatal(err)
		}
		var r events.S3EventRecord
		r.EventSource, r.EventName, r.AWSRegion = "aws:s3", "ObjectCreated:Put", "us-east-1"
		r.S3.Bucket.Name = "raw"
		r.S3.Object.Key, r.S3.Object.URLDecodedKey, r.S3.Object.Size = key, key, int64(len(objs[name]))
		ev.Records = append(ev.Records, r)
	}
	h := &S3Handler{Pipeline: tl.p, S3: DirObjects(dir)}
	o, err := h.HandleS3(ctx, ev)
	if err != nil || len(o.Objects) != 2 || o.Objects[0].Error != "" || o.Objects[1].Error != "" {
		t.Fatalf("HandleS3 = %+v, %v", o, err)
	}
	var ingested []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(tl.logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "ingested" {
			ingested = append(ingested, m)
		}
	}
	if len(ingested) != 2 {
		t.Fatalf("%d ingested log lines; want 2:\n%s", len(ingested), tl.logs.String())
	}
	if got, _ := json.Marshal(ingested[0]["unknown_fields"]); string(got) != `["asg-tag","future-field"]` {
		t.Errorf("unknown_fields = %s; want the two columns", got)
	}
	if _, ok := ingested[1]["unknown_fields"]; ok {
		t.Errorf("an object without unknown columns logged unknown_fields: %v", ingested[1])
	}
	metrics := tl.metrics.String()
	if n, z := strings.Count(metrics, `"`+MetricUnknownColumns+`":2`), strings.Count(metrics, `"`+MetricUnknownColumns+`":0`); n != 1 || z != 1 {
		t.Errorf("%s: %d lines of 2 and %d of 0; want 1 and 1:\n%s", MetricUnknownColumns, n, z, metrics)
	}
}
