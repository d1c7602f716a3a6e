package lake

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/parquet-go/parquet-go"
)

// SkipPageBoundsOptions returns the writer options the file layout had
// before the page index fix: parquet.SkipPageBounds on every string column
// and on the leaves of every list and map column. parquet-go then writes
// min = max = "" in the column index of pages that hold values. The page
// index tests write with them to prove that their checks catch it.
func SkipPageBoundsOptions(s *Schema) []parquet.WriterOption {
	var opts []parquet.WriterOption
	for i := range s.cols {
		c := &s.cols[i]
		switch c.Type {
		case TypeInt, TypeBigInt, TypeTimestamp:
		case TypeArrayString:
			opts = append(opts, parquet.SkipPageBounds(c.Name, "list", "element"))
		case TypeMapStringString:
			opts = append(opts, parquet.SkipPageBounds(c.Name, "key_value", "key"),
				parquet.SkipPageBounds(c.Name, "key_value", "value"))
		default:
			opts = append(opts, parquet.SkipPageBounds(c.Name))
		}
	}
	return opts
}

// WriteObject writes recs to w as one object, the way a conversion writes
// a partition's object from an input that carries fields (the converter's
// file layout, row groups and column writers, run called before each group
// of up to 1024 records is encoded, as Converter.Hook).
func WriteObject(ctx context.Context, w io.Writer, s *Schema, fields flowlog.FieldSet, recs []flowlog.Record,
	run func(context.Context, []flowlog.Record) error) error {
	return WriteObjectSized(ctx, w, s, fields, recs, run, 128<<10, pageBytes)
}

// WriteObjectSized is WriteObject with row groups of rgRows rows and pages
// closed at pageBytes (see leafEncoder.pageSize).
func WriteObjectSized(ctx context.Context, w io.Writer, s *Schema, fields flowlog.FieldSet, recs []flowlog.Record,
	run func(context.Context, []flowlog.Record) error, rgRows, pageBytes int) error {
	fw := newFileWriter(w, s.fileSchema(fields), rgRows, 64<<20)
	fw.pageBytes = pageBytes
	scr := []*scratch{{}}
	return writeGroups(ctx, recs, run, func(group []flowlog.Record, idx []int32, h *hook) error {
		return fw.write(group, idx, scr, h)
	}, fw.close)
}

// WriteReferenceObject is WriteObject with the reference writer
// (refWriter, parquet-go's), extra appended to its options.
func WriteReferenceObject(ctx context.Context, w io.Writer, s *Schema, fields flowlog.FieldSet, recs []flowlog.Record,
	run func(context.Context, []flowlog.Record) error, extra ...parquet.WriterOption) error {
	fs := *s.fileSchema(fields)
	fs.opts = append(append([]parquet.WriterOption(nil), fs.opts...), extra...)
	fw := newRefWriter(w, &fs, 128<<10, 64<<20)
	scr := []*refScratch{{}}
	return writeGroups(ctx, recs, run, func(group []flowlog.Record, idx []int32, h *hook) error {
		return fw.write(group, idx, scr, h)
	}, fw.close)
}

func writeGroups(ctx context.Context, recs []flowlog.Record, run func(context.Context, []flowlog.Record) error,
	write func([]flowlog.Record, []int32, *hook) error, close func() error) error {
	ident := make([]int32, batchSize)
	for i := range ident {
		ident[i] = int32(i)
	}
	for len(recs) > 0 {
		group := recs[:min(len(recs), batchSize)]
		recs = recs[len(group):]
		h := &hook{run: func() error { return run(ctx, group) }}
		if err := write(group, ident[:len(group)], h); err != nil {
			return fmt.Errorf("write object: %w", err)
		}
		if err := h.wait(); err != nil {
			return fmt.Errorf("write object: %w", err)
		}
	}
	if err := close(); err != nil {
		return fmt.Errorf("close object: %w", err)
	}
	return nil
}

// TestEnrichment runs an enricher on each group of records a Converter
// encodes (as its Hook) and provides the columns that read the result, as
// pipeline.Pipeline does, for this package's tests (the pipeline imports
// this package). One TestEnrichment serves one conversion at a time.
type TestEnrichment struct {
	Enricher *enrich.Enricher
	// Groups, if not nil, are the enrichment groups (enrich.GroupRecord,
	// GroupIPRanges, ...) whose columns are written; nil writes them all.
	// Leaving out the groups that have no source (no mmdb, no EC2) keeps
	// their always-NULL columns out of the files, which read them as NULL
	// anyway.
	Groups []string

	mu    sync.Mutex
	out   []enrich.Fields
	cols  enrich.ColumnReader // reads out
	stats enrich.Stats
}

// Hook enriches recs; set it as Converter.Hook.
func (e *TestEnrichment) Hook(ctx context.Context, recs []flowlog.Record) error {
	if cap(e.out) < len(recs) {
		e.out = make([]enrich.Fields, len(recs))
	}
	e.out = e.out[:len(recs)]
	st := e.Enricher.Enrich(ctx, recs, e.out)
	e.cols.Fields = e.out
	e.mu.Lock()
	e.stats.Add(st)
	e.mu.Unlock()
	return nil
}

// Stats returns the enricher's counters summed over every hook call.
func (e *TestEnrichment) Stats() enrich.Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// Schema returns DefaultSchema extended with the enrichment columns of
// e.Groups, reading what Hook computed.
func (e *TestEnrichment) Schema() *Schema {
	cols, err := HookedColumns(&e.cols, enrich.ColumnsIn(e.Groups)...)
	if err != nil {
		panic(err) // the columns are fixed and checked by TableSchema
	}
	s, err := DefaultSchema.Extend(cols...)
	if err != nil {
		panic(err)
	}
	return s
}
