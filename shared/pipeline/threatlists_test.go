package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/lake"
)

// fakeLists serves objects by key, listing them all.
type fakeLists struct {
	objects map[string]string
	fail    error
	gets    int
}

func (f *fakeLists) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	out := &s3.ListObjectsV2Output{}
	for k := range f.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			out.Contents = append(out.Contents, types.Object{Key: aws.String(k)})
		}
	}
	return out, nil
}

func (f *fakeLists) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.gets++
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(f.objects[aws.ToString(in.Key)]))}, nil
}

// TestLazyBatchDetectors: the threat lists under the prefix are read once,
// on the first source, their bad lines logged; the batch engine then finds
// threat-list-match. A failed load leaves that source without lists, and
// the next source tries again.
func TestLazyBatchDetectors(t *testing.T) {
	prefix := lake.ThreatListSourcesPrefix
	api := &fakeLists{objects: map[string]string{
		prefix + "tor.txt":        "# exits\n198.51.100.23 exit relay\nnot-an-address\n",
		prefix + "notes.md":       "not a list",
		prefix + "old/vendor.txt": "203.0.113.0/24 scanner\n",
	}}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	lists := S3ThreatLists{Client: api, Bucket: "lake", Prefix: prefix, Log: log}
	newDet, err := LazyBatchDetectors(detect.Config{}, lists.Load, log)
	if err != nil {
		t.Fatal(err)
	}
	c := detect.Case{Flows: []detect.F{{Src: "10.0.1.5", Dst: "198.51.100.23", DstPort: 9001, Dir: "egress"}}}
	run := func() []finding.Finding {
		t.Helper()
		d := newDet()
		if _, err := d.Detect(context.Background(), c.Records(), nil); err != nil {
			t.Fatal(err)
		}
		fs, err := d.(Flusher).Flush(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var out []finding.Finding
		for _, f := range fs {
			if f.Rule == "threat-list-match" {
				out = append(out, f)
			}
		}
		return out
	}
	for range 2 {
		if fs := run(); len(fs) != 1 || !strings.Contains(fs[0].Description, "on threat list tor (exit relay)") {
			t.Errorf("findings %v; want one on list tor", fs)
		}
	}
	if api.gets != 1 {
		t.Errorf("%d GetObject calls; want 1 (tor.txt, once)", api.gets)
	}
	if !strings.Contains(logs.String(), `s3://lake/reference/threat_list_sources/tor.txt:3: address: not an IPv4`) {
		t.Errorf("the bad line is not logged:\n%s", logs.String())
	}

	api = &fakeLists{objects: map[string]string{prefix + "tor.txt": "198.51.100.23\n"}, fail: errors.New("access denied")}
	lists.Client = api
	newDet, _ = LazyBatchDetectors(detect.Config{}, lists.Load, log)
	if fs := run(); len(fs) != 0 {
		t.Errorf("lists failed to load: %v", fs)
	}
	api.fail = nil
	if fs := run(); len(fs) != 1 {
		t.Errorf("after a failed load, the next source loads the lists: %v", fs)
	}
	if !strings.Contains(logs.String(), "threat lists not loaded") {
		t.Errorf("the failed load is not logged:\n%s", logs.String())
	}
}

func TestEnvThreatLists(t *testing.T) {
	env := map[string]string{EnvLakeBucket: "lake", EnvThreatLists: "s3://lake/reference/threat_list_sources/"}
	e, err := LoadEnv(func(k string) string { return env[k] })
	if err != nil || e.ThreatListsBucket != "lake" || e.ThreatListsPrefix != "reference/threat_list_sources/" {
		t.Errorf("LoadEnv = %q %q, %v", e.ThreatListsBucket, e.ThreatListsPrefix, err)
	}
	env[EnvThreatLists] = "https://example.com/lists"
	if _, err := LoadEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("an https URL: no error")
	}
}
