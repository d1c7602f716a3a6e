package lake

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// RecordReader is what Convert reads: a flowlog.Reader, or anything that
// wraps one. ReadInto returns a *flowlog.ParseError for a bad line and goes
// on; io.EOF at the end; any other error is final.
type RecordReader interface {
	ReadInto(rec *flowlog.Record) error
}

// Summary is what a conversion did.
type Summary struct {
	Source     string                // the source's ID
	Records    int64                 // rows written
	Rejected   int64                 // lines that did not parse
	Rejects    []*flowlog.ParseError // the first MaxRejects of them, with line numbers
	Partitions []string              // partition paths written, sorted
	Keys       []string              // object keys written, sorted
	Bytes      int64                 // bytes of Parquet written
	Elapsed    time.Duration
}

// MaxRejects bounds Summary.Rejects; Summary.Rejected counts them all.
const MaxRejects = 100

// Converter writes records to a lake. The zero value uses DefaultSchema and
// the defaults below.
type Converter struct {
	Schema *Schema // nil: DefaultSchema
	Prefix string  // key prefix in the store, "" for the root

	// RowGroupRows and RowGroupBytes bound a row group (defaults 131072
	// rows, 64 MiB of encoded data); this bounds memory per open file.
	RowGroupRows  int
	RowGroupBytes int64
	// FileRows starts a new object (part) in a partition after this many
	// rows (default 8 Mi).
	FileRows int64
	// MaxOpen bounds the partitions with an open object (default 8): the
	// least recently used is finished when a new one is needed, and its
	// later rows go to its next part. Records wait in groups of 1024 per
	// partition, at most 2×MaxOpen (at least 16) groups. Memory is about
	// 10 MiB per open object plus 1 MiB per group, whatever the input size.
	MaxOpen int
	// Workers is the number of goroutines encoding columns (default
	// GOMAXPROCS).
	Workers int
	// Hook, if set, is called with each group of records of one
	// partition (up to 1024) just before they are encoded; column
	// accessors get the index of their record in that group. Enrichment
	// uses it to look up a whole group at once.
	Hook func(ctx context.Context, recs []flowlog.Record) error
	// OnReject, if set, is called for each line that did not parse, in
	// order, from the reading goroutine.
	OnReject func(*flowlog.ParseError)
}

// Convert writes the records of r to store with the zero Converter.
func Convert(ctx context.Context, store Store, src Source, r RecordReader) (Summary, error) {
	var c Converter
	return c.Convert(ctx, store, src, r)
}

const batchSize = 1024

type batch struct {
	recs   []flowlog.Record
	n      int
	fields flowlog.FieldSet // union of the formats the records were read in
}

// formatter is implemented by flowlog.Reader: the format in effect.
type formatter interface{ Format() *flowlog.Format }

// allFields stands for "any field" when the reader does not tell its format.
var allFields = flowlog.AllFields()

type readResult struct {
	b   *batch
	err error
}

// Convert reads r to the end and writes every good record to store, under
// keys derived from src. Reading runs in its own goroutine, ahead of the
// encoding. On error, objects not yet committed are discarded; objects
// already committed stay, and a retry overwrites them.
func (c *Converter) Convert(ctx context.Context, store Store, src Source, r RecordReader) (Summary, error) {
	t0 := time.Now()
	s := c.Schema
	if s == nil {
		s = DefaultSchema
	}
	cv := &conversion{
		c: c, s: s, schemas: map[flowlog.FieldSet]*fileSchema{}, store: store, src: src, hash: src.Hash(),
		open:  map[Partition]*partWriter{},
		parts: map[Partition]int{},
		keys:  map[string]bool{},
	}
	if cv.src.Time.IsZero() {
		cv.src.Time = t0 // never the Unix epoch: projection starts years later
	}
	cv.rgRows = cmpOr(c.RowGroupRows, 128<<10)
	cv.rgBytes = cmpOr(c.RowGroupBytes, 64<<20)
	cv.fileRows = cmpOr(c.FileRows, 8<<20)
	cv.maxOpen = cmpOr(c.MaxOpen, 8)
	workers := cmpOr(c.Workers, runtime.GOMAXPROCS(0))
	for range workers {
		cv.scr = append(cv.scr, &scratch{})
	}
	sum := Summary{Source: src.ID}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan *batch, 3)
	for range cap(free) {
		free <- &batch{recs: make([]flowlog.Record, batchSize)}
	}
	full := make(chan readResult, cap(free))
	go cv.read(ctx, r, free, full, &sum)

	var err error
	for res := range full {
		if err == nil && res.b != nil {
			err = cv.route(ctx, res.b.recs[:res.b.n], res.b.fields)
			sum.Records += int64(res.b.n)
		}
		if res.b != nil {
			free <- res.b
		}
		if err == nil && res.err != nil {
			err = res.err
		}
		if err != nil {
			cancel()
		}
	}
	if err == nil {
		err = ctx.Err() // canceled: the reader stopped early, so the objects are partial
	}
	for _, pg := range cv.pend {
		if err == nil {
			err = cv.encode(ctx, pg)
		}
	}
	if err == nil {
		err = cv.closeAll()
	}
	if err != nil {
		for _, pw := range cv.open {
			pw.obj.Abort()
		}
		return sum, err
	}
	sum.Bytes = cv.bytes
	for p := range cv.parts {
		sum.Partitions = append(sum.Partitions, p.Path())
	}
	for k := range cv.keys {
		sum.Keys = append(sum.Keys, k)
	}
	slices.Sort(sum.Partitions)
	slices.Sort(sum.Keys)
	sum.Elapsed = time.Since(t0)
	return sum, nil
}

