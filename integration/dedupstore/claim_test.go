package dedupstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
)

// notifiable returns a finding the store notifies (medium or above), with
// count c.
func notifiable(t *testing.T, c int64) finding.Finding {
	t.Helper()
	for _, f := range many(len(many(0)) + 9) {
		if f.Severity.AtLeast(finding.DefaultNotifySeverity) {
			f.Count = c
			return f
		}
	}
	t.Fatal("no sample finding at or above the notify severity")
	return finding.Finding{}
}

// TestNotifierConcurrentPublishersNotifyOnce: publishers that decide one
// finding at once (the ingest invocations of a burst, each raising it)
// notify it once. Each publish takes 50 ms, so that without the claim all
// of them would decide it is new before any commits. 8 publishers of count
// 100 add up to 800, under the escalation at 10× the notified count.
func TestNotifierConcurrentPublishersNotifyOnce(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 24, 7, 5, 0, 0, time.UTC)}
	store := newStore(t, dynalite(t), "claims", c)
	f := notifiable(t, 100)

	var sent atomic.Int32
	slow := publishFunc(func(context.Context, []finding.Finding) error {
		time.Sleep(50 * time.Millisecond)
		sent.Add(1)
		return nil
	})
	const publishers = 8
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := &notify.Notifier{Dedup: store, Publisher: slow}
			errs <- n.Publish(ctx, []finding.Finding{f})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Publish: %v", err)
		}
	}
	if n := sent.Load(); n != 1 {
		t.Errorf("%d publishers published the finding; want 1", n)
	}
	st, ok, err := store.Get(ctx, f.ID)
	if err != nil || !ok {
		t.Fatalf("state: %v, %v", ok, err)
	}
	if st.Count != publishers*100 || st.NotifiedSeverity != f.Severity || !st.ClaimedUntil.IsZero() {
		t.Errorf("state %+v; want count %d (every publisher's), notified %s, no claim left", st, publishers*100, f.Severity)
	}
}

// TestClaimReleaseAndLease: while a claim lasts, a decision that would
// notify says "claimed" and its commit adds its count but keeps the claim;
// a released claim lets the next publisher notify at once; a claim whose
// holder died ends with its lease.
func TestClaimReleaseAndLease(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 24, 7, 5, 0, 0, time.UTC)}
	store := newStore(t, dynalite(t), "leases", c)
	f := notifiable(t, 3)

	d, err := store.Decide(ctx, f)
	if err != nil || !d.Notify {
		t.Fatalf("Decide = %+v, %v; want new", d, err)
	}
	claim, err := store.Claim(ctx, f, d)
	if err != nil || !claim.Notify || claim.Prev == nil || claim.Prev.ClaimedUntil.IsZero() {
		t.Fatalf("Claim = %+v, %v", claim, err)
	}
	if _, err := store.Claim(ctx, f, d); !errors.Is(err, dedup.ErrConflict) {
		t.Errorf("a second claim on the same decision: %v; want ErrConflict", err)
	}

	other := publish(t, store, f) // another publisher, during the claim
	if other.Notify || other.Reason != dedup.ReasonClaimed {
		t.Errorf("Decide during the claim = %v %q; want claimed", other.Notify, other.Reason)
	}
	st, _, _ := store.Get(ctx, f.ID)
	if st.Count != 3 || st.ClaimedUntil.IsZero() || st.NotifiedSeverity != "" {
		t.Errorf("after the other's commit: %+v; want its count 3, the claim kept, nothing notified", st)
	}

	// The claimant's publish failed; its claim is stale (the other's
	// commit), so Release conflicts and the lease must end it.
	if err := store.Release(ctx, f, claim); !errors.Is(err, dedup.ErrConflict) {
		t.Errorf("Release of a stale claim: %v; want ErrConflict", err)
	}
	if d := publish(t, store, f); d.Reason != dedup.ReasonClaimed {
		t.Errorf("before the lease ends: %q; want claimed", d.Reason)
	}
	c.t = c.t.Add(dedup.DefaultLease + time.Second)
	d, err = store.Decide(ctx, f)
	if err != nil || !d.Notify || d.Reason != "new" {
		t.Fatalf("after the lease: %+v, %v; want new", d, err)
	}

	// A claim released at once leaves the finding news for the next.
	claim, err = store.Claim(ctx, f, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Release(ctx, f, claim); err != nil {
		t.Fatalf("Release: %v", err)
	}
	d, err = store.Decide(ctx, f)
	if err != nil || !d.Notify || d.Reason != "new" {
		t.Fatalf("after Release: %+v, %v; want new", d, err)
	}
	claim, err = store.Claim(ctx, f, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Commit(ctx, f, claim); err != nil {
		t.Fatalf("Commit of the claim: %v", err)
	}
	st, _, _ = store.Get(ctx, f.ID)
	if st.Count != 9 || st.NotifiedSeverity != f.Severity || st.NotifiedCount != 9 || !st.ClaimedUntil.IsZero() {
		t.Errorf("after the claimant's commit: %+v; want count 9 (3 publishes), notified at 9, no claim", st)
	}
}
