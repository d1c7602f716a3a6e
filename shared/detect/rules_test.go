package detect_test

import (
	"context"
	"fmt"
	"github.com/flowlake/flowlake/shared/compact"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/threatlist"
)

var detectedAt = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return detectedAt }

// sliceReader feeds records to lake.Convert.
type sliceReader struct {
	recs []flowlog.Record
	i    int
}

func (s *sliceReader) ReadInto(r *flowlog.Record) error {
	if s.i >= len(s.recs) {
		return io.EOF
	}
	*r = s.recs[s.i]
	s.i++
	return nil
}

// writeLake converts recs into a new local lake, with the threat lists
// imported, and returns its folder.
func writeLake(t *testing.T, recs []flowlog.Record, lists ...*threatlist.List) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := lake.Convert(context.Background(), lake.DirStore{Root: dir}, lake.Source{ID: t.Name()}, &sliceReader{recs: recs}); err != nil {
		t.Fatalf("lake.Convert: %v", err)
	}
	for _, l := range lists {
		if _, err := lake.WriteThreatList(context.Background(), lake.DirStore{Root: dir}, "", l, nil); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// compactLake compacts every hour of the lake under dir that ends by
// before, as the compact function does, with the internal prefixes the
// detection set has: the rollups the baseline rules read.
func compactLake(t *testing.T, dir string, internal []netip.Prefix, before time.Time) {
	t.Helper()
	c := &compact.Compactor{Bucket: compact.Dir{Root: dir}, TempDir: t.TempDir(), InternalPrefixes: internal, Log: slog.New(slog.DiscardHandler)}
	if _, err := c.Run(context.Background(), compact.Window{Before: before}); err != nil {
		t.Fatalf("compact: %v", err)
	}
}

func ofRule(fs []finding.Finding, rule string) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// TestRuleCases runs every case of every rule on both engines: the batch
// engine in Go, and the lake engine's SQL in DuckDB over a lake written
// with lake.Convert. Both must agree with the case and with each other.
func TestRuleCases(t *testing.T) {
	set := detect.MustCompile(detect.Config{Now: fixedNow})
	for _, r := range detect.Rules {
		if len(r.Cases) < 2 || !slices.ContainsFunc(r.Cases, func(c detect.Case) bool { return c.Fire }) ||
			!slices.ContainsFunc(r.Cases, func(c detect.Case) bool { return !c.Fire }) {
			t.Errorf("rule %s: needs should-fire and should-not-fire cases", r.ID)
		}
		for _, c := range r.Cases {
			t.Run(r.ID+"/"+c.Name, func(t *testing.T) {
				set := set
				if c.Lists != nil {
					set = detect.MustCompile(detect.Config{Now: fixedNow, ThreatLists: c.Lists})
				}
				recs := c.Records()
				// A baseline rule's case holds weeks of history: the batch
				// engine judges it from what it observes, the lake engine
				// from the rollups the compactor writes.
				b := set.NewHistoryBatch()
				b.Observe(recs, nil)
				batch := ofRule(b.Findings(), r.ID)

				dir := writeLake(t, recs, c.Lists...)
				var since, until time.Time
				if r.Join.ReadsRollups() {
					compactLake(t, dir, nil, detect.CaseStart.AddDate(0, 0, 2))
					// The scheduled run over the case's hours, as over the
					// last hours of a lake with weeks of history.
					since, until = detect.CaseStart.Truncate(time.Hour), detect.CaseStart.Add(2*time.Hour)
				}
				fs, err := duck.Detect(context.Background(), dir, set, since, until)
				if err != nil {
					t.Fatalf("lake engine: %v", err)
				}
				lakeFs := ofRule(fs, r.ID)

				for name, got := range map[string][]finding.Finding{"batch": batch, "lake": lakeFs} {
					if fired := len(got) > 0; fired != c.Fire {
						t.Errorf("%s engine: fired = %v; want %v (%d findings)", name, fired, c.Fire, len(got))
					}
					for _, f := range got {
						if err := f.Validate(); err != nil {
							t.Errorf("%s engine: %v", name, err)
						}
						if c.Severity != "" && f.Severity != c.Severity {
							t.Errorf("%s engine: severity = %s; want %s", name, f.Severity, c.Severity)
						}
						if len(f.Evidence.Samples) == 0 {
							t.Errorf("%s engine: no sample flows", name)
						}
					}
				}
				if len(batch) != len(lakeFs) {
					t.Fatalf("batch found %d, lake %d", len(batch), len(lakeFs))
				}
				for i := range batch {
					bf, lf := batch[i], lakeFs[i]
					if bf.ID != lf.ID || bf.Severity != lf.Severity || bf.Count != lf.Count || bf.Entity != lf.Entity ||
						bf.Src != lf.Src || bf.Dst != lf.Dst || bf.InterfaceID != lf.InterfaceID ||
						!slices.Equal(bf.Ports, lf.Ports) || bf.Evidence.Bytes != lf.Evidence.Bytes ||
						bf.Evidence.DistinctHosts != lf.Evidence.DistinctHosts || bf.Description != lf.Description ||
						bf.Query != lf.Query || len(bf.Evidence.Samples) != len(lf.Evidence.Samples) {
						t.Errorf("engines disagree:\nbatch %+v\nlake  %+v", bf, lf)
					}
				}
			})
		}
	}
}

// TestAllowList leaves the sanctioned resolvers and mail relays out, on
// both engines, and nothing else: an address, and a prefix of whole octets.
func TestAllowList(t *testing.T) {
	var cfg detect.Config
	for _, kv := range []string{"dns-resolver-bypass.allow=8.8.8.8, 1.1.0.0/16", "spam-bot.allow=10.0.1.5"} {
		if err := cfg.ParseSetting(kv); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Now = fixedNow
	set := detect.MustCompile(cfg)
	flows := []detect.F{
		{Src: "10.0.1.5", Dst: "8.8.8.8", DstPort: 53, Proto: 17, Dir: "egress"},
		{Src: "10.0.1.5", Dst: "1.1.1.1", DstPort: 853, Dir: "egress"},
		{Src: "10.0.1.6", Dst: "1.1.1.1", DstPort: 853, Dir: "egress"},
		{Src: "10.0.1.7", Dst: "9.9.9.9", DstPort: 53, Proto: 17, Dir: "egress"}, // not sanctioned
	}
	for i := range 12 {
		for _, src := range []string{"10.0.1.5", "10.0.1.8"} { // a relay, and an instance that is not
			flows = append(flows, detect.F{Src: src, Dst: fmt.Sprintf("203.0.113.%d", 10+i), SrcPort: 42000 + i, DstPort: 25, Dir: "egress"})
		}
	}
	c := detect.Case{Flows: flows}
	recs := c.Records()
	b := set.NewBatch()
	b.Observe(recs, nil)
	fs, err := duck.Detect(context.Background(), writeLake(t, recs), set, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]finding.Finding{"batch": b.Findings(), "lake": fs} {
		var ents []string
		for _, f := range got {
			ents = append(ents, f.Rule+" "+f.Entity)
		}
		want := []string{"dns-resolver-bypass src=10.0.1.7", "spam-bot src=10.0.1.8"}
		if !slices.Equal(ents, want) {
			t.Errorf("%s engine: %v; want %v", name, ents, want)
		}
	}
	for _, bad := range []string{"spam-bot.allow=2001:db8::/48", "spam-bot.allow=nonsense"} {
		var c detect.Config
		err := c.ParseSetting(bad)
		if err == nil {
			_, err = detect.Compile(c)
		}
		if err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestBaselineSettings: k, days and min_days parse and are checked.
func TestBaselineSettings(t *testing.T) {
	var cfg detect.Config
	for _, kv := range []string{"traffic-volume-anomaly.k=2.5", "traffic-volume-anomaly.days=21", "unusual-port.min_days=3"} {
		if err := cfg.ParseSetting(kv); err != nil {
			t.Fatal(err)
		}
	}
	set := detect.MustCompile(cfg)
	if s, _ := set.Settings("traffic-volume-anomaly"); s.K != 2.5 || s.Days != 21 || s.MinDays != 7 {
		t.Errorf("traffic-volume-anomaly settings %+v; want k 2.5, days 21, min_days 7", s)
	}
	if s, _ := set.Settings("unusual-port"); s.Days != 14 || s.MinDays != 3 {
		t.Errorf("unusual-port settings %+v; want days 14, min_days 3", s)
	}
	for _, bad := range []string{"unusual-port.min_days=15", "unusual-port.days=61", "traffic-volume-anomaly.k=-1", "traffic-volume-anomaly.k=x"} {
		var c detect.Config
		err := c.ParseSetting(bad)
		if err == nil {
			_, err = detect.Compile(c)
		}
		if err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
