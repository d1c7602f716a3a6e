package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

// Enricher is the enrichment step. *enrich.Enricher implements it, and so
// does *LazyEnricher, which builds one on first use.
type Enricher interface {
	Enrich(ctx context.Context, recs []flowlog.Record, out []enrich.Fields) enrich.Stats
}

// Detector is the detection step. Detect is called with each group of
// records (at most 1024, all of one partition) just before they are
// written, with their enrichment (enr[i] for recs[i]; nil when there is no
// Enricher), and returns what they prove. One Process call makes its calls
// from one goroutine; Process calls may run concurrently.
type Detector interface {
	Detect(ctx context.Context, recs []flowlog.Record, enr []enrich.Fields) ([]finding.Finding, error)
}

// DetectFunc is a Detector in a function.
type DetectFunc func(ctx context.Context, recs []flowlog.Record, enr []enrich.Fields) ([]finding.Finding, error)

// Detect implements Detector.
func (f DetectFunc) Detect(ctx context.Context, recs []flowlog.Record, enr []enrich.Fields) ([]finding.Finding, error) {
	return f(ctx, recs, enr)
}

// Publisher is the publishing step: it gets the findings of one source,
// once its rows are committed to the lake. It is not called when there are
// none.
type Publisher interface {
	Publish(ctx context.Context, src lake.Source, fs []finding.Finding) error
}

// PublishFunc is a Publisher in a function.
type PublishFunc func(ctx context.Context, src lake.Source, fs []finding.Finding) error

// Publish implements Publisher.
func (f PublishFunc) Publish(ctx context.Context, src lake.Source, fs []finding.Finding) error {
	return f(ctx, src, fs)
}

// Enrichment is the enrichment of the group of records being written. The
// converter's hook fills it before each group is encoded; the enrichment
// columns of the schema (see Pipeline.Schema) read it, a chunk of rows at a
// time, through its enrich.ColumnReader (lake.HookedColumns), or one record
// at a time with At, by the index the lake passes to their accessors.
type Enrichment struct {
	enrich.ColumnReader // Fields: the current group's enrichment
}

// At returns the enrichment of record i of the current group: all NULL
// when the pipeline has no Enricher.
func (e *Enrichment) At(i int) *enrich.Fields {
	if i < 0 || i >= len(e.Fields) {
		return &enrich.Fields{}
	}
	return &e.Fields[i]
}

// DefaultRejectsPrefix is where samples of rejected lines go, next to the
// data prefix in the lake's store.
const DefaultRejectsPrefix = "rejects"

// Pipeline converts record streams into the lake. The zero value is not
// usable: Store is required. A Pipeline is safe for concurrent use.
type Pipeline struct {
	// Store is the lake: lake.S3Store in AWS, lake.DirStore locally.
	Store lake.Store
	// Prefix is the key prefix of the Parquet data ("" for the root).
	Prefix string
	// RejectsPrefix is the key prefix of the rejected-line samples
	// (default DefaultRejectsPrefix).
	RejectsPrefix string
	// Converter is the template of each conversion's lake.Converter
	// (row-group size, open files, workers); its Schema, Prefix, Hook and
	// OnReject are set by the pipeline.
	Converter lake.Converter
	// Schema returns the lake schema of one conversion, whose enrichment
	// columns read e. Nil: lake.DefaultSchema, extended with the
	// enrichment columns of EnrichGroups (lake.HookedColumns over e) when
	// there is an Enricher.
	Schema func(e *Enrichment) *lake.Schema
	// EnrichGroups are the enrichment groups (enrich.GroupRecord, ...)
	// whose columns the default schema writes; nil: all of them. Leave
	// out the groups with no source: their columns are always NULL.
	EnrichGroups []string
	// Enricher, Detector and Publisher are optional steps: nil skips them.
	Enricher  Enricher
	Detector  Detector
	Publisher Publisher
	// NewDetector, if set, makes the Detector of each source (one per
	// Process call) in place of Detector, for a detector that keeps state
	// across the source's groups; when it is also a Flusher, its Flush
	// findings are added once the source is read (BatchDetectors).
	NewDetector func() Detector
	// Limits bound what an object may cost (see Limits).
	Limits Limits
	// Log receives one line per source and per skip (default
	// slog.Default()). Metrics, if set, receives one EMF line per source.
	Log     *slog.Logger
	Metrics *Metrics
	// Now is the clock (default time.Now), for the delivery lag.
	Now func() time.Time
	// OnReject, if set, is called for each line that does not parse, in
	// order, as it is read (the CLI prints them); the sample in the
	// rejects prefix is written either way.
	OnReject func(*flowlog.ParseError)
}

