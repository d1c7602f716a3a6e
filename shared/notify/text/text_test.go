package text_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify/text"
)

// TestEveryRuleHasNextSteps: each rule's sample gets steps of its own,
// not the general ones, and the steps name the finding's entity.
func TestEveryRuleHasNextSteps(t *testing.T) {
	general := text.NextSteps(&finding.Finding{Rule: "no-such-rule"})
	for _, f := range detect.Samples() {
		steps := text.NextSteps(&f)
		if len(steps) < 2 || strings.Join(steps, "") == strings.Join(general, "") {
			t.Errorf("NextSteps(%s) = %q; want the rule's own steps", f.Rule, steps)
		}
		if all := strings.Join(steps, " "); !strings.Contains(all, f.InterfaceID) && !strings.Contains(all, f.Src) && !strings.Contains(all, f.Dst) {
			t.Errorf("NextSteps(%s) names none of its interface, source or destination: %q", f.Rule, steps)
		}
		// Every placeholder a rule's steps use is filled in, for either role.
		for _, role := range []finding.Role{finding.RoleActor, finding.RoleTarget} {
			g := f
			g.Role = role
			for _, s := range text.NextSteps(&g) {
				if strings.ContainsAny(s, "{}") {
					t.Errorf("NextSteps(%s, %s): %q keeps a placeholder", f.Rule, role, s)
				}
			}
		}
	}
}

func TestUnits(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{text.Bytes(950), "950 B"},
		{text.Bytes(1200), "1.2 KiB"},
		{text.Bytes(5_489_000_000), "5.1 GiB"},
		{text.Ports([]int{22, 3389}, 6), "22, 3389 (tcp)"},
		{text.Ports(make([]int, 14), 17), "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 +2 more (udp)"},
		{text.Protocol(47), "proto 47"},
		{text.Truncate("abcdef", 4), "abc…"},
		{text.Truncate("abc", 4), "abc"},
		{text.Clean("a\nb\tc\u202ed\u200be"), "a b cde"},
		{text.Window(time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC), time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)), "2026-11-24 06:00 to 07:00 UTC"},
		{text.Window(time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)), "2026-11-24 23:00 to 2026-11-25 00:00 UTC"},
	} {
		if c.got != c.want {
			t.Errorf("got %q; want %q", c.got, c.want)
		}
	}
}
