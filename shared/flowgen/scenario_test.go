package flowgen

import (
	"bytes"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/flowlog"
)

func TestScenarioMergesInEndOrder(t *testing.T) {
	for _, name := range []string{"benign", "port-scan", "all"} {
		cfg := Config{Seed: 3, Records: 5000, Span: 24 * time.Hour}
		s, err := NewScenario(cfg, name)
		if err != nil {
			t.Fatal(err)
		}
		n, skipped, last := 0, 0, int64(0)
		want := s.Len()
		for {
			r, ok := s.Next()
			if !ok {
				break
			}
			n++
			if r.LogStatus == flowlog.LogStatusSkipData && name == "benign" {
				skipped++
			}
			if r.End+10 < last { // the background jitters by a few seconds
				t.Errorf("%s: record %d ends at %d, before %d", name, n, r.End, last)
			}
			last = max(last, r.End)
		}
		if n != want || (name != "benign" && n <= cfg.Records) {
			t.Errorf("%s: %d records; Len() = %d, background %d", name, n, want, cfg.Records)
		}
		if skipped > 0 {
			t.Errorf("benign: %d SKIPDATA records", skipped)
		}
	}
	if _, err := NewScenario(Config{}, "nope"); err == nil {
		t.Error("NewScenario(nope) succeeded")
	}
}

func TestWriteScenarioIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	cfg := Config{Seed: 9, Records: 2000, Span: 24 * time.Hour, Format: RichFormat(), Header: true}
	if _, err := WriteScenario(&a, cfg, "ssh-brute-force"); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteScenario(&b, cfg, "ssh-brute-force"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same seed, different scenario output")
	}
}
