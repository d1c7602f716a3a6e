package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/finding"
)

// Deduper is the part of *dedup.Store the Notifier uses.
type Deduper interface {
	Decide(ctx context.Context, f finding.Finding) (dedup.Decision, error)
	Commit(ctx context.Context, f finding.Finding, d dedup.Decision) error
}

// Claimer is the part of *dedup.Store that keeps publishers deciding at
// once from all publishing one finding (see package dedup). A Deduper
// without it is only protected at Commit: each publisher that decided a
// finding was news may publish it.
type Claimer interface {
	Claim(ctx context.Context, f finding.Finding, d dedup.Decision) (dedup.Decision, error)
	Release(ctx context.Context, f finding.Finding, d dedup.Decision) error
}

// Notifier publishes the findings that are news, and remembers them:
// for each finding it runs Decide, publishes those to notify, and Commits
// only what was published (or needed no publishing). A finding whose
// publishing failed leaves no state behind, so the next run (or the
// trigger's retry) decides it afresh and publishes it. With a Claimer, a
// finding to notify is claimed before it is published, so that of the
// publishers deciding it at once one publishes it.
//
// Notifier is itself a Publisher: the pipeline and the detector take it
// in place of the bare *SNS.
type Notifier struct {
	Dedup     Deduper
	Publisher Publisher
	// Log receives the dedup decisions and conflicts (nil: slog.Default()).
	Log *slog.Logger
	// Metrics counts the findings notified and deduplicated (nil: none).
	Metrics *Metrics
	// CommitAttempts is how many times the commit of a published finding
	// is tried (default 5), with a backoff of 200 ms doubled each time:
	// a commit that fails after the finding was published would let the
	// trigger's retry notify it again, so a dedup table that is briefly
	// unreachable is waited for. Sleep waits between them, and before a
	// finding is decided again after a conflict (nil: a timer
	// ctx can cancel).
	CommitAttempts int
	Sleep          func(ctx context.Context, d time.Duration) error
}

// maxConflicts bounds how often one finding is decided again after
// another publisher committed first. A finding raised by every batch of a
// burst (1,000 CloudWatch Logs batches, 32 at once, in the fault suite's
// load) is committed by many publishers at once: 3 tries left some of
// them failing, 10 with a jittered backoff (conflictWait) leave none.
const maxConflicts = 10

// conflictWait is how long to wait before deciding again after the n-th
// conflict: a random wait up to 10 ms doubled each time (at most 640 ms),
// so that the publishers that collided do not collide again.
func conflictWait(n int) time.Duration {
	return time.Duration(rand.Int64N(int64(10*time.Millisecond) << min(n-1, 6)))
}

