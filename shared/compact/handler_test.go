package compact_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/emf"
)

// TestHandlerClosedHours: a scheduled run compacts only the hours that
// ended MinAge before the event's time, and writes one EMF line.
func TestHandlerClosedHours(t *testing.T) {
	root := t.TempDir()
	ingest(t, root, testSources(t, 6000, 50)...)
	var metrics bytes.Buffer
	h := &compact.Handler{Compactor: compactor(root), MinAge: 3 * time.Hour, Lookback: 48 * time.Hour,
		Log: quiet, Metrics: &emf.Writer{W: &metrics}, Function: "compact"}
	// 04:30: hours up to 01:00-01:30 are closed, so 00:00-01:00 and the
	// day before's; 01:00 and 02:00 are open.
	res, err := h.Handle(context.Background(), events.EventBridgeEvent{Time: day.Add(4*time.Hour + 30*time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Before.Equal(day.Add(90*time.Minute)) || res.Compacted == 0 {
		t.Errorf("Handle = %+v; want hours before 01:30 compacted", res)
	}
	for dir, names := range files(t, root) {
		open := strings.Contains(dir, "day=2026-11-24/hour=01") || strings.Contains(dir, "day=2026-11-24/hour=02")
		compacted := strings.HasPrefix(names[0], "_compacted-") || strings.HasPrefix(names[0], "compacted-")
		if strings.HasPrefix(dir, compact.RollupPrefix+"/") {
			compacted = len(names) == 1 && names[0] == compact.RollupName // each compacted hour's rollup, and no other
		}
		if open == compacted {
			t.Errorf("%s: %v; open hour: %v", dir, names, open)
		}
	}
	lines, err := emf.Parse(&metrics)
	if err != nil || len(lines) != 1 {
		t.Fatalf("%d EMF lines (%v); want 1", len(lines), err)
	}
	l := lines[0]
	if l.Metrics[compact.MetricCompacted] != float64(res.Compacted) || l.Metrics[compact.MetricRecords] != float64(res.Records) ||
		l.Props[emf.DimFunction] != "compact" {
		t.Errorf("EMF line %+v; want the run's counts under Function=compact", l)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := compact.ConfigFromEnv(env(compact.EnvLakeBucket, "lake"))
	if err != nil || c.Bucket != "lake" || c.Prefix != "flows" || c.MinAge != 3*time.Hour || c.Lookback != 360*time.Hour ||
		c.TargetBytes != 128<<20 {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	c, err = compact.ConfigFromEnv(env(compact.EnvLakeBucket, "lake", compact.EnvLakePrefix, "/data/", compact.EnvMinAge, "4h",
		compact.EnvLookback, "744h", compact.EnvTargetBytes, "67108864", compact.EnvInternal, "2600:1f18:1234::/48, 100.64.0.0/10"))
	if err != nil || c.Prefix != "data" || c.MinAge != 4*time.Hour || c.Lookback != 744*time.Hour || c.TargetBytes != 64<<20 ||
		fmt.Sprint(c.InternalPrefixes) != "[2600:1f18:1234::/48 100.64.0.0/10]" {
		t.Errorf("set: %+v, %v", c, err)
	}
	for _, bad := range [][]string{
		{},
		{compact.EnvLakeBucket, "lake", compact.EnvMinAge, "30m"},
		{compact.EnvLakeBucket, "lake", compact.EnvLookback, "-1h"},
		{compact.EnvLakeBucket, "lake", compact.EnvTargetBytes, "1k"},
		{compact.EnvLakeBucket, "lake", compact.EnvLogLevel, "loud"},
		{compact.EnvLakeBucket, "lake", compact.EnvInternal, "10.0.0.0/33"},
	} {
		if _, err := compact.ConfigFromEnv(env(bad...)); err == nil {
			t.Errorf("ConfigFromEnv(%q) = nil error; want one", bad)
		}
	}
}
