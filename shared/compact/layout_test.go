package compact_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/flowlake/flowlake/shared/compact"
)

// TestSorted: every compacted object's rows are sorted by interface_id,
// then start (NULLs last), and its row groups say so.
func TestSorted(t *testing.T) {
	root := t.TempDir()
	ingest(t, root, testSources(t, 6000, 50)...)
	c := compactor(root)
	c.RowGroupRows = 500 // several row groups per object
	if _, err := c.Run(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	checked, several := 0, 0
	for _, path := range compactedObjects(t, root) {
		pf := openParquet(t, path)
		if pf.NumRows() > 1000 && len(pf.RowGroups()) < 2 {
			t.Errorf("%s: %d row groups; want several", path, len(pf.RowGroups()))
		}
		if len(pf.RowGroups()) > 1 {
			several++
		}
		for _, rg := range pf.RowGroups() {
			sc := rg.SortingColumns()
			if len(sc) != 2 || sc[0].Path()[0] != "interface_id" || sc[1].Path()[0] != "start" {
				t.Errorf("%s: row group sorting columns %v; want interface_id, start", path, sc)
			}
		}
		type key struct {
			eni   string
			start int64
			null  bool
		}
		var prev *key
		eniCol, _ := pf.Schema().Lookup("interface_id")
		startCol, _ := pf.Schema().Lookup("start")
		r := parquet.NewReader(pf)
		rows := make([]parquet.Row, 64)
		for {
			n, err := r.ReadRows(rows)
			for _, row := range rows[:n] {
				k := key{}
				for _, v := range row {
					switch v.Column() {
					case eniCol.ColumnIndex:
						k.eni = v.String()
						if v.IsNull() {
							k.eni = "\xff\xff" // NULLs last
						}
					case startCol.ColumnIndex:
						k.start, k.null = v.Int64(), v.IsNull()
					}
				}
				if prev != nil && (cmp.Compare(prev.eni, k.eni) > 0 || prev.eni == k.eni && (prev.null && !k.null || !prev.null && !k.null && prev.start > k.start)) {
					t.Fatalf("%s: row (%q, %d) after (%q, %d)", path, k.eni, k.start, prev.eni, prev.start)
				}
				prev = &k
				checked++
			}
			if err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
	}
	if checked != 6000 || several == 0 {
		t.Errorf("checked %d rows, %d objects of several row groups; want 6000 and some", checked, several)
	}
}

// TestTargetSize: a partition-hour larger than the target size becomes as
// few objects as it allows: the row groups of each are under the target
// but for the last (the footer and page index come on top: a few KiB
// here, negligible at 128 MiB), and each object but the last is over a
// third of it.
func TestTargetSize(t *testing.T) {
	root := t.TempDir()
	ingest(t, root, testSources(t, 6000, 50)...)
	want := rowsOf(t, root)
	c := compactor(root)
	const target = 24 << 10
	c.TargetBytes, c.RowGroupRows = target, 200
	if _, err := c.Run(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	if d := diffRows(rowsOf(t, root), want); d != "" {
		t.Fatal(d)
	}
	type object struct{ size, lastRG int64 } // size: of the row groups
	byDir := map[string][]object{}
	for _, path := range compactedObjects(t, root) {
		md := openParquet(t, path).Metadata()
		var o object
		for _, rg := range md.RowGroups {
			o.size += rg.TotalCompressedSize
			o.lastRG = rg.TotalCompressedSize
		}
		byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], o)
	}
	several := 0
	for dir, objs := range byDir {
		if len(objs) > 1 {
			several++
		}
		for i, o := range objs {
			if o.size-o.lastRG > target || i < len(objs)-1 && o.size < target/3 {
				t.Errorf("%s: object %d of %d is %d bytes, its last row group %d; target %d", dir, i, len(objs), o.size, o.lastRG, target)
			}
		}
	}
	if several == 0 {
		t.Error("no partition-hour written as several objects")
	}
}

// TestReplaceChanged: an ingest object written again with other rows
// than those compacted (a source converted again by a newer ingest)
// replaces its rows, as it replaced its own object before compaction.
func TestReplaceChanged(t *testing.T) {
	ctx := context.Background()
	srcs := testSources(t, 6000, 50)
	root := t.TempDir()
	ingest(t, root, srcs...)
	// The object to change, and what it becomes: the object another
	// source wrote for the same partition-hour, under its name.
	var victim, other string
	for dir, names := range files(t, root) {
		if len(names) >= 2 && victim == "" {
			victim, other = filepath.Join(root, dir, names[0]), filepath.Join(root, dir, names[1])
		}
	}
	otherBytes, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	oldRows := rowsOf(t, dirWith(t, victim, nil))
	newRows := rowsOf(t, dirWith(t, victim, otherBytes))
	want := rowsOf(t, root)
	if _, err := compactor(root).Run(ctx, all); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(victim, otherBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := compactor(root).Run(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if res.Redelivered != 1 {
		t.Errorf("Redelivered = %d; want 1", res.Redelivered)
	}
	for r, n := range oldRows {
		want[r] -= n
		if want[r] == 0 {
			delete(want, r)
		}
	}
	if d := diffRows(rowsOf(t, root), plus(want, newRows)); d != "" {
		t.Fatal(d)
	}
}

// dirWith returns a lake holding only the object at path (with content b
// instead, when b is not nil), in the same partition folder.
func dirWith(t *testing.T, path string, b []byte) string {
	t.Helper()
	if b == nil {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	i := strings.Index(filepath.ToSlash(path), "/flows/")
	root := t.TempDir()
	to := filepath.Join(root, filepath.FromSlash(filepath.ToSlash(path)[i+1:]))
	os.MkdirAll(filepath.Dir(to), 0o755)
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestUnknownColumn: a partition-hour holding an object with a column the
// table does not have is left as it is (ErrSchema); the others are
// compacted.
func TestUnknownColumn(t *testing.T) {
	root := t.TempDir()
	ingest(t, root, testSources(t, 6000, 50)...)
	var dir string
	for d := range files(t, root) {
		dir = d
		break
	}
	type odd struct {
		Surprise string `parquet:"surprise"`
	}
	var b bytes.Buffer
	if err := parquet.Write(&b, []odd{{"x"}}); err != nil {
		t.Fatal(err)
	}
	odd0 := filepath.Join(root, dir, "0123456789abcdef0123-0000.parquet")
	if err := os.WriteFile(odd0, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	before := files(t, root)[dir]
	res, err := compactor(root).Run(context.Background(), all)
	if !errors.Is(err, compact.ErrSchema) || len(res.Failed) != 1 || res.Compacted != res.Partitions-1 {
		t.Fatalf("Run = %+v, %v; want one partition-hour failed with ErrSchema, the others compacted", res, err)
	}
	if after := files(t, root)[dir]; strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("%s changed: %v; want %v", dir, after, before)
	}
}

// compactedObjects returns the paths of the compacted objects under root.
func compactedObjects(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	for dir, names := range files(t, root) {
		for _, n := range names {
			if strings.HasPrefix(n, "compacted-") {
				out = append(out, filepath.Join(root, dir, n))
			}
		}
	}
	return out
}

func openParquet(t *testing.T, path string) *parquet.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pf
}
