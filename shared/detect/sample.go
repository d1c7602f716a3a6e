package detect

import (
	"fmt"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
)

// SampleTime is the detected_at of sample findings.
var SampleTime = time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)

// Sample returns a realistic finding of the rule, for notifiers' golden
// tests: what the batch engine, with the default settings, raises on the
// rule's first should-fire case (its history too, for a baseline rule:
// NewHistoryBatch), detected at SampleTime. It is the same
// every time.
func (r *Rule) Sample() finding.Finding {
	for _, c := range r.Cases {
		if !c.Fire {
			continue
		}
		set := MustCompile(Config{Now: func() time.Time { return SampleTime }, ThreatLists: c.Lists})
		b := set.NewHistoryBatch() // a baseline rule's case holds its history
		b.Observe(c.Records(), nil)
		for _, f := range b.Findings() {
			if f.Rule == r.ID {
				return f
			}
		}
	}
	panic(fmt.Sprintf("detect: rule %s has no should-fire case that fires", r.ID))
}

// Samples returns one sample finding per rule, in registry order.
func Samples() []finding.Finding {
	out := make([]finding.Finding, len(Rules))
	for i := range Rules {
		out[i] = Rules[i].Sample()
	}
	return out
}
