package finding_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
)

func sample() finding.Finding {
	ws := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	return finding.Finding{
		Version: finding.Version, ID: finding.ID("port-scan", "111122223333", "src=1.2.3.4,dst=10.0.0.1", ws),
		Rule: "port-scan", Severity: finding.Low, Title: "Port scan", Entity: "src=1.2.3.4,dst=10.0.0.1",
		AccountID: "111122223333", WindowStart: ws, WindowEnd: ws.Add(time.Hour), FirstSeen: ws, LastSeen: ws.Add(time.Minute),
		Count: 12, Ports: []int{1, 2}, Evidence: finding.Evidence{Measure: "distinct_ports", Flows: 12},
	}
}

func TestIDIsStable(t *testing.T) {
	ws := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	// Pinned: the ID is the dedup key, so changing how it is computed is a
	// breaking change.
	const want = "0f1e530df46014e4ebbe62eda0a29154"
	got := finding.ID("port-scan", "111122223333", "src=1.2.3.4,dst=10.0.0.1", ws)
	if got != want {
		t.Errorf("ID(...) = %q; want %q", got, want)
	}
	if other := finding.ID("port-scan", "111122223333", "src=1.2.3.4,dst=10.0.0.1", ws.Add(time.Hour)); other == got {
		t.Errorf("ID ignores the window")
	}
	if loc := finding.ID("port-scan", "111122223333", "src=1.2.3.4,dst=10.0.0.1", ws.In(time.FixedZone("x", 3600))); loc != got {
		t.Errorf("ID depends on the time zone")
	}
}

func TestRoundTrip(t *testing.T) {
	f := sample()
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g, err := finding.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, g) {
		t.Errorf("Unmarshal(Marshal(f)) = %+v; want %+v", g, f)
	}
	if _, err := finding.Unmarshal([]byte(`{"version":2}`)); !errors.Is(err, finding.ErrInvalid) {
		t.Errorf("Unmarshal(version 2) = %v; want ErrInvalid", err)
	}
}

func TestValidate(t *testing.T) {
	for name, mod := range map[string]func(*finding.Finding){
		"bad severity": func(f *finding.Finding) { f.Severity = "urgent" },
		"tampered id":  func(f *finding.Finding) { f.Entity = "src=9.9.9.9" },
		"no window":    func(f *finding.Finding) { f.WindowEnd = f.WindowStart },
		"no rule":      func(f *finding.Finding) { f.Rule = "" },
	} {
		f := sample()
		mod(&f)
		if err := f.Validate(); !errors.Is(err, finding.ErrInvalid) {
			t.Errorf("%s: Validate() = %v; want ErrInvalid", name, err)
		}
	}
}

func TestSeverity(t *testing.T) {
	if !finding.High.AtLeast(finding.DefaultNotifySeverity) || finding.Low.AtLeast(finding.DefaultNotifySeverity) {
		t.Error("AtLeast: wrong order")
	}
	if s, err := finding.ParseSeverity(" HIGH "); err != nil || s != finding.High {
		t.Errorf("ParseSeverity(HIGH) = %q, %v", s, err)
	}
	if _, err := finding.ParseSeverity("urgent"); !errors.Is(err, finding.ErrSeverity) {
		t.Errorf("ParseSeverity(urgent) = %v; want ErrSeverity", err)
	}
}