// Result is what processing one source did.
type Result struct {
	lake.Summary
	NoData     int64        // NODATA records
	SkipData   int64        // SKIPDATA records
	InputBytes int64        // bytes read from the source (compressed, for an S3 object)
	TextBytes  int64        // bytes of flow-log text after decompression
	NewestEnd  int64        // largest record end (Unix seconds), 0 if none
	OldestEnd  int64        // smallest record end, 0 if none
	RejectsKey string       // key of the rejects sample, "" when none
	Findings   int          // findings published
	Enrichment enrich.Stats // what enrichment did
	Format     string       // the format in effect at the end
	Unknown    []string     // header names the reader did not know
	Damage     *Damage      // where the compressed stream was damaged, nil if it was not (ProcessObject)
}

func (p *Pipeline) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pipeline) rejectsPrefix() string {
	if p.RejectsPrefix != "" {
		return strings.Trim(p.RejectsPrefix, "/")
	}
	return DefaultRejectsPrefix
}

// RejectsKey returns the key of the rejected-line sample of src.
func (p *Pipeline) RejectsKey(src lake.Source) string {
	return p.rejectsPrefix() + "/" + src.Hash() + ".jsonl"
}

// Process reads r to the end and writes its records to the lake under keys
// derived from src: parse, enrich, write Parquet, detect, and, once the
// objects are committed, publish. Lines that do not parse are counted, a
// sample goes to the rejects prefix, and the good rows land. An error
// means the source must be retried; a retry overwrites what was written.
func (p *Pipeline) Process(ctx context.Context, src lake.Source, r lake.RecordReader) (Result, error) {
	return p.process(ctx, src, r, nil)
}

// process is Process; damaged, if set, tells once r has ended whether its
// text ended at damage, which then goes to the result and the rejects
// sample.
func (p *Pipeline) process(ctx context.Context, src lake.Source, r lake.RecordReader, damaged func() *Damage) (Result, error) {
	t0 := p.now()
	var res Result
	var findings []finding.Finding
	enr := &Enrichment{}
	var buf []enrich.Fields

	c := p.Converter
	c.Prefix = p.Prefix
	c.Schema = nil
	switch {
	case p.Schema != nil:
		c.Schema = p.Schema(enr)
	case p.Enricher != nil:
		cols, err := lake.HookedColumns(&enr.ColumnReader, enrich.ColumnsIn(p.EnrichGroups)...)
		var s *lake.Schema
		if err == nil {
			s, err = lake.DefaultSchema.Extend(cols...)
		}
		if err != nil {
			return res, fmt.Errorf("enriched schema: %w", err)
		}
		c.Schema = s
	}
	c.OnReject = p.OnReject
	det := p.Detector
	if p.NewDetector != nil {
		det = p.NewDetector()
	}
	c.Hook = func(ctx context.Context, recs []flowlog.Record) error {
		for i := range recs {
			rec := &recs[i]
			switch rec.LogStatus {
			case flowlog.LogStatusNoData:
				res.NoData++
			case flowlog.LogStatusSkipData:
				res.SkipData++
			}
			if rec.Has(flowlog.FieldEnd) {
				if rec.End > res.NewestEnd {
					res.NewestEnd = rec.End
				}
				if res.OldestEnd == 0 || rec.End < res.OldestEnd {
					res.OldestEnd = rec.End
				}
			}
		}
		var fields []enrich.Fields
		if p.Enricher != nil {
			if cap(buf) < len(recs) {
				buf = make([]enrich.Fields, len(recs))
			}
			fields = buf[:len(recs)]
			clear(fields)
			res.Enrichment.Add(p.Enricher.Enrich(ctx, recs, fields))
		}
		enr.Fields = fields
		if det != nil {
			fs, err := det.Detect(ctx, recs, fields)
			if err != nil {
				return fmt.Errorf("detect: %w", err)
			}
			findings = append(findings, fs...)
		}
		return nil
	}

	sum, err := c.Convert(ctx, p.Store, src, r)
	res.Summary = sum
	if fr, ok := r.(interface{ Format() *flowlog.Format }); ok {
		if fm := fr.Format(); fm != nil {
			res.Format = fm.String()
			res.Unknown = fm.Unknown()
		}
	}
	if err != nil {
		return res, err
	}
	if damaged != nil {
		res.Damage = damaged()
	}
	if fl, ok := det.(Flusher); ok {
		fs, err := fl.Flush(ctx)
		if err != nil {
			return res, fmt.Errorf("detect %s: %w", src.ID, err)
		}
		findings = append(findings, fs...)
	}
	if sum.Rejected > 0 || res.Damage != nil {
		key := p.RejectsKey(src)
		if err := p.writeRejects(ctx, key, src, sum, res.Damage); err != nil {
			return res, err
		}
		res.RejectsKey = key
	}
	for i := range findings {
		findings[i].Source = src.ID // a redelivery of src is counted once
	}
	if len(findings) > 0 && p.Publisher != nil {
		if err := p.Publisher.Publish(ctx, src, findings); err != nil {
			return res, fmt.Errorf("publish %d findings of %s: %w", len(findings), src.ID, err)
		}
		res.Findings = len(findings)
	}
	res.Elapsed = p.now().Sub(t0)
	return res, nil
}

