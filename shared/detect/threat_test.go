package detect_test

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/threatlist"
)

func parseList(t *testing.T, name, text string) *threatlist.List {
	t.Helper()
	l, bad, err := threatlist.Parse(name, "", strings.NewReader(text))
	if err != nil || len(bad) > 0 {
		t.Fatalf("Parse(%s): %v %v", name, bad, err)
	}
	return l
}

// TestThreatListMatch: both engines name the same list and label (the
// least list name when two hold the peer), count each flow once however
// many entries hold it, and match IPv6 addresses and /16 blocks.
func TestThreatListMatch(t *testing.T) {
	lists := []*threatlist.List{
		parseList(t, "vendor", "198.51.100.0/24 hosting\n45.128.0.0/16,scanners\n"),
		parseList(t, "tor", "198.51.100.23 exit relay\n2001:db8::66 v6 relay\n"),
	}
	cfg := detect.Config{Now: fixedNow, ThreatLists: lists, InternalPrefixes: []netip.Prefix{netip.MustParsePrefix("2600:1f18:1234::/48")}}
	set := detect.MustCompile(cfg)
	c := detect.Case{Flows: []detect.F{
		{Src: "10.0.1.5", Dst: "198.51.100.23", DstPort: 9001, Dir: "egress"},
		{Src: "10.0.1.5", Dst: "198.51.100.23", DstPort: 9001, At: time.Minute, Dir: "egress"},
		{Src: "10.0.1.5", Dst: "198.51.100.23", DstPort: 443, At: 2 * time.Minute, Dir: "egress"},
		{Src: "2600:1f18:1234:1::5", Dst: "2001:db8::66", DstPort: 443, Dir: "egress"},
		{Src: "2600:1f18:1234:1::5", Dst: "2001:db8::67", DstPort: 443, Dir: "egress"}, // not listed
		{Src: "45.128.200.9", SrcPort: 50000, Dst: "10.0.1.6", DstPort: 8080, Dir: "ingress"},
		{Src: "45.129.0.1", SrcPort: 50000, Dst: "10.0.1.6", DstPort: 8080, Dir: "ingress"}, // outside the /16
	}}
	recs := c.Records()
	b := set.NewBatch()
	b.Observe(recs, nil)
	fs, err := duck.Detect(context.Background(), writeLake(t, recs, lists...), set, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"high 3 10.0.1.5 connected to 198.51.100.23, on threat list tor (exit relay): 3 accepted flows to port 443, 9001, 2.9 KiB, within 1 h.",
		"high 1 2600:1f18:1234:1::5 connected to 2001:db8::66, on threat list tor (v6 relay): 1 accepted flows to port 443, 1000 B, within 1 h.",
		"medium 1 45.128.200.9, on threat list vendor (scanners), reached 10.0.1.6 on port 8080: 1 accepted flows, 1000 B, within 1 h.",
	}
	slices.Sort(want)
	for name, got := range map[string][]finding.Finding{"batch": b.Findings(), "lake": fs} {
		var lines []string
		for _, f := range ofRule(got, "threat-list-match") {
			lines = append(lines, string(f.Severity)+" "+strconv.FormatInt(f.Count, 10)+" "+f.Description)
		}
		slices.Sort(lines)
		if !slices.Equal(lines, want) {
			t.Errorf("%s engine:\n%s\nwant\n%s", name, strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
	}
	if _, err := detect.Compile(detect.Config{ThreatLists: []*threatlist.List{lists[0], lists[0]}}); err == nil {
		t.Error("two lists of one name: no error")
	}
}

// TestThreatListObserveAllocs: looking flows' peers up in the lists costs
// no allocation per record (once their groups exist).
func TestThreatListObserveAllocs(t *testing.T) {
	var text strings.Builder
	for i := range 2000 {
		text.WriteString("185." + strconv.Itoa(100+i%50) + "." + strconv.Itoa(i/50) + "." + strconv.Itoa(i%250) + " tor exit\n")
	}
	lists := []*threatlist.List{parseList(t, "tor", text.String()), parseList(t, "vendor", "203.0.113.0/24 scanner\n")}
	set := detect.MustCompile(detect.Config{ThreatLists: lists})
	c := detect.Case{Flows: []detect.F{
		{Src: "10.0.1.5", Dst: "185.100.0.0", DstPort: 9001, Dir: "egress"},
		{Src: "203.0.113.9", SrcPort: 50000, Dst: "10.0.1.5", DstPort: 22, Dir: "ingress"},
		{Src: "10.0.1.5", Dst: "93.184.216.34", DstPort: 443, Dir: "egress"},
	}}
	recs := c.Records()
	b := set.NewBatch()
	for range 10 {
		b.Observe(recs, nil) // the groups, and their samples
	}
	// Observe's own few allocations (its flow escapes to the conditions'
	// function values) are per call; none is per record.
	many := slices.Repeat(recs, 100)
	if n := testing.AllocsPerRun(20, func() { b.Observe(many, nil) }); n > 2 {
		t.Errorf("Observe allocates %v times for %d records; want at most 2 a call", n, len(many))
	}
	if got := ofRule(b.Findings(), "threat-list-match"); len(got) != 2 {
		t.Errorf("%d threat-list-match findings; want 2", len(got))
	}
}
