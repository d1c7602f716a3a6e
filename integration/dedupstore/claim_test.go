package dedupstore

import (
	"context"
	"errors"
	"fmt"
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

// TestRedeliveryCountedOnce: a finding raised again by a redelivery of its
// source (an SQS retry of the same S3 object, a CloudWatch Logs batch
// delivered twice, a retried scheduled run) is neither counted nor
// notified again, however often it comes; a new source counts, and ten
// times the notified count from new sources escalates as before.
func TestRedeliveryCountedOnce(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 24, 7, 5, 0, 0, time.UTC)}
	store := newStore(t, dynalite(t), "redeliveries", c)
	var sent int
	n := &notify.Notifier{Dedup: store, Publisher: publishFunc(func(_ context.Context, fs []finding.Finding) error {
		sent += len(fs)
		return nil
	})}
	f := notifiable(t, 10)
	f.Source = "s3://raw/AWSLogs/a.log.gz#etag=1"
	for range 12 { // the first delivery and 11 redeliveries
		if err := n.Publish(ctx, []finding.Finding{f}); err != nil {
			t.Fatal(err)
		}
	}
	st, _, _ := store.Get(ctx, f.ID)
	if sent != 1 || st.Count != 10 || len(st.Sources) != 1 {
		t.Errorf("after 12 deliveries of one source: %d sent, state %+v; want 1 sent, count 10, one source", sent, st)
	}
	d, _ := store.Decide(ctx, f)
	if d.Reason != dedup.ReasonRedelivered || d.Notify {
		t.Errorf("Decide of a redelivery = %+v; want %q", d, dedup.ReasonRedelivered)
	}
	// A redelivery published all the same (the Notifier's commit lost to a
	// concurrent delivery of the source, and it decided again) is recorded.
	d.Notify = true
	if err := store.Commit(ctx, f, d); err != nil {
		t.Fatal(err)
	}
	if st2, _, _ := store.Get(ctx, f.ID); st2.Rev != st.Rev+1 || st2.Count != 10 || st2.NotifiedCount != 10 {
		t.Errorf("after committing a published redelivery: %+v; want the next revision, still count 10, notified at 10", st2)
	}
	st, _, _ = store.Get(ctx, f.ID)
	// New sources: counted; the ninth new one brings the count to 100,
	// ten times the notified 10, and is notified.
	for i := range 9 {
		g := f
		g.Source = fmt.Sprintf("cwl:111122223333:/flowlake/flows:eni-1#%d", i)
		if err := n.Publish(ctx, []finding.Finding{g, g}); err != nil { // each delivered twice in one call
			t.Fatal(err)
		}
	}
	st, _, _ = store.Get(ctx, f.ID)
	if sent != 2 || st.Count != 100 || st.NotifiedCount != 100 || len(st.Sources) != 10 {
		t.Errorf("after 9 new sources: %d sent, state count %d notified at %d, %d sources; want 2 sent, 100, 100, 10", sent, st.Count, st.NotifiedCount, len(st.Sources))
	}
	// Only the newest MaxSources are kept.
	for i := range dedup.MaxSources + 5 {
		g := f
		g.Count = 0
		g.Source = fmt.Sprintf("new-%d", i)
		if err := n.Publish(ctx, []finding.Finding{g}); err != nil {
			t.Fatal(err)
		}
	}
	st, _, _ = store.Get(ctx, f.ID)
	if len(st.Sources) != dedup.MaxSources || st.Sources[len(st.Sources)-1] != fmt.Sprintf("new-%d", dedup.MaxSources+4) {
		t.Errorf("sources kept: %d, newest %q; want %d, the newest last", len(st.Sources), st.Sources[len(st.Sources)-1], dedup.MaxSources)
	}
}
