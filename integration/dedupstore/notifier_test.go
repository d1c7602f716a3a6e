package dedupstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/detect"
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
	// The SNS publisher as the Notifier sees it: the host sweep's publish
	// fails (and is dead-lettered) while "SNS" is down.
	p := publishFunc(func(_ context.Context, batch []finding.Finding) error {
		var ids []string
		var failed []notify.Failure
		for _, f := range batch {
			if down && f.ID == fs[1].ID {
				failed = append(failed, notify.Failure{ID: f.ID, Reason: errors.New("sns: 503")})
				continue
			}
			ids = append(ids, f.ID)
		}
		for _, id := range ids {
			sent = append(sent, []string{id})
		}
		if len(failed) > 0 {
			return &notify.Error{Failed: failed}
		}
		return nil
	})
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

// publishFunc is a notify.Publisher in a function.
type publishFunc func(ctx context.Context, fs []finding.Finding) error

func (f publishFunc) Publish(ctx context.Context, fs []finding.Finding) error { return f(ctx, fs) }

// many returns n distinct findings, cycling through the samples.
func many(n int) []finding.Finding {
	s := detect.Samples()
	out := make([]finding.Finding, n)
	for i := range out {
		f := s[i%len(s)]
		f.Entity = fmt.Sprintf("%s#%d", f.Entity, i)
		f.ID = finding.ID(f.Rule, f.AccountID, f.Entity, f.WindowStart)
		out[i] = f
	}
	return out
}
