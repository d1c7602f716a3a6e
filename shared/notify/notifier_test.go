package notify_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/emf"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
)

// fakeDedup is the dedup store as functions.
type fakeDedup struct {
	decide func(f finding.Finding) (dedup.Decision, error)
	commit func(f finding.Finding, d dedup.Decision) error
}

func (f fakeDedup) Decide(_ context.Context, x finding.Finding) (dedup.Decision, error) {
	return f.decide(x)
}

func (f fakeDedup) Commit(_ context.Context, x finding.Finding, d dedup.Decision) error {
	return f.commit(x, d)
}

// pubFunc is a Publisher as a function.
type pubFunc func(ctx context.Context, fs []finding.Finding) error

func (p pubFunc) Publish(ctx context.Context, fs []finding.Finding) error { return p(ctx, fs) }

// TestNotifierUnknownFailureCommitsNothing: a publisher error that does
// not say which findings failed is taken to mean all.
func TestNotifierUnknownFailureCommitsNothing(t *testing.T) {
	commits := 0
	n := &notify.Notifier{
		Dedup: fakeDedup{
			decide: func(finding.Finding) (dedup.Decision, error) { return dedup.Decision{Notify: true, Reason: "new"}, nil },
			commit: func(finding.Finding, dedup.Decision) error { commits++; return nil },
		},
		Publisher: pubFunc(func(context.Context, []finding.Finding) error { return errors.New("topic gone") }),
	}
	if err := n.Publish(context.Background(), many(4)); err == nil || commits != 0 {
		t.Errorf("Publish() = %v with %d commits; want the error and none", err, commits)
	}
}

// TestNotifierConflict: another publisher committed between Decide and
// Commit; the finding was published here, so the new state records it.
func TestNotifierConflict(t *testing.T) {
	var commits []dedup.Decision
	decides := 0
	n := &notify.Notifier{
		Dedup: fakeDedup{
			decide: func(finding.Finding) (dedup.Decision, error) {
				decides++
				if decides == 1 {
					return dedup.Decision{Notify: true, Reason: "new"}, nil
				}
				return dedup.Decision{Reason: "repeat", Prev: &dedup.State{Rev: 1}}, nil
			},
			commit: func(_ finding.Finding, d dedup.Decision) error {
				commits = append(commits, d)
				if len(commits) == 1 {
					return dedup.ErrConflict
				}
				return nil
			},
		},
		Publisher: pubFunc(func(context.Context, []finding.Finding) error { return nil }),
	}
	if err := n.Publish(context.Background(), many(1)); err != nil {
		t.Fatal(err)
	}
	if len(commits) != 2 || !commits[1].Notify || commits[1].Prev == nil {
		t.Errorf("commits %+v; want a second commit on the fresh state, marked notified", commits)
	}
}

// TestNotifierConflicts: many publishers commit the same finding at once
// (a burst of batches that all raise it); each conflict is waited out and
// decided again, up to 10 tries, and only then is it an error.
func TestNotifierConflicts(t *testing.T) {
	for _, tc := range []struct {
		conflicts int
		wantErr   bool
	}{{9, false}, {10, true}} {
		commits, waits := 0, 0
		n := &notify.Notifier{
			Dedup: fakeDedup{
				decide: func(finding.Finding) (dedup.Decision, error) {
					return dedup.Decision{Reason: "repeat", Prev: &dedup.State{Rev: int64(commits)}}, nil
				},
				commit: func(finding.Finding, dedup.Decision) error {
					if commits++; commits <= tc.conflicts {
						return dedup.ErrConflict
					}
					return nil
				},
			},
			Publisher: pubFunc(func(context.Context, []finding.Finding) error { return nil }),
			Sleep:     func(context.Context, time.Duration) error { waits++; return nil },
		}
		err := n.Publish(context.Background(), many(1))
		if (err != nil) != tc.wantErr || !errors.Is(err, dedup.ErrConflict) && tc.wantErr {
			t.Errorf("%d conflicts: Publish() = %v; want error %v", tc.conflicts, err, tc.wantErr)
		}
		if want := min(tc.conflicts, 9); waits != want {
			t.Errorf("%d conflicts: %d waits; want %d", tc.conflicts, waits, want)
		}
	}
}

