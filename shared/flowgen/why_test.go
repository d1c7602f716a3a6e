package flowgen

import (
	"bytes"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// TestWhyScenarios: each why scenario generates deterministically; the
// pair's only records are the injected ones (the background's own are
// left out); interfaces of one account and zone share one subnet.
func TestWhyScenarios(t *testing.T) {
	for _, sc := range WhyScenarios {
		cfg := Config{Seed: 5, Records: 2000, Span: 24 * time.Hour, Accounts: 1, ENIs: 6, Format: RichFormat(), Header: true}
		var a, b bytes.Buffer
		q, n, err := WriteWhyScenario(&a, cfg, sc.Name)
		if err != nil {
			t.Fatalf("%s: %v", sc.Name, err)
		}
		if _, _, err := WriteWhyScenario(&b, cfg, sc.Name); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: same seed, different output (%v)", sc.Name, err)
		}
		g, _, _ := NewWhyScenario(cfg, sc.Name)
		subnets := map[[2]string]string{}
		for _, e := range g.Estate().ENIs {
			k := [2]string{e.AccountID, e.AZID}
			if s, ok := subnets[k]; ok && s != e.SubnetID {
				t.Errorf("%s: %s in %s, another interface of %v in %s", sc.Name, e.ID, e.SubnetID, k, s)
			}
			subnets[k] = e.SubnetID
		}
		pair, injected := 0, len(g.inject)
		r := flowlog.NewReader(&a)
		for {
			rec, err := r.Read()
			if err != nil {
				break
			}
			if (rec.SrcAddr == q.Src && rec.DstAddr == q.Dst) || (rec.SrcAddr == q.Dst && rec.DstAddr == q.Src) {
				pair++
			}
		}
		if n < cfg.Records*9/10 || pair > injected || (sc.inject != nil && pair == 0) {
			t.Errorf("%s: %d records, %d of the pair; want about %d, and the pair's only from the %d injected", sc.Name, n, pair, cfg.Records, injected)
		}
	}
	if _, _, err := NewWhyScenario(Config{ENIs: 4}, "connected"); err == nil {
		t.Error("NewWhyScenario with 4 interfaces an account succeeded")
	}
	if _, _, err := NewWhyScenario(Config{}, "nope"); err == nil {
		t.Error("NewWhyScenario(nope) succeeded")
	}
}