// Reject is one line of a rejects sample (JSON Lines): a rejected line, or
// the damage that ended a source's compressed stream (Damaged, last).
type Reject struct {
	Source   string `json:"source"`
	Rejected int64  `json:"rejected"` // rejected lines of the whole source
	Line     int    `json:"line"`
	Column   int    `json:"column,omitempty"`
	Field    string `json:"field,omitempty"`
	Reason   string `json:"reason"`
	Value    string `json:"value,omitempty"`
	// Damaged marks the damage entry: Line is the first line not read,
	// Offset the stored byte the decoder reached, TextOffset the text
	// read before it (see Damage).
	Damaged    bool   `json:"damaged,omitempty"`
	Offset     *int64 `json:"offset,omitempty"`
	TextOffset *int64 `json:"text_offset,omitempty"`
}

// writeRejects writes the sample of rejected lines of src to key, and the
// damage that ended it, if any.
func (p *Pipeline) writeRejects(ctx context.Context, key string, src lake.Source, sum lake.Summary, d *Damage) error {
	obj, err := p.Store.Create(ctx, key)
	if err != nil {
		return fmt.Errorf("rejects of %s: %w", src.ID, err)
	}
	enc := json.NewEncoder(obj)
	for _, pe := range sum.Rejects {
		rj := Reject{Source: src.ID, Rejected: sum.Rejected, Line: pe.Line, Column: pe.Column, Field: pe.Field, Value: pe.Value}
		if pe.Err != nil {
			rj.Reason = pe.Err.Error()
		}
		if err := enc.Encode(rj); err != nil {
			obj.Abort()
			return fmt.Errorf("rejects of %s: %w", src.ID, err)
		}
	}
	if d != nil {
		rj := Reject{Source: src.ID, Rejected: sum.Rejected, Line: d.Line, Reason: "damaged: " + d.Reason,
			Damaged: true, Offset: &d.Offset, TextOffset: &d.TextOffset}
		if err := enc.Encode(rj); err != nil {
			obj.Abort()
			return fmt.Errorf("rejects of %s: %w", src.ID, err)
		}
	}
	if err := obj.Commit(); err != nil {
		return fmt.Errorf("rejects of %s: %w", src.ID, err)
	}
	return nil
}

// report logs a processed source and emits its metrics.
func (p *Pipeline) report(ctx context.Context, res Result, attrs ...any) {
	now := p.now()
	args := []any{"source", res.Source, "records", res.Records, "rejected", res.Rejected,
		"nodata", res.NoData, "skipdata", res.SkipData, "input_bytes", res.InputBytes,
		"parquet_bytes", res.Bytes, "objects", len(res.Keys), "duration_ms", res.Elapsed.Milliseconds()}
	if res.NewestEnd > 0 {
		args = append(args, "delivery_lag_s", now.Unix()-res.NewestEnd)
	}
	if res.RejectsKey != "" {
		args = append(args, "rejects_key", res.RejectsKey)
	}
	if d := res.Damage; d != nil {
		args = append(args, "damaged_at", d.Offset, "damaged_line", d.Line)
	}
	if res.Findings > 0 {
		args = append(args, "findings", res.Findings)
	}
	if len(res.Unknown) > 0 {
		args = append(args, "unknown_fields", res.Unknown)
	}
	if w := res.Enrichment.Warnings(); w > 0 {
		args = append(args, "enrich_warnings", w)
	}
	args = append(args, attrs...)
	p.log().InfoContext(ctx, "ingested", args...)
	if p.Metrics != nil {
		p.Metrics.Ingested(ctx, res, now)
	}
}

// skipped logs an object that is not a flow-log file and counts it.
func (p *Pipeline) skipped(ctx context.Context, bucket, key, reason string) {
	p.log().InfoContext(ctx, "skipped object", "bucket", bucket, "key", key, "reason", reason)
	if p.Metrics != nil {
		p.Metrics.Skipped(ctx, p.now())
	}
}
