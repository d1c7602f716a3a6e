package detect_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/threatlist"
)

// scenarioConfig is a day of 20 000 records over the default estate.
func scenarioConfig(format *flowlog.Format) flowgen.Config {
	return flowgen.Config{Seed: 7, Records: 20000, Span: 24 * time.Hour, Format: format, Header: true}
}

// readBack writes a scenario as text and parses it again, as ingest would.
func readBack(t *testing.T, cfg flowgen.Config, name string) ([]byte, []flowlog.Record) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := flowgen.WriteScenario(&buf, cfg, name); err != nil {
		t.Fatalf("WriteScenario(%s): %v", name, err)
	}
	r := flowlog.NewReader(bytes.NewReader(buf.Bytes()))
	var recs []flowlog.Record
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		recs = append(recs, rec)
	}
	return buf.Bytes(), recs
}

// demoList is the generator's demo threat list, which the
// threat-list-match scenario reaches.
func demoList(t testing.TB) *threatlist.List {
	t.Helper()
	l, bad, err := threatlist.Parse(flowgen.DemoThreatListName, "", strings.NewReader(flowgen.DemoThreatList()))
	if err != nil || len(bad) > 0 {
		t.Fatalf("demo list: %v %v", bad, err)
	}
	return l
}

func rulesOf(fs []finding.Finding) []string {
	var ids []string
	for _, f := range fs {
		if !slices.Contains(ids, f.Rule) {
			ids = append(ids, f.Rule)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestScenarios proves the rules on generated days: the benign day raises
// nothing and each injected attack raises exactly its rules, on the batch
// engine (in batches of 4096, as ingest feeds it, and on the whole day) and
// on the lake engine (lake.Convert into a local lake, SQL in DuckDB).
func TestScenarios(t *testing.T) {
	lists := []*threatlist.List{demoList(t)}
	set := detect.MustCompile(detect.Config{Now: fixedNow, InternalPrefixes: []netip.Prefix{flowgen.EstateIPv6Prefix}, ThreatLists: lists})
	for _, sc := range flowgen.Scenarios {
		if sc.Name == "all" {
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			text, recs := readBack(t, scenarioConfig(flowgen.RichFormat()), sc.Name)
			want := slices.Clone(sc.Expect)
			slices.Sort(want)

			whole := set.NewBatch()
			whole.Observe(recs, nil)
			if got := rulesOf(whole.Findings()); !slices.Equal(got, want) {
				t.Errorf("batch engine, whole day: rules %v; want %v", got, want)
				for _, f := range whole.Findings() {
					t.Logf("  %s %s %s", f.Rule, f.Severity, f.Description)
				}
			}
			var perBatch []finding.Finding
			for i := 0; i < len(recs); i += 4096 {
				b := set.NewBatch()
				b.Observe(recs[i:min(i+4096, len(recs))], nil)
				perBatch = append(perBatch, b.Findings()...)
			}
			// An attack may straddle two batches; each rule must still be
			// proved by some batch, and nothing else raised.
			if got := rulesOf(perBatch); !slices.Equal(got, want) {
				t.Errorf("batch engine, per batch: rules %v; want %v", got, want)
			}

			dir := t.TempDir()
			src := lake.Source{ID: "scenario:" + sc.Name}
			if _, err := lake.Convert(context.Background(), lake.DirStore{Root: dir}, src, flowlog.NewReader(bytes.NewReader(text))); err != nil {
				t.Fatalf("lake.Convert: %v", err)
			}
			if _, err := lake.WriteThreatList(context.Background(), lake.DirStore{Root: dir}, "", lists[0], nil); err != nil {
				t.Fatal(err)
			}
			fs, err := duck.Detect(context.Background(), dir, set, time.Time{}, time.Time{})
			if err != nil {
				t.Fatalf("lake engine: %v", err)
			}
			if got := rulesOf(fs); !slices.Equal(got, want) {
				t.Errorf("lake engine: rules %v; want %v", got, want)
				for _, f := range fs {
					t.Logf("  %s %s %s", f.Rule, f.Severity, f.Description)
				}
			}
			// The two engines agree on the day's findings.
			wf := whole.Findings()
			if len(wf) != len(fs) {
				t.Fatalf("batch engine %d findings, lake engine %d", len(wf), len(fs))
			}
			for i := range wf {
				if wf[i].ID != fs[i].ID || wf[i].Severity != fs[i].Severity || wf[i].Count != fs[i].Count {
					t.Errorf("finding %d: batch %s %s %d, lake %s %s %d", i, wf[i].Rule, wf[i].Severity, wf[i].Count, fs[i].Rule, fs[i].Severity, fs[i].Count)
				}
			}
		})
	}
}

// TestBenignDayDefaultFormat runs the benign day in the v2 default format,
// without flow_direction, where rules fall back on address classes.
func TestBenignDayDefaultFormat(t *testing.T) {
	set := detect.MustCompile(detect.Config{InternalPrefixes: []netip.Prefix{flowgen.EstateIPv6Prefix}, ThreatLists: []*threatlist.List{demoList(t)}})
	_, recs := readBack(t, scenarioConfig(nil), "benign")
	b := set.NewBatch()
	b.Observe(recs, nil)
	for _, f := range b.Findings() {
		t.Errorf("benign day (v2 format) raised %s: %s", f.Rule, f.Description)
	}
	// And each attack still fires without flow_direction.
	_, recs = readBack(t, scenarioConfig(nil), "all")
	b = set.NewBatch()
	b.Observe(recs, nil)
	got := rulesOf(b.Findings())
	for _, r := range detect.Rules {
		if r.Join.ReadsRollups() {
			continue // baseline rules: a day holds no history
		}
		if !slices.Contains(got, r.ID) {
			t.Errorf("scenario all (v2 format) did not raise %s; raised %v", r.ID, got)
		}
	}
}

// TestBenignBusyDay runs a benign day of 2,000,000 records, the scale of
// a busy estate, through the batch engine as a whole (every window holds
// all its records, as the lake engine sees them): it must raise nothing.
// Below about 250,000 records a day the generator's quirks hid themselves.
func TestBenignBusyDay(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000,000 records: not in -short")
	}
	set := detect.MustCompile(detect.Config{InternalPrefixes: []netip.Prefix{flowgen.EstateIPv6Prefix}, ThreatLists: []*threatlist.List{demoList(t)}})
	{
		cfg := flowgen.Config{Seed: 11, Records: 2_000_000, Span: 24 * time.Hour}
		s, err := flowgen.NewScenario(cfg, "benign")
		if err != nil {
			t.Fatal(err)
		}
		b := set.NewBatch()
		recs := make([]flowlog.Record, 0, 4096)
		n := 0
		for {
			r, ok := s.Next()
			if ok {
				recs = append(recs, r)
			}
			if len(recs) == cap(recs) || !ok {
				b.Observe(recs, nil)
				n += len(recs)
				recs = recs[:0]
			}
			if !ok {
				break
			}
		}
		if n != 2_000_000 {
			t.Fatalf("%d records; want 2000000", n)
		}
		for _, f := range b.Findings() {
			t.Errorf("benign busy day raised %s: %s", f.Rule, f.Description)
		}
	}
}

// TestBaselineScenario proves the baseline rules on the generator's
// fifteen days (flowgen.NewBaselineScenario): converted into a lake and
// compacted (the rollups), the lake engine over the last day raises
// exactly the two injected attacks, once each, and nothing on the benign
// background; the batch engine, judging from the history it observes,
// agrees.
func TestBaselineScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("fifteen days to compact: not in -short")
	}
	ctx := context.Background()
	internal := []netip.Prefix{flowgen.EstateIPv6Prefix}
	cfg := flowgen.Config{Seed: 5, Records: 3000, Accounts: 1, ENIs: 4, Format: flowgen.RichFormat()}
	s, err := flowgen.NewBaselineScenario(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var recs []flowlog.Record
	for {
		r, ok := s.Next()
		if !ok {
			break
		}
		recs = append(recs, r)
	}
	set := detect.MustCompile(detect.Config{Now: fixedNow, InternalPrefixes: internal})
	day := flowgen.DefaultStart

	dir := writeLake(t, recs)
	compactLake(t, dir, internal, day.AddDate(0, 0, 2))
	fs, err := duck.Detect(ctx, dir, set, day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(flowgen.BaselineExpect)
	slices.Sort(want)
	if got := rulesOf(fs); !slices.Equal(got, want) || len(fs) != len(want) {
		t.Errorf("lake engine over the last day: %d findings of %v; want one each of %v", len(fs), got, want)
		for _, f := range fs {
			t.Logf("  %s %s %s", f.Rule, f.Entity, f.Description)
		}
	}

	b := set.NewHistoryBatch()
	b.Observe(recs, nil)
	var last []finding.Finding
	for _, f := range b.Findings() {
		if !f.WindowStart.Before(day) {
			last = append(last, f)
		}
	}
	if got := rulesOf(last); !slices.Equal(got, want) || len(last) != len(fs) {
		t.Errorf("batch engine with history, last day: %v; want %v", got, want)
	}
	for i := range min(len(last), len(fs)) {
		if last[i].ID != fs[i].ID || last[i].Description != fs[i].Description {
			t.Errorf("engines disagree:\nbatch %s %s\nlake  %s %s", last[i].Rule, last[i].Description, fs[i].Rule, fs[i].Description)
		}
	}
}
