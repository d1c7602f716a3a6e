package enrich

import (
	"fmt"
	"testing"
	"time"
)

func TestENICachePrune(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	c := &eniCache{m: map[string]*eniEntry{}}
	for i := range minPrune {
		exp := now.Add(-time.Second) // expired
		if i%2 == 0 {
			exp = now.Add(time.Minute)
		}
		c.m[fmt.Sprint("eni-", i)] = &eniEntry{done: true, expires: exp}
	}
	c.m["eni-inflight"] = &eniEntry{expires: now.Add(-time.Hour)} // not done: kept
	c.pruneLocked(now)
	if len(c.m) != minPrune/2+1 || c.m["eni-inflight"] == nil {
		t.Errorf("after pruning: %d entries; want %d, in-flight kept", len(c.m), minPrune/2+1)
	}
	if c.pruneAt != 2*len(c.m) {
		t.Errorf("pruneAt = %d; want %d", c.pruneAt, 2*len(c.m))
	}
}
