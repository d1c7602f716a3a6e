package compact_test

import (
	"context"
	"path"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/compact"
)

// TestSameRows: compaction keeps every row of every partition-hour, every
// column and NULL included, as a multiset, and leaves one object and its
// manifest per partition-hour.
func TestSameRows(t *testing.T) {
	root := t.TempDir()
	n := ingest(t, root, testSources(t, 6000, 50)...)
	before := rowsOf(t, root)
	if total(before) != int(n) {
		t.Fatalf("the lake holds %d rows; want %d", total(before), n)
	}
	res, err := compactor(root).Run(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if d := diffRows(rowsOf(t, root), before); d != "" {
		t.Fatalf("after compaction: %s", d)
	}
	for dir, names := range files(t, root) {
		if strings.HasPrefix(dir, compact.RollupPrefix+"/") {
			continue // TestRollup
		}
		var objs, mans int
		for _, name := range names {
			switch {
			case strings.HasPrefix(name, "compacted-") && path.Ext(name) == ".parquet":
				objs++
			case strings.HasPrefix(name, "_compacted-"):
				mans++
			default:
				t.Errorf("%s/%s left after compaction", dir, name)
			}
		}
		if objs != 1 || mans != 1 {
			t.Errorf("%s: %d objects and %d manifests; want 1 and 1", dir, objs, mans)
		}
	}
	// A second run has nothing to do.
	res, err = compactor(root).Run(context.Background(), all)
	if err != nil || res.Compacted != 0 || res.ObjectsDeleted != 0 {
		t.Errorf("second run: %+v, %v; want nothing done", res, err)
	}
	_ = compact.SourceColumn
}

// TestRedelivery: a source ingested again after its hours were compacted
// (an SQS message redriven from the DLQ, a CloudWatch Logs retry) writes
// its objects again next to the compacted one; the next run replaces
// their rows, so the lake never keeps them twice. A source seen for the
// first time after compaction (a late delivery) is added to it.
func TestRedelivery(t *testing.T) {
	ctx := context.Background()
	srcs := testSources(t, 6000, 50)
	root := t.TempDir()
	ingest(t, root, srcs[1:]...)
	want := rowsOf(t, root)
	objects := 0
	for _, names := range files(t, root) {
		objects += len(names)
	}
	if _, err := compactor(root).Run(ctx, all); err != nil {
		t.Fatal(err)
	}
	// Every source again, and the one never seen: the lake shows the
	// redelivered rows twice until the next run.
	ingest(t, root, srcs...)
	late := rowsOf(t, ingestOnly(t, srcs[0]))
	if d := diffRows(rowsOf(t, root), plus(scale(want, 2), late)); d != "" {
		t.Fatalf("after redelivery, before the next run: %s", d)
	}
	res, err := compactor(root).Run(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if res.Redelivered != objects {
		t.Errorf("Redelivered = %d; want %d, the objects ingested again", res.Redelivered, objects)
	}
	t.Logf("%+v", res)
	if d := diffRows(rowsOf(t, root), plus(want, late)); d != "" {
		t.Fatalf("after the next run: %s", d)
	}
	// A third delivery of everything, compacted again: still once.
	ingest(t, root, srcs...)
	if _, err := compactor(root).Run(ctx, all); err != nil {
		t.Fatal(err)
	}
	if d := diffRows(rowsOf(t, root), plus(want, late)); d != "" {
		t.Fatalf("after a third delivery: %s", d)
	}
}

// ingestOnly ingests the sources into a lake of their own and returns it.
func ingestOnly(t testing.TB, srcs ...source) string {
	root := t.TempDir()
	ingest(t, root, srcs...)
	return root
}
