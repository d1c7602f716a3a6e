package pipeline

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/notify"
)

func TestLoadEnvFindings(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	e, err := LoadEnv(env(map[string]string{
		EnvLakeBucket: "lake", notify.EnvTopicARN: "arn:aws:sns:us-east-1:111122223333:findings",
		notify.EnvDedupTable: "dedup", notify.EnvSNSSingle: "true", EnvDetectSettings: "port-scan.threshold=20; ssh-brute-force.window=10m",
		EnvDetectDisabled: "log-gap", EnvDetectInternal: "2600:1f18:1234::/48",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if e.Notify.TopicARN == "" || e.Notify.DedupTable != "dedup" || !e.Notify.Single || e.Detect.Rules["port-scan"].Threshold != 20 ||
		e.Detect.Rules["ssh-brute-force"].Window != 10*time.Minute || !slices.Equal(e.Detect.Disabled, []string{"log-gap"}) ||
		len(e.Detect.InternalPrefixes) != 1 {
		t.Errorf("LoadEnv = %+v", e)
	}
	for _, tc := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{EnvLakeBucket: "l", EnvDetectSettings: "nope.threshold=1"}, EnvDetectSettings},
		{map[string]string{EnvLakeBucket: "l", EnvDetectInternal: "10.0.0.0"}, EnvDetectInternal},
		{map[string]string{EnvLakeBucket: "l", EnvDetectDisabled: "nope"}, EnvDetectDisabled},
		{map[string]string{EnvLakeBucket: "l", notify.EnvDedupTable: "d"}, notify.EnvTopicARN},
		{map[string]string{EnvLakeBucket: "l", notify.EnvSNSSingle: "maybe"}, notify.EnvSNSSingle},
	} {
		if _, err := LoadEnv(env(tc.kv)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadEnv(%v) = %v; want an error naming %s", tc.kv, err, tc.want)
		}
	}
	// No topic: no detection, no publisher.
	e, _ = LoadEnv(env(map[string]string{EnvLakeBucket: "l"}))
	p, err := e.Pipeline(Clients{S3: s3.New(s3.Options{})}, "test", io.Discard, io.Discard)
	if err != nil || p.NewDetector != nil || p.Publisher != nil {
		t.Errorf("Pipeline without a topic = %v, %+v; want no detector and no publisher", err, p)
	}
}

type publishFunc func(ctx context.Context, fs []finding.Finding) error

func (f publishFunc) Publish(ctx context.Context, fs []finding.Finding) error { return f(ctx, fs) }

// TestProcessBatchDetection: the batch engine sees a whole source, across
// its groups, and the findings are published once its rows are written.
func TestProcessBatchDetection(t *testing.T) {
	var text bytes.Buffer
	cfg := flowgen.Config{Seed: 7, Records: 5000, Span: 24 * time.Hour, Format: flowgen.RichFormat(), Header: true}
	if _, err := flowgen.WriteScenario(&text, cfg, "port-scan"); err != nil {
		t.Fatal(err)
	}
	// The pipeline as the functions build it from their environment, with
	// a topic (its SNS client is never called: the publisher is replaced).
	e := Env{Detect: envDetect(flowgen.EstateIPv6Prefix), Notify: notify.Config{TopicARN: "arn:aws:sns:us-east-1:111122223333:findings"}}
	p, err := e.Pipeline(Clients{S3: s3.New(s3.Options{}), SNS: sns.New(sns.Options{})}, "test", io.Discard, io.Discard)
	if err != nil || p.NewDetector == nil || p.Publisher == nil {
		t.Fatalf("Pipeline with a topic = %v, %+v; want a detector and a publisher", err, p)
	}
	var got []finding.Finding
	p.Store, p.Enricher = lake.DirStore{Root: t.TempDir()}, nil
	p.Publisher = Publish(publishFunc(func(_ context.Context, fs []finding.Finding) error {
		got = append(got, fs...)
		return nil
	}))
	res, err := p.ProcessObject(context.Background(), lake.Source{ID: "test:port-scan"}, &text, int64(text.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Findings != len(got) || len(got) != 1 || got[0].Rule != "port-scan" {
		t.Fatalf("findings %d published %v; want one port-scan", res.Findings, got)
	}
}

func envDetect(internal netip.Prefix) (cfg detect.Config) {
	cfg.InternalPrefixes = append(cfg.InternalPrefixes, internal)
	return cfg
}