func cmpOr[T int | int64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// read fills batches from r and sends them on full; it closes full at the
// end. Rejects are counted here, in line order.
func (cv *conversion) read(ctx context.Context, r RecordReader, free chan *batch, full chan<- readResult, sum *Summary) {
	defer close(full)
	fr, _ := r.(formatter)
	var fm *flowlog.Format
	fields := allFields
	for {
		var b *batch
		select {
		case b = <-free:
		case <-ctx.Done():
			return
		}
		b.n, b.fields = 0, flowlog.FieldSet{}
		var err error
		for b.n < len(b.recs) {
			err = r.ReadInto(&b.recs[b.n])
			if err == nil {
				if fr != nil {
					if f := fr.Format(); f != fm {
						fm, fields = f, f.Set()
					}
				}
				b.fields = b.fields.Union(fields)
				b.n++
				continue
			}
			var pe *flowlog.ParseError
			if errors.As(err, &pe) {
				sum.Rejected++
				if len(sum.Rejects) < MaxRejects {
					sum.Rejects = append(sum.Rejects, pe)
				}
				if cv.c.OnReject != nil {
					cv.c.OnReject(pe)
				}
				err = nil
				continue
			}
			break
		}
		if err == io.EOF {
			err = nil
		} else if err != nil {
			err = fmt.Errorf("read %s: %w", cv.src.ID, err)
		}
		full <- readResult{b: b, err: err}
		if err != nil || b.n < len(b.recs) {
			return
		}
	}
}

type conversion struct {
	c        *Converter
	s        *Schema
	store    Store
	src      Source
	hash     string
	schemas  map[flowlog.FieldSet]*fileSchema
	scr      []*scratch
	rgRows   int
	rgBytes  int64
	fileRows int64
	maxOpen  int

	open  map[Partition]*partWriter // partitions with an open object
	parts map[Partition]int         // next part number of every partition seen
	keys  map[string]bool
	bytes int64
	tick  int64

	pend []*pending // in the order partitions were first seen
}

type partWriter struct {
	p       Partition
	key     string
	obj     Object
	fw      *fileWriter
	lastUse int64
}

// partitionOf returns the partition of a record.
func (cv *conversion) partitionOf(r *flowlog.Record) Partition {
	p := Partition{Account: cv.src.Account, Region: cv.src.Region}
	if p.Account == "" {
		p.Account = Unknown
		if r.Has(flowlog.FieldAccountID) {
			p.Account = r.AccountID
		}
	}
	if p.Region == "" {
		switch {
		case r.Has(flowlog.FieldRegion):
			p.Region = r.Region
		case cv.src.FallbackRegion != "":
			p.Region = cv.src.FallbackRegion
		default:
			p.Region = Unknown
		}
	}
	switch {
	case r.Has(flowlog.FieldStart):
		p.Hour = r.Start / 3600
	case r.Has(flowlog.FieldEnd):
		p.Hour = r.End / 3600
	default: // no time: the source's (Convert sets one)
		p.Hour = cv.src.Time.Unix() / 3600
	}
	return p
}

// pending is the records of one partition waiting to be encoded: records
// are copied out of the read batches into one contiguous group per
// partition, so that a group is encoded in one pass over memory that is
// its own, however the partitions interleave in the input.
type pending struct {
	p       Partition
	recs    []flowlog.Record
	n       int
	fields  flowlog.FieldSet
	lastUse int64
	// order's scratch
	keys   []rowKey
	idx    []int32
	seen   map[uint64]int32
	ids    []string
	ranks  []int32
	byID   []int32
	rankOf []int32
	packed []uint64
}

// route copies a batch's records to their partition's pending group and
// encodes the groups that fill up. fields are the fields the records'
// formats carry.
func (cv *conversion) route(ctx context.Context, recs []flowlog.Record, fields flowlog.FieldSet) error {
	var pg *pending
	for i := range recs {
		p := cv.partitionOf(&recs[i])
		if pg == nil || pg.p != p {
			var err error
			if pg, err = cv.pendingFor(ctx, p); err != nil {
				return err
			}
		}
		pg.recs[pg.n] = recs[i]
		pg.n++
		pg.fields = pg.fields.Union(fields)
		if pg.n == len(pg.recs) {
			if err := cv.encode(ctx, pg); err != nil {
				return err
			}
		}
	}
	return nil
}

// rowKey is a row's sort key when order compares fields.
type rowKey struct {
	start int64
	row   int32
}

// order returns the group's rows sorted by interface id, then start, then
// row. Each row's key packs the interface's rank in the group, its start
// less the group's earliest and its row into one integer, so the sort
// compares integers; a group whose starts spread too wide for that sorts
// by comparing the fields.
func (pg *pending) order(recs []flowlog.Record) []int32 {
	const rowBits, rankBits = 10, 11 // batchSize rows, as many interfaces
	const startBits = 64 - rowBits - rankBits
	ids := pg.ids[:0]
	ranks := pg.ranks[:0]
	if pg.seen == nil {
		pg.seen = make(map[uint64]int32)
	}
	defer func() { clear(pg.seen); clear(pg.ids) }() // drop the strings
	minStart, maxStart := int64(0), int64(0)
	last, lastAt := "", int32(-1)
	collide := false
	for i := range recs {
		id := recs[i].InterfaceID
		if lastAt < 0 || id != last {
			// keyed by the id's first 8 bytes after "eni-": a second id
			// with the same 8 sorts by fields
			var k uint64
			if len(id) >= 12 {
				k = binary.BigEndian.Uint64([]byte(id[4:12]))
			} else {
				k = uint64(len(id)) | 1<<63 // no 12-byte id has these
			}
			at, ok := pg.seen[k]
			if !ok {
				at = int32(len(ids))
				pg.seen[k] = at
				ids = append(ids, id)
			} else if ids[at] != id {
				collide = true
			}
			last, lastAt = id, at
		}
		ranks = append(ranks, lastAt)
		if s := recs[i].Start; i == 0 {
			minStart, maxStart = s, s
		} else {
			minStart, maxStart = min(minStart, s), max(maxStart, s)
		}
	}
	pg.ids, pg.ranks = ids, ranks
	// a spread that overflows is negative: as a uint64, over 1<<startBits
	if collide || len(recs) > 1<<rowBits || len(ids) > 1<<rankBits ||
		uint64(maxStart-minStart) >= 1<<startBits {
		return pg.orderByFields(recs)
	}
	// ids in order: rankOf[first-seen index] = rank
	byID := pg.byID[:0]
	for i := range ids {
		byID = append(byID, int32(i))
	}
	slices.SortFunc(byID, func(a, b int32) int { return strings.Compare(ids[a], ids[b]) })
	rankOf := slices.Grow(pg.rankOf[:0], len(ids))[:len(ids)]
	for r, at := range byID {
		rankOf[at] = int32(r)
	}
	pg.byID, pg.rankOf = byID, rankOf
	keys := pg.packed[:0]
	for i := range recs {
		k := uint64(rankOf[ranks[i]])<<(startBits+rowBits) |
			uint64(recs[i].Start-minStart)<<rowBits | uint64(i)
		keys = append(keys, k)
	}
	slices.Sort(keys)
	idx := pg.idx[:0]
	for _, k := range keys {
		idx = append(idx, int32(k&(1<<rowBits-1)))
	}
	pg.packed, pg.idx = keys, idx
	return idx
}

// orderByFields is order by comparing the fields, for a group whose keys do
// not pack.
func (pg *pending) orderByFields(recs []flowlog.Record) []int32 {
	keys := pg.keys[:0]
	for i := range recs {
		keys = append(keys, rowKey{recs[i].Start, int32(i)})
	}
	slices.SortFunc(keys, func(a, b rowKey) int {
		if c := strings.Compare(recs[a.row].InterfaceID, recs[b.row].InterfaceID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.row, b.row)
	})
	idx := pg.idx[:0]
	for _, k := range keys {
		idx = append(idx, k.row)
	}
	pg.keys, pg.idx = keys, idx
	return idx
}

// pendingFor returns the pending group of p. At most 2×MaxOpen (at least
// 16) groups exist: a new partition takes over the least recently used
// group, encoding it.
func (cv *conversion) pendingFor(ctx context.Context, p Partition) (*pending, error) {
	cv.tick++
	var lru *pending
	for _, pg := range cv.pend {
		if pg.p == p {
			pg.lastUse = cv.tick
			return pg, nil
		}
		if lru == nil || pg.lastUse < lru.lastUse {
			lru = pg
		}
	}
	if len(cv.pend) < max(2*cv.maxOpen, 16) {
		pg := &pending{p: p, recs: make([]flowlog.Record, batchSize), lastUse: cv.tick}
		cv.pend = append(cv.pend, pg)
		return pg, nil
	}
	if err := cv.encode(ctx, lru); err != nil {
		return nil, err
	}
	lru.p, lru.lastUse = p, cv.tick
	return lru, nil
}

// encode runs the hook on a pending group and writes it to its partition.
func (cv *conversion) encode(ctx context.Context, pg *pending) error {
	if pg.n == 0 {
		return nil
	}
	recs := pg.recs[:pg.n]
	var h *hook
	if cv.c.Hook != nil {
		h = &hook{run: func() error { return cv.c.Hook(ctx, recs) }}
	}
	// Rows go out in compaction's order within each group: 12.7% fewer
	// bytes (16.6 to 14.5 MiB for 1,000,000 rich records unenriched,
	// against 15.5 for DuckDB's COPY zstd), at a CPU cost the bench does
	// not tell from its noise.
	err := cv.write(ctx, pg.p, recs, pg.order(recs), pg.fields, h)
	if err == nil && h != nil {
		err = h.wait() // an empty write never ran it
	}
	clear(recs) // drop the strings
	pg.n, pg.fields = 0, flowlog.FieldSet{}
	return err
}

func (cv *conversion) write(ctx context.Context, p Partition, recs []flowlog.Record, idx []int32, fields flowlog.FieldSet, h *hook) error {
	for len(idx) > 0 {
		pw, err := cv.writerFor(ctx, p, fields)
		if err != nil {
			return err
		}
		n := int(min(int64(len(idx)), cv.fileRows-pw.fw.rows))
		if err := pw.fw.write(recs, idx[:n], cv.scr, h); err != nil {
			return fmt.Errorf("write %s: %w", pw.key, err)
		}
		idx = idx[n:]
		if pw.fw.rows >= cv.fileRows {
			if err := cv.finish(pw); err != nil {
				return err
			}
		}
	}
	return nil
}

// writerFor returns the open object of p, opening its next part (and
// finishing the least recently used partition if too many are open). An
// open object whose columns lack some of fields (a header switched to a
// wider format) is finished, and the next part has the columns of both.
func (cv *conversion) writerFor(ctx context.Context, p Partition, fields flowlog.FieldSet) (*partWriter, error) {
	cv.tick++
	if pw := cv.open[p]; pw != nil {
		if pw.fw.fs.fields.Contains(fields) {
			pw.lastUse = cv.tick
			return pw, nil
		}
		fields = fields.Union(pw.fw.fs.fields)
		if err := cv.finish(pw); err != nil {
			return nil, err
		}
	}
	if len(cv.open) >= cv.maxOpen {
		var lru *partWriter
		for _, pw := range cv.open {
			if lru == nil || pw.lastUse < lru.lastUse {
				lru = pw
			}
		}
		if err := cv.finish(lru); err != nil {
			return nil, err
		}
	}
	n := cv.parts[p]
	cv.parts[p] = n + 1
	key := objectKey(cv.c.Prefix, p, cv.hash, n)
	obj, err := cv.store.Create(ctx, key)
	if err != nil {
		return nil, err
	}
	fs := cv.schemas[fields]
	if fs == nil {
		fs = cv.s.fileSchema(fields)
		cv.schemas[fields] = fs
	}
	pw := &partWriter{p: p, key: key, obj: obj, lastUse: cv.tick,
		fw: newFileWriter(obj, fs, cv.rgRows, cv.rgBytes)}
	cv.open[p] = pw
	return pw, nil
}

// finish closes and commits the open object of a partition.
func (cv *conversion) finish(pw *partWriter) error {
	delete(cv.open, pw.p)
	if err := pw.fw.close(); err != nil {
		pw.obj.Abort()
		return fmt.Errorf("write %s: %w", pw.key, err)
	}
	if err := pw.obj.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", pw.key, err)
	}
	cv.bytes += pw.fw.out.n
	cv.keys[pw.key] = true
	return nil
}

func (cv *conversion) closeAll() error {
	pws := make([]*partWriter, 0, len(cv.open))
	for _, pw := range cv.open {
		pws = append(pws, pw)
	}
	slices.SortFunc(pws, func(a, b *partWriter) int { return int(a.lastUse - b.lastUse) })
	for _, pw := range pws {
		if err := cv.finish(pw); err != nil {
			return err
		}
	}
	return nil
}
