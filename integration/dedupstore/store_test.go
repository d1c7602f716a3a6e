package dedupstore

import (
	"context"
	"errors"
	"github.com/flowlake/flowlake/integration/stack"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
)

// dynalite starts the DynamoDB-compatible server on loopback (installing
// the repository's npm dev dependencies first if they are missing) and
// returns a client. It fails the test if the server cannot start: the
// store is never left untested.
func dynalite(t *testing.T) *dynamodb.Client {
	t.Helper()
	return stack.StartDynamoDB(t)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore(t *testing.T, client *dynamodb.Client, table string, c *clock) *dedup.Store {
	t.Helper()
	if err := dedup.EnsureTable(context.Background(), client, table); err != nil {
		t.Fatal(err)
	}
	if err := dedup.EnsureTable(context.Background(), client, table); err != nil {
		t.Fatalf("EnsureTable twice: %v", err)
	}
	return &dedup.Store{Client: client, Table: table, TTL: 48 * time.Hour, Now: c.now}
}

// publish is the publisher's loop: Decide, "publish", Commit.
func publish(t *testing.T, s *dedup.Store, f finding.Finding) dedup.Decision {
	t.Helper()
	d, err := s.Decide(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(context.Background(), f, d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestStoreOncePerWindowAndEscalation(t *testing.T) {
	client := dynalite(t)
	f := detect.Rules[2].Sample() // ssh-brute-force, medium
	c := &clock{f.WindowEnd}
	s := newStore(t, client, "dedup", c)
	ctx := context.Background()

	steps := []struct {
		name   string
		mod    func(*finding.Finding)
		notify bool
		reason string
		count  int64
	}{
		{"first", func(*finding.Finding) {}, true, "new", f.Count},
		{"repeat", func(g *finding.Finding) { g.Count = 5; g.LastSeen = g.LastSeen.Add(time.Minute) }, false, "repeat", f.Count + 5},
		{"severity up", func(g *finding.Finding) { g.Severity = finding.High; g.Count = 1 }, true, "severity-escalated", f.Count + 6},
		{"same severity again", func(g *finding.Finding) { g.Severity = finding.High; g.Count = 1 }, false, "repeat", f.Count + 7},
		{"ten times the count", func(g *finding.Finding) { g.Severity = finding.High; g.Count = 10 * (f.Count + 6) }, true, "count-escalated", f.Count + 7 + 10*(f.Count+6)},
	}
	for _, st := range steps {
		g := f
		st.mod(&g)
		d := publish(t, s, g)
		if d.Notify != st.notify || d.Reason != st.reason {
			t.Errorf("%s: Decide = %v %q; want %v %q", st.name, d.Notify, d.Reason, st.notify, st.reason)
		}
		got, ok, err := s.Get(ctx, f.ID)
		if err != nil || !ok {
			t.Fatalf("%s: Get = %v, %v", st.name, ok, err)
		}
		if got.Count != st.count {
			t.Errorf("%s: count = %d; want %d", st.name, got.Count, st.count)
		}
	}
	got, _, _ := s.Get(ctx, f.ID)
	if !got.LastSeen.Equal(f.LastSeen.Add(time.Minute)) || got.Severity != finding.High || got.NotifiedSeverity != finding.High {
		t.Errorf("state = %+v", got)
	}
	if want := f.WindowEnd.Add(48 * time.Hour); !got.ExpiresAt.Equal(want) {
		t.Errorf("expires_at = %v; want %v", got.ExpiresAt, want)
	}

	// After expiry the same ID is new again, and the expired item is
	// overwritten (dynalite, like DynamoDB before its TTL sweep, still
	// holds it).
	c.t = got.ExpiresAt.Add(time.Second)
	if d := publish(t, s, f); !d.Notify || d.Reason != "new" || d.Prev != nil {
		t.Errorf("after expiry: Decide = %+v; want new", d)
	}
}

func TestStoreLowIsRememberedNotNotified(t *testing.T) {
	client := dynalite(t)
	f := detect.Rules[0].Sample() // port-scan from the internet, rejected: low
	if f.Severity != finding.Low {
		t.Fatalf("sample severity %s", f.Severity)
	}
	s := newStore(t, client, "dedup-low", &clock{f.WindowEnd})
	if d := publish(t, s, f); d.Notify || d.Reason != "below-notify-severity" {
		t.Errorf("low: Decide = %+v", d)
	}
	g := f
	g.Severity = finding.Medium // an accepted probe turned up
	if d := publish(t, s, g); !d.Notify || d.Reason != "new" {
		t.Errorf("low then medium: Decide = %+v; want notify", d)
	}
}

func TestStoreCommitConflicts(t *testing.T) {
	client := dynalite(t)
	f := detect.Rules[5].Sample()
	s := newStore(t, client, "dedup-race", &clock{f.WindowEnd})
	ctx := context.Background()

	// Two publishers decide on the same state; the second commit loses.
	d1, _ := s.Decide(ctx, f)
	d2, _ := s.Decide(ctx, f)
	if err := s.Commit(ctx, f, d1); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, f, d2); !errors.Is(err, dedup.ErrConflict) {
		t.Fatalf("second Commit = %v; want ErrConflict", err)
	}
	d3, _ := s.Decide(ctx, f)
	d4, _ := s.Decide(ctx, f)
	if err := s.Commit(ctx, f, d3); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, f, d4); !errors.Is(err, dedup.ErrConflict) {
		t.Fatalf("stale update Commit = %v; want ErrConflict", err)
	}

	// Many publishers at once on a new finding: exactly one commits its
	// notification.
	g := detect.Rules[6].Sample()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := s.Decide(ctx, g)
			if err != nil {
				t.Error(err)
				return
			}
			if err := s.Commit(ctx, g, d); err == nil && d.Notify {
				wins.Add(1)
			} else if err != nil && !errors.Is(err, dedup.ErrConflict) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d publishers committed a notification; want 1", wins.Load())
	}
}
