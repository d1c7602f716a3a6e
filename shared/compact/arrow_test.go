package compact_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// TestPruningBoundsArrow reads every compacted object with arrow-go, a
// Parquet reader independent of the parquet-go that wrote it, as Athena's
// would: each has the rows its footer says, every column chunk a column
// and an offset index, and the bounds of interface_id, the first sort
// key, ascend from page to page and from row group to row group without
// overlapping (but where one interface spans both), so that min/max
// pruning on it skips all but the pages of the interfaces asked for.
func TestPruningBoundsArrow(t *testing.T) {
	root := t.TempDir()
	ingest(t, root, testSources(t, 6000, 50)...)
	c := compactor(root)
	c.RowGroupRows, c.PageBytes = 1000, 2<<10 // several row groups, and pages in each
	if _, err := c.Run(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	objects, pages := 0, 0
	for _, path := range compactedObjects(t, root) {
		f, err := file.OpenParquetFile(path, false)
		if err != nil {
			t.Fatalf("arrow-go: %s: %v", path, err)
		}
		objects++
		sch := f.MetaData().Schema
		eni := sch.ColumnIndexByName("interface_id")
		if eni < 0 {
			t.Fatalf("%s: no interface_id", path)
		}
		var rows int64
		var prevMax []byte
		for rgi := range f.NumRowGroups() {
			rg := f.RowGroup(rgi)
			rows += rg.NumRows()
			pir, err := f.GetPageIndexReader().RowGroup(rgi)
			if err != nil {
				t.Fatalf("%s row group %d: page index: %v", path, rgi, err)
			}
			for ci := range sch.NumColumns() {
				if cx, err := pir.GetColumnIndex(ci); err != nil || cx == nil {
					t.Fatalf("%s row group %d column %s: no column index (%v)", path, rgi, sch.Column(ci).Path(), err)
				}
				if oi, err := pir.GetOffsetIndex(ci); err != nil || oi == nil || len(oi.GetPageLocations()) == 0 {
					t.Fatalf("%s row group %d column %s: no offset index (%v)", path, rgi, sch.Column(ci).Path(), err)
				}
			}
			idx, _ := pir.GetColumnIndex(eni)
			mins, maxs, nulls := idx.GetMinValues(), idx.GetMaxValues(), idx.GetNullPages()
			if len(mins) > 1 {
				if o := idx.GetBoundaryOrder(); o != metadata.Ascending {
					t.Errorf("%s row group %d: interface_id boundary order %v; want ascending", path, rgi, o)
				}
			}
			for p := range mins {
				pages++
				if nulls[p] {
					t.Errorf("%s row group %d page %d: interface_id all NULL", path, rgi, p)
					continue
				}
				if bytes.Compare(mins[p], maxs[p]) > 0 || (prevMax != nil && bytes.Compare(prevMax, mins[p]) > 0) {
					t.Errorf("%s row group %d page %d: interface_id bounds [%s, %s] after a page ending %s: not ascending",
						path, rgi, p, mins[p], maxs[p], prevMax)
				}
				prevMax = maxs[p]
			}
		}
		if rows != f.NumRows() || rows == 0 {
			t.Errorf("%s: row groups hold %d rows; the footer says %d", path, rows, f.NumRows())
		}
		f.Close()
	}
	t.Logf("%d objects, %d interface_id pages", objects, pages)
	if objects == 0 || pages < 2*objects {
		t.Errorf("%d objects, %d interface_id pages: want several pages an object", objects, pages)
	}
}