// Publish decides, publishes and commits fs. Its error joins the
// publisher's (see Publisher) with any dedup failures; findings that
// failed to publish were not committed.
func (n *Notifier) Publish(ctx context.Context, fs []finding.Finding) error {
	var errs []error
	// Findings with the same ID in one call go in separate rounds, so
	// each round's decisions are independent.
	for rest := fs; len(rest) > 0; {
		var round []finding.Finding
		round, rest = splitDuplicates(rest)
		if err := n.round(ctx, round); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (n *Notifier) round(ctx context.Context, fs []finding.Finding) error {
	var errs []error
	type item struct {
		f finding.Finding
		d dedup.Decision
	}
	var items []item
	var send []finding.Finding
	for _, f := range fs {
		d, err := n.decide(ctx, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, item{f, d})
		if d.Notify {
			send = append(send, f)
		}
		logger(n.Log).DebugContext(ctx, "dedup decision", "id", f.ID, "rule", f.Rule, "notify", d.Notify, "reason", d.Reason)
	}
	var failed map[string]bool
	allFailed := false
	if len(send) > 0 {
		if err := n.Publisher.Publish(ctx, send); err != nil {
			errs = append(errs, err)
			var known bool
			failed, known = FailedIDs(err)
			allFailed = !known
		}
	}
	dups := 0
	for _, it := range items {
		published := it.d.Notify && !allFailed && !failed[it.f.ID]
		if it.d.Notify && !published {
			logger(n.Log).WarnContext(ctx, "not published: dedup state left as it was", "id", it.f.ID)
			n.release(ctx, it.f, it.d)
			continue
		}
		if published {
			n.Metrics.notified(ctx, &it.f)
		} else {
			dups++
		}
		if err := n.commit(ctx, it.f, it.d, published); err != nil {
			errs = append(errs, err)
		}
	}
	n.Metrics.deduplicated(ctx, dups)
	return errors.Join(errs...)
}

// commit commits f. On a conflict (another publisher committed since
// Decide) it decides again: if f was published, the new state records that
// notification; if not, and the fresh decision says to notify, it
// publishes f first.
func (n *Notifier) commit(ctx context.Context, f finding.Finding, d dedup.Decision, published bool) error {
	failures := 0
	for attempt := 1; ; attempt++ {
		err := n.Dedup.Commit(ctx, f, d)
		if err == nil {
			return nil
		}
		if published && !errors.Is(err, dedup.ErrConflict) && ctx.Err() == nil {
			failures++
			if failures < n.commitAttempts() {
				wait := 200 * time.Millisecond << (failures - 1)
				logger(n.Log).WarnContext(ctx, "dedup commit of a published finding failed: retrying", "id", f.ID, "wait", wait, "error", err)
				if n.sleep(ctx, wait) == nil {
					attempt--
					continue
				}
			}
		}
		if !errors.Is(err, dedup.ErrConflict) || attempt == maxConflicts {
			if published {
				logger(n.Log).ErrorContext(ctx, "published, but the dedup commit failed: a retry may notify it again", "id", f.ID, "error", err)
			}
			return fmt.Errorf("commit %s: %w", f.ID, err)
		}
		logger(n.Log).InfoContext(ctx, "dedup conflict, deciding again", "id", f.ID, "attempt", attempt)
		if err := n.sleep(ctx, conflictWait(attempt)); err != nil {
			return fmt.Errorf("commit %s: %w", f.ID, err)
		}
		if published {
			// Record the notification made here; a claim of ours, still
			// on the state, ends with it.
			if d, err = n.Dedup.Decide(ctx, f); err != nil {
				return fmt.Errorf("decide %s again: %w", f.ID, err)
			}
			d.Notify = true
			continue
		}
		if d, err = n.decide(ctx, f); err != nil {
			return err
		}
		if d.Notify {
			if err := n.Publisher.Publish(ctx, []finding.Finding{f}); err != nil {
				n.release(ctx, f, d)
				return err
			}
			published = true
		}
	}
}

// decide decides f and, when it is to be notified and Dedup is a
// Claimer, claims it; a claim that lost to another publisher's write
// decides again (up to maxConflicts times, after conflictWait).
func (n *Notifier) decide(ctx context.Context, f finding.Finding) (dedup.Decision, error) {
	c, claims := n.Dedup.(Claimer)
	for attempt := 1; ; attempt++ {
		d, err := n.Dedup.Decide(ctx, f)
		if err != nil {
			return d, fmt.Errorf("decide %s: %w", f.ID, err)
		}
		if !d.Notify || !claims {
			return d, nil
		}
		cd, err := c.Claim(ctx, f, d)
		if err == nil {
			return cd, nil
		}
		if !errors.Is(err, dedup.ErrConflict) || attempt == maxConflicts {
			return d, fmt.Errorf("claim %s: %w", f.ID, err)
		}
		logger(n.Log).InfoContext(ctx, "dedup claim conflict, deciding again", "id", f.ID, "attempt", attempt)
		if err := n.sleep(ctx, conflictWait(attempt)); err != nil {
			return d, fmt.Errorf("claim %s: %w", f.ID, err)
		}
	}
}

// release gives up the claim of a finding whose publish failed, so that
// a retry need not wait for its lease; on failure the lease ends it.
func (n *Notifier) release(ctx context.Context, f finding.Finding, d dedup.Decision) {
	c, ok := n.Dedup.(Claimer)
	if !ok {
		return
	}
	if err := c.Release(ctx, f, d); err != nil {
		logger(n.Log).WarnContext(ctx, "dedup claim not released: it ends with its lease", "id", f.ID, "lease", dedup.DefaultLease, "error", err)
	}
}

func (n *Notifier) commitAttempts() int {
	if n.CommitAttempts > 0 {
		return n.CommitAttempts
	}
	return 5
}

func (n *Notifier) sleep(ctx context.Context, d time.Duration) error {
	if n.Sleep != nil {
		return n.Sleep(ctx, d)
	}
	return SleepContext(ctx, d)
}

// splitDuplicates returns the first finding of each ID, and the rest.
func splitDuplicates(fs []finding.Finding) (first, rest []finding.Finding) {
	seen := make(map[string]bool, len(fs))
	for _, f := range fs {
		if seen[f.ID] {
			rest = append(rest, f)
			continue
		}
		seen[f.ID] = true
		first = append(first, f)
	}
	return first, rest
}
