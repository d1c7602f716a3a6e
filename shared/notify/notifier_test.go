package notify_test

import (
	"context"
	"errors"
	"github.com/flowlake/flowlake/integration/stack"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
)

// startDynalite runs the DynamoDB-compatible server from the repository's
// npm dev dependencies on loopback (npm ci first if they are missing).
func startDynalite(t *testing.T) *dynamodb.Client {
	t.Helper()
	return stack.StartDynamoDB(t)
}

// TestNotifierCommitsOnlyPublished: a failed publish leaves no dedup
// state, the retry publishes, and a repeat after that is not published.
func TestNotifierCommitsOnlyPublished(t *testing.T) {
	ctx := context.Background()
	ddb := startDynalite(t)
	if err := dedup.EnsureTable(ctx, ddb, "findings"); err != nil {
		t.Fatal(err)
	}
	store := &dedup.Store{Client: ddb, Table: "findings", Now: func() time.Time { return time.Date(2026, 11, 24, 7, 5, 0, 0, time.UTC) }}

	fs := many(3) // port-scan (low: not notified), host-sweep (high), ssh-brute-force (medium)
	down := true
	var sent [][]string
	p := &notify.SNS{TopicARN: "arn:t", Single: true, Attempts: 2, DeadLetter: &notify.DirDeadLetter{Dir: t.TempDir()},
		Sleep: func(context.Context, time.Duration) error { return nil },
		Client: fakeSNS{publish: func(_ context.Context, in *sns.PublishInput) (*sns.PublishOutput, error) {
			id := idOf(t, in.Message)
			if down && id == fs[1].ID {
				return nil, httpErr(503)
			}
			sent = append(sent, []string{id})
			return &sns.PublishOutput{MessageId: aws.String("m")}, nil
		}}}
	n := &notify.Notifier{Dedup: store, Publisher: p}

	err := n.Publish(ctx, fs)
	if !errors.Is(err, notify.ErrDeadLettered) {
		t.Fatalf("Publish() = %v; want the host-sweep dead-lettered", err)
	}
	state := func(f finding.Finding) (dedup.State, bool) {
		st, ok, err := store.Get(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		return st, ok
	}
	if _, ok := state(fs[1]); ok {
		t.Errorf("the finding whose publish failed has dedup state")
	}
	if st, ok := state(fs[2]); !ok || st.NotifiedSeverity != finding.Medium {
		t.Errorf("published finding: state %+v, %v; want notified medium", st, ok)
	}
	if st, ok := state(fs[0]); !ok || st.NotifiedSeverity != "" {
		t.Errorf("low finding: state %+v, %v; want remembered, not notified", st, ok)
	}
	if len(sent) != 1 || sent[0][0] != fs[2].ID {
		t.Errorf("sent %v; want only %s", sent, fs[2].ID)
	}

	// The retry publishes the failed one, and only it.
	down, sent = false, nil
	if err := n.Publish(ctx, fs); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(sent) != 1 || sent[0][0] != fs[1].ID {
		t.Errorf("retry sent %v; want only %s", sent, fs[1].ID)
	}
	if st, ok := state(fs[1]); !ok || st.NotifiedSeverity != finding.High {
		t.Errorf("after the retry: state %+v, %v; want notified high", st, ok)
	}

	// Seen again: nothing is news.
	sent = nil
	if err := n.Publish(ctx, fs); err != nil || len(sent) != 0 {
		t.Errorf("repeat: %v, sent %v; want nothing sent", err, sent)
	}
}

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
