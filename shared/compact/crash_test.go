package compact_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/compact"
)

var errCrash = errors.New("crash")

// steps returns the steps a run of c over the lake at root takes, on a
// copy of it.
func steps(t *testing.T, root string, c func(string) *compact.Compactor) []compact.Step {
	t.Helper()
	var out []compact.Step
	cc := c(copyDir(t, root))
	cc.AfterStep = func(s compact.Step) error { out = append(out, s); return nil }
	if _, err := cc.Run(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCrash stops the compactor after each step of a run, as a crash
// would, then runs it again: at the crash no row is lost, readers see
// each row once but between a partition-hour's first new object and its
// last delete (the documented window), and the next run converges to the
// lake compaction makes without a crash. Two runs are crashed: the first
// compaction of freshly ingested hours, and a run that folds in
// redelivered and late objects, writes several objects per hour (a small
// target size) and deletes two keys per request (more steps).
func TestCrash(t *testing.T) {
	ctx := context.Background()
	srcs := testSources(t, 6000, 50)
	first := t.TempDir()
	ingest(t, first, srcs[1:]...)
	want := rowsOf(t, first)

	second := copyDir(t, first)
	if _, err := compactor(second).Run(ctx, all); err != nil {
		t.Fatal(err)
	}
	ingest(t, second, srcs[:10]...) // redelivered, and srcs[0] late
	wantSecond := plus(want, rowsOf(t, ingestOnly(t, srcs[0])))

	small := func(root string) *compact.Compactor {
		c := compactor(root)
		c.TargetBytes, c.RowGroupRows, c.DeleteBatch = 20<<10, 256, 2
		return c
	}
	for _, tc := range []struct {
		name       string
		root       string
		c          func(string) *compact.Compactor
		want       map[string]int
		exactStart bool // the lake holds each row once before the run
	}{
		{"first", first, compactor, want, true},
		{"redelivered", second, small, wantSecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stepList := steps(t, tc.root, tc.c)
			names := map[string]int{}
			for _, s := range stepList {
				names[s.Name]++
			}
			t.Logf("%d steps: %v", len(stepList), names)
			for i, at := range stepList {
				lake := copyDir(t, tc.root)
				c := tc.c(lake)
				n := 0
				c.AfterStep = func(s compact.Step) error {
					if n++; n == i+1 {
						return errCrash
					}
					return nil
				}
				_, err := c.Run(ctx, all)
				if !errors.Is(err, errCrash) {
					t.Fatalf("crash after step %d (%+v): Run = %v; want the crash", i, at, err)
				}
				got := rowsOf(t, lake)
				if d := covers(got, tc.want); d != "" {
					t.Fatalf("crash after step %d (%+v): %s", i, at, d)
				}
				if tc.exactStart && !inWindow(stepList, i) {
					if d := diffRows(got, tc.want); d != "" {
						t.Errorf("crash after step %d (%+v), outside the window: %s", i, at, d)
					}
				}
				if _, err := tc.c(lake).Run(ctx, all); err != nil {
					t.Fatalf("rerun after step %d: %v", i, err)
				}
				if d := diffRows(rowsOf(t, lake), tc.want); d != "" {
					t.Fatalf("rerun after a crash after step %d (%+v): %s", i, at, d)
				}
				checkClean(t, lake, fmt.Sprintf("rerun after step %d", i))
			}
		})
	}
}

// inWindow says whether a crash after steps[i] falls in the window in
// which readers may see a row twice: from its partition-hour's first
// committed object to its last delete.
func inWindow(steps []compact.Step, i int) bool {
	p := steps[i].Partition
	wrote := false
	for _, s := range steps[:i+1] {
		if s.Partition == p && s.Name == compact.StepWrite {
			wrote = true
		}
	}
	last := i == len(steps)-1 || steps[i+1].Partition != p
	return wrote && !(steps[i].Name == compact.StepDelete && last)
}

// checkClean fails unless every partition-hour of the lake holds only one
// generation: its objects and its manifest.
func checkClean(t *testing.T, root, what string) {
	t.Helper()
	for dir, names := range files(t, root) {
		if strings.HasPrefix(dir, compact.RollupPrefix+"/") {
			if len(names) != 1 || names[0] != compact.RollupName {
				t.Errorf("%s: %s holds %v; want its rollup alone", what, dir, names)
			}
			continue
		}
		gens := map[string]bool{}
		for _, n := range names {
			switch {
			case len(n) > 31 && n[:10] == "compacted-":
				gens[n[10:30]] = true
			case len(n) > 32 && n[:11] == "_compacted-":
				gens[n[11:31]] = true
			default:
				t.Errorf("%s: %s/%s left", what, dir, n)
			}
		}
		if len(gens) != 1 {
			t.Errorf("%s: %s holds %d generations; want 1", what, dir, len(gens))
		}
	}
}

// TestCrashEveryRun: a compactor that crashes at its first step not taken
// before, run after run, still ends with the lake a clean run makes.
func TestCrashEveryRun(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	srcs := testSources(t, 3000, 50)
	ingest(t, root, srcs...)
	want := rowsOf(t, root)
	for run := 1; ; run++ {
		n := 0
		c := compactor(root)
		c.DeleteBatch = 3
		c.AfterStep = func(compact.Step) error {
			if n++; n == run {
				return errCrash
			}
			return nil
		}
		_, err := c.Run(ctx, all)
		if d := covers(rowsOf(t, root), want); d != "" {
			t.Fatalf("run %d: %s", run, d)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
		if run > 500 {
			t.Fatal("no convergence after 500 runs")
		}
	}
	if d := diffRows(rowsOf(t, root), want); d != "" {
		t.Fatal(d)
	}
	checkClean(t, root, "after the crashes")
}
