package notify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
)

// memDedup is the dedup store's decision in memory: a finding is news
// until it was committed as notified.
type memDedup map[string]bool

func (m memDedup) Decide(_ context.Context, f finding.Finding) (dedup.Decision, error) {
	if m[f.ID] {
		return dedup.Decision{Reason: "repeat"}, nil
	}
	return dedup.Decision{Notify: true, Reason: "new"}, nil
}

func (m memDedup) Commit(_ context.Context, f finding.Finding, d dedup.Decision) error {
	if d.Notify {
		m[f.ID] = true
	}
	return nil
}

// TestReplay: dead letters are published once per finding through the
// Notifier, whatever number of letters hold it; a finding published since
// (by the trigger's retry) is not sent again; replayed letters are
// removed, so replaying again changes nothing; a finding that fails again
// keeps its letters, and a later replay sends it.
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	store := &notify.DirDeadLetter{Dir: dir}
	fs := many(3)
	at := time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)
	for i, f := range []finding.Finding{fs[0], fs[1], fs[0], fs[2], fs[0]} { // fs[0] dead-lettered on three retries
		if err := store.Put(context.Background(), notify.Undelivered{Finding: f, Reason: "sns down", FailedAt: at.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	seen := memDedup{fs[1].ID: true} // a retry published fs[1] once SNS was back
	var sent []string
	down := map[string]bool{fs[2].ID: true}
	pub := &notify.Notifier{Dedup: seen, Publisher: pubFunc(func(_ context.Context, batch []finding.Finding) error {
		for _, f := range batch {
			if down[f.ID] {
				return &notify.Error{Failed: []notify.Failure{{ID: f.ID, Reason: errors.New("sns: 500")}}}
			}
			sent = append(sent, f.ID)
		}
		return nil
	})}
	res, err := notify.Replay(context.Background(), store, pub, nil)
	if err == nil || res != (notify.ReplayResult{Letters: 5, Findings: 3, Settled: 2, Failed: 1}) {
		t.Fatalf("Replay = %+v, %v; want 5 letters of 3 findings, 2 settled and 1 failed", res, err)
	}
	if len(sent) != 1 || sent[0] != fs[0].ID {
		t.Errorf("sent %v; want only %s (fs[1] was published already, fs[2] failed)", sent, fs[0].ID)
	}
	left, _ := store.List(context.Background())
	if len(left) != 1 || left[0].Finding.ID != fs[2].ID {
		t.Errorf("left %+v; want the letter of the finding that failed", left)
	}
	delete(down, fs[2].ID)
	for round := 2; round <= 3; round++ {
		if _, err := notify.Replay(context.Background(), store, pub, nil); err != nil {
			t.Fatalf("replay %d: %v", round, err)
		}
	}
	if len(sent) != 2 || sent[1] != fs[2].ID {
		t.Errorf("sent %v; want fs[2] once more, then nothing", sent)
	}
	if left, _ := store.List(context.Background()); len(left) != 0 {
		t.Errorf("left %d letters; want none", len(left))
	}
	if res, err := notify.Replay(context.Background(), &notify.DirDeadLetter{Dir: filepath.Join(dir, "none")}, pub, nil); err != nil || res.Letters != 0 {
		t.Errorf("Replay of a folder that does not exist = %+v, %v; want nothing to do", res, err)
	}
	if err := store.Remove(context.Background(), "../x.json"); err == nil {
		t.Error("Remove of a key outside the folder succeeded")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}