func TestNotifierSameIDTwice(t *testing.T) {
	notified := map[string]bool{}
	sent := 0
	n := &notify.Notifier{
		Dedup: fakeDedup{
			decide: func(f finding.Finding) (dedup.Decision, error) {
				return dedup.Decision{Notify: !notified[f.ID], Reason: "x"}, nil
			},
			commit: func(f finding.Finding, d dedup.Decision) error {
				if d.Notify {
					notified[f.ID] = true
				}
				return nil
			},
		},
		Publisher: pubFunc(func(_ context.Context, fs []finding.Finding) error { sent += len(fs); return nil }),
	}
	f := many(1)[0]
	if err := n.Publish(context.Background(), []finding.Finding{f, f}); err != nil || sent != 1 {
		t.Errorf("Publish(f, f) = %v, sent %d; want 1", err, sent)
	}
}

func TestDeadLetterKey(t *testing.T) {
	u := notify.Undelivered{Finding: finding.Finding{ID: "ab/../c"}, FailedAt: time.Unix(1795500000, 5).UTC()}
	if got, want := notify.DeadLetterKey(&u), "2026/11/24/ab____c-1795500000000000005.json"; got != want {
		t.Errorf("DeadLetterKey() = %q; want %q", got, want)
	}
}

// TestNotifierMetrics: a published finding counts as notified, by rule and
// severity, and one that is not news as deduplicated, in EMF lines that
// read back.
func TestNotifierMetrics(t *testing.T) {
	fs := many(2)
	var buf bytes.Buffer
	n := &notify.Notifier{
		Dedup: fakeDedup{
			decide: func(f finding.Finding) (dedup.Decision, error) { return dedup.Decision{Notify: f.ID == fs[0].ID}, nil },
			commit: func(finding.Finding, dedup.Decision) error { return nil },
		},
		Publisher: pubFunc(func(context.Context, []finding.Finding) error { return nil }),
		Metrics:   &notify.Metrics{W: &emf.Writer{W: &buf}, Function: "detect"},
	}
	if err := n.Publish(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	lines, _ := emf.Parse(&buf)
	got := map[string]emf.Line{}
	for _, l := range lines {
		for m := range l.Metrics {
			got[m] = l
		}
	}
	if l := got[notify.MetricNotified]; l.Metrics[notify.MetricNotified] != 1 || l.Props[emf.DimRule] != fs[0].Rule ||
		l.Props[emf.DimSeverity] != string(fs[0].Severity) || l.Props[emf.DimFunction] != "detect" || len(l.Dimensions) != 3 {
		t.Errorf("notified line = %+v", l)
	}
	if l := got[notify.MetricDeduplicated]; l.Metrics[notify.MetricDeduplicated] != 1 {
		t.Errorf("deduplicated line = %+v", l)
	}
}

// TestNotifierCommitRetried: the dedup table fails the commit of a
// published finding twice (it was briefly unreachable); the commit is
// tried again, so the trigger's retry will not notify it twice. A commit
// that keeps failing is an error, after CommitAttempts tries.
func TestNotifierCommitRetried(t *testing.T) {
	for _, tc := range []struct {
		fails, want int
		ok          bool
	}{{2, 3, true}, {10, 5, false}} {
		commits := 0
		var waits []time.Duration
		n := &notify.Notifier{
			Dedup: fakeDedup{
				decide: func(finding.Finding) (dedup.Decision, error) { return dedup.Decision{Notify: true, Reason: "new"}, nil },
				commit: func(finding.Finding, dedup.Decision) error {
					commits++
					if commits <= tc.fails {
						return errors.New("dial tcp 127.0.0.1:1: connection refused")
					}
					return nil
				},
			},
			Publisher: pubFunc(func(context.Context, []finding.Finding) error { return nil }),
			Sleep:     func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
		}
		err := n.Publish(context.Background(), many(1))
		if (err == nil) != tc.ok || commits != tc.want {
			t.Errorf("%d failures: Publish() = %v after %d commits; want ok %v after %d", tc.fails, err, commits, tc.ok, tc.want)
		}
		if len(waits) != tc.want-1 || waits[0] != 200*time.Millisecond {
			t.Errorf("%d failures: waits %v", tc.fails, waits)
		}
	}
}
