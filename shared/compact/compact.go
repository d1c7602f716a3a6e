package compact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/flowlake/flowlake/shared/lake"
)

// Defaults of a Compactor's zero fields.
const (
	DefaultTargetBytes  = 128 << 20
	DefaultMinAge       = 3 * time.Hour
	DefaultRowGroupRows = 1 << 20
	DefaultPageBytes    = 1 << 20
	DefaultSortBytes    = 256 << 20
	DefaultFetchers     = 8
)

// Compactor rewrites closed partition-hours of a lake into as few objects
// as TargetBytes allows, sorted by interface and start, and keeps the
// lake's rows exactly as they were (see the package doc). The zero value
// of every field but Bucket is a default. A Compactor must not run twice
// at once on the same lake.
type Compactor struct {
	Bucket Bucket
	// Prefix is the data prefix, "flows" by default... as the lake's
	// Converter takes it: "" is the bucket's root.
	Prefix string
	// Schema is the table (default lake.TableSchema): an input object with
	// a column it does not have is left alone (ErrSchema).
	Schema *lake.Schema
	// TargetBytes is the largest object a generation writes, but for one
	// row group (default DefaultTargetBytes, 128 MiB).
	TargetBytes int64
	// RowGroupRows and PageBytes lay out the objects written (defaults
	// DefaultRowGroupRows and DefaultPageBytes, chosen by measurement).
	RowGroupRows int
	PageBytes    int
	// Level is the zstd level of the objects written (default
	// zstd.SpeedBestCompression: compaction is off the ingest path, an
	// object is written once and read for years, and on
	// TestNoLargerThanDuckDB's lakes it is 2.5% smaller than
	// SpeedBetterCompression and 5% smaller than SpeedDefault).
	Level zstd.Level
	// SortBytes bounds the memory that sorts fresh rows; past it, sorted
	// runs go to temporary files in TempDir ("": os.TempDir()).
	SortBytes int64
	TempDir   string
	// Fetchers is how many objects are fetched at once (default 8).
	Fetchers int
	// DeleteBatch is how many keys one delete request (a step) removes
	// (default 1,000, S3's DeleteObjects limit).
	DeleteBatch int
	// Log receives one line per partition-hour changed (default
	// slog.Default()).
	Log *slog.Logger
	// Now is the clock of manifests (default time.Now).
	Now func() time.Time
	// InternalPrefixes are address blocks of ours besides the private
	// ranges, as detection's (detect.Config.InternalPrefixes): each
	// partition-hour's rollup (RollupRow) counts the flows to addresses
	// that are not ours.
	InternalPrefixes []netip.Prefix
	// AfterStep, if set, is called after each step of each partition-hour
	// (see Step); an error stops the run there as a crash would, leaving
	// what is written as it is. Tests stop the compactor between any two
	// steps this way.
	AfterStep func(Step) error
}

// Step is a point between two steps of a partition-hour's compaction, in
// the order they happen.
type Step struct {
	Partition string // the partition-hour's folder
	Name      string // one of the Step* names
	N         int    // the object (StepWrite) or delete request (StepCleanup, StepDelete), from 0
}

// Step names, in order: the partition-hour listed and its manifest read;
// leftovers of an earlier run deleted (when there are any); each new object
// committed; the manifest committed (the generation exists from here on);
// each delete request of the objects it replaces done.
const (
	StepList    = "list"
	StepCleanup = "cleanup"
	StepWrite   = "write"
	StepCommit  = "commit"
	StepDelete  = "delete"
)

func (c *Compactor) schema() *lake.Schema {
	if c.Schema != nil {
		return c.Schema
	}
	return lake.TableSchema
}

func (c *Compactor) targetBytes() int64 { return cmpOr(c.TargetBytes, DefaultTargetBytes) }
func (c *Compactor) rowGroupRows() int  { return cmpOr(c.RowGroupRows, DefaultRowGroupRows) }
func (c *Compactor) pageBytes() int     { return cmpOr(c.PageBytes, DefaultPageBytes) }
func (c *Compactor) sortBytes() int64   { return cmpOr(c.SortBytes, DefaultSortBytes) }
func (c *Compactor) fetchers() int      { return cmpOr(c.Fetchers, DefaultFetchers) }

func (c *Compactor) codec() *zstd.Codec {
	if c.Level == 0 {
		return &zstd.Codec{Level: zstd.SpeedBestCompression}
	}
	return &zstd.Codec{Level: c.Level}
}

func (c *Compactor) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

func (c *Compactor) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func cmpOr[T int | int64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (c *Compactor) step(s Step) error {
	if c.AfterStep == nil {
		return nil
	}
	return c.AfterStep(s)
}

// Window is the partition-hours a run covers: those that start at or
// after Since and end at or before Before.
type Window struct {
	Since, Before time.Time
}

// Closed returns the window of a scheduled run at now: the hours that
// ended at least minAge before now (default DefaultMinAge), back to
// lookback before that (0: every hour).
func Closed(now time.Time, minAge, lookback time.Duration) Window {
	if minAge <= 0 {
		minAge = DefaultMinAge
	}
	w := Window{Before: now.Add(-minAge)}
	if lookback > 0 {
		w.Since = w.Before.Add(-lookback).Truncate(time.Hour)
	}
	return w
}

// Result is what a run did.
type Result struct {
	Partitions     int      `json:"partitions"`      // partition-hours in the window
	Compacted      int      `json:"compacted"`       // rewritten into a new generation
	Cleaned        int      `json:"cleaned"`         // only leftovers deleted
	Failed         []string `json:"failed"`          // partition-hours left as they were, with why
	Pending        int      `json:"pending"`         // not reached before the deadline
	ObjectsRead    int      `json:"objects_read"`    // objects rewritten
	ObjectsWritten int      `json:"objects_written"` // compacted objects written
	ObjectsDeleted int      `json:"objects_deleted"`
	Redelivered    int      `json:"redelivered"` // ingest objects written again after compaction, whose rows were replaced
	Records        int64    `json:"records"`     // rows written
	BytesRead      int64    `json:"bytes_read"`
	BytesWritten   int64    `json:"bytes_written"`
	// Largest is the largest partition-hour rewritten: its rows and
	// objects.
	LargestRecords int64         `json:"largest_records"`
	LargestObjects int           `json:"largest_objects"`
	Elapsed        time.Duration `json:"elapsed_ns"`
}

// Margin is how long before its context's deadline a run stops starting
// partition-hours (those left are Pending, for the next run).
var Margin = 2 * time.Minute

// Run compacts every partition-hour of the window, oldest first. A
// partition-hour that fails is left as it was, the others go on; the
// error joins the failures. Run stops between partition-hours when ctx
// has less than Margin left, and when it is cancelled.
func (c *Compactor) Run(ctx context.Context, w Window) (Result, error) {
	t0 := time.Now()
	var res Result
	parts, err := c.partitions(ctx, w)
	if err != nil {
		return res, err
	}
	res.Partitions = len(parts)
	var errs []error
	for i, p := range parts {
		if dl, ok := ctx.Deadline(); (ok && time.Until(dl) < Margin) || ctx.Err() != nil {
			res.Pending = len(parts) - i
			break
		}
		if err := c.partition(ctx, p, &res); err != nil {
			if errors.Is(err, errStopped) {
				res.Elapsed = time.Since(t0)
				return res, err
			}
			res.Failed = append(res.Failed, p.dir+": "+err.Error())
			errs = append(errs, fmt.Errorf("%s: %w", p.dir, err))
			c.log().ErrorContext(ctx, "compaction failed", "partition", p.dir, "error", err)
		}
	}
	res.Elapsed = time.Since(t0)
	return res, errors.Join(errs...)
}

// errStopped wraps an AfterStep error: the run stops there.
var errStopped = errors.New("stopped")

// part is one partition-hour and what it holds.
type part struct {
	dir  string // folder key, ending in '/'
	hour int64  // Unix hours
	objs []Object
}

// partitions lists the partition-hours of the window, oldest first, then
// by folder.
func (c *Compactor) partitions(ctx context.Context, w Window) ([]part, error) {
	root := strings.Trim(c.Prefix, "/")
	if root != "" {
		root += "/"
	}
	var out []part
	accounts, err := c.Bucket.Prefixes(ctx, root)
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		if !strings.HasPrefix(path.Base(a), lake.KeyAccount+"=") {
			continue
		}
		regions, err := c.Bucket.Prefixes(ctx, a)
		if err != nil {
			return nil, err
		}
		for _, r := range regions {
			if !strings.HasPrefix(path.Base(r), lake.KeyRegion+"=") {
				continue
			}
			days, err := c.Bucket.Prefixes(ctx, r)
			if err != nil {
				return nil, err
			}
			for _, d := range days {
				day, err := time.Parse(time.DateOnly, strings.TrimPrefix(path.Base(d), lake.KeyDay+"="))
				if err != nil || !day.Add(24*time.Hour).After(w.Since) || !day.Before(w.Before) {
					continue
				}
				objs, err := c.Bucket.List(ctx, d)
				if err != nil {
					return nil, err
				}
				byDir := map[string]*part{}
				for _, o := range objs {
					dir := dirOf(o.Key)
					hh, ok := strings.CutPrefix(path.Base(dir), lake.KeyHour+"=")
					if !ok || dirOf(strings.TrimSuffix(dir, "/")) != d {
						continue
					}
					h, err := time.Parse("15", hh)
					if err != nil {
						continue
					}
					start := day.Add(time.Duration(h.Hour()) * time.Hour)
					if start.Before(w.Since) || start.Add(time.Hour).After(w.Before) {
						continue
					}
					p := byDir[dir]
					if p == nil {
						p = &part{dir: dir, hour: start.Unix() / 3600}
						byDir[dir] = p
					}
					p.objs = append(p.objs, o)
				}
				for _, p := range byDir {
					out = append(out, *p)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b part) int {
		if a.hour != b.hour {
			return int(a.hour - b.hour)
		}
		return strings.Compare(a.dir, b.dir)
	})
	return out, nil
}

// plan is what a partition-hour needs.
type plan struct {
	live      *Manifest
	compacted []Object          // the live generation's objects
	fresh     []Object          // ingest objects to fold in
	again     map[string]bool   // names of fresh objects the live generation already holds rows of
	cleanup   []string          // keys of leftovers: replaced objects, objects of no generation, old manifests
	byName    map[string]Object // everything listed
}

// plan reads the partition-hour's manifests and sorts its objects.
func (c *Compactor) plan(ctx context.Context, p part) (*plan, error) {
	pl := &plan{again: map[string]bool{}, byName: map[string]Object{}}
	var mans []*Manifest
	for _, o := range p.objs {
		name := path.Base(o.Key)
		pl.byName[name] = o
		if manifestName.MatchString(name) {
			m, err := c.readManifest(ctx, o.Key)
			if err != nil {
				return nil, err
			}
			mans = append(mans, m)
		}
	}
	superseded := map[string]bool{}
	for _, m := range mans {
		for _, r := range m.Replaces {
			superseded[r.Name] = true
		}
	}
	for _, m := range mans {
		if superseded[ManifestName(m.Generation)] {
			continue
		}
		if pl.live != nil {
			return nil, fmt.Errorf("two live generations, %s and %s (did two compactors run at once?)", pl.live.Generation, m.Generation)
		}
		pl.live = m
	}
	replaced := map[string]Replaced{}
	if m := pl.live; m != nil {
		for _, r := range m.Replaces {
			replaced[r.Name] = r
		}
		for _, out := range m.Objects {
			o, ok := pl.byName[out.Name]
			if !ok || o.Size != out.Bytes {
				return nil, fmt.Errorf("generation %s: object %s is missing or changed (%d bytes; want %d)", m.Generation, out.Name, o.Size, out.Bytes)
			}
			pl.compacted = append(pl.compacted, o)
		}
	}
	var manifests []string
	for _, o := range p.objs {
		name := path.Base(o.Key)
		switch {
		case manifestName.MatchString(name):
			if pl.live == nil || name != ManifestName(pl.live.Generation) {
				manifests = append(manifests, o.Key) // superseded
			}
		case outputName.MatchString(name):
			if pl.live == nil || outputName.FindStringSubmatch(name)[1] != pl.live.Generation {
				pl.cleanup = append(pl.cleanup, o.Key) // replaced, or of no generation
			} else if !slices.ContainsFunc(pl.live.Objects, func(out Output) bool { return out.Name == name }) {
				pl.cleanup = append(pl.cleanup, o.Key) // of a run of this generation that stopped: cannot be, but not data
			}
		case sourceName.MatchString(name):
			if r, ok := replaced[name]; ok && r.Size == o.Size && (r.Tag == "" || r.Tag == o.Tag) {
				pl.cleanup = append(pl.cleanup, o.Key) // its rows are in the live generation
				continue
			}
			pl.fresh = append(pl.fresh, o)
			if pl.live != nil {
				if _, ok := pl.live.Sources[name]; ok {
					pl.again[name] = true
				}
			}
		}
	}
	// Manifests last: until they go, their objects are known replaced.
	pl.cleanup = append(pl.cleanup, manifests...)
	return pl, nil
}

func (c *Compactor) readManifest(ctx context.Context, key string) (*Manifest, error) {
	path, done, err := c.Bucket.Fetch(ctx, key)
	if err != nil {
		return nil, err
	}
	defer done()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", key, err)
	}
	return parseManifest(b, pathBase(key))
}

func pathBase(key string) string { return path.Base(key) }

// partition compacts one partition-hour (see the package doc for the
// steps and why each order keeps every row).
func (c *Compactor) partition(ctx context.Context, p part, res *Result) error {
	pl, err := c.plan(ctx, p)
	if err != nil {
		return err
	}
	if err := c.stepAt(p, StepList, 0); err != nil {
		return err
	}
	if len(pl.cleanup) > 0 {
		n, err := c.deleteSteps(ctx, p, StepCleanup, pl.cleanup)
		res.ObjectsDeleted += n
		if err != nil {
			return err
		}
		c.log().InfoContext(ctx, "compaction leftovers deleted", "partition", p.dir, "objects", len(pl.cleanup))
		if len(pl.fresh) == 0 {
			res.Cleaned++
		}
	}
	if len(pl.fresh) == 0 {
		return nil
	}
	return c.rewrite(ctx, p, pl, res)
}

func (c *Compactor) stepAt(p part, name string, n int) error {
	if err := c.step(Step{Partition: p.dir, Name: name, N: n}); err != nil {
		return fmt.Errorf("%w at %s %d: %w", errStopped, name, n, err)
	}
	return nil
}

// rewrite writes a new generation holding the live generation's rows (less
// those of sources written again) and the fresh objects' rows, commits its
// manifest, then deletes what it replaces.
func (c *Compactor) rewrite(ctx context.Context, p part, pl *plan, res *Result) error {
	t0 := time.Now()
	var inputs []*input
	for _, o := range pl.compacted {
		inputs = append(inputs, &input{obj: o, name: path.Base(o.Key), compacted: true})
	}
	for _, o := range pl.fresh {
		inputs = append(inputs, &input{obj: o, name: path.Base(o.Key)})
	}
	defer func() {
		for _, in := range inputs {
			if in.done != nil {
				in.done()
			}
		}
	}()
	if err := c.fetch(ctx, inputs); err != nil {
		return err
	}
	layout, err := union(c.schema(), inputs)
	if err != nil {
		return err
	}
	m := newMerger(c, layout, pl.again)
	defer m.close()
	var want int64 // rows the generation must hold
	freshRows := map[string]int64{}
	for _, in := range inputs {
		if in.compacted {
			if err := m.addCompacted(in); err != nil {
				return err
			}
			continue
		}
		want += in.rows
		freshRows[in.name] = in.rows
	}
	if pl.live != nil {
		for name, n := range pl.live.Sources {
			if !pl.again[name] {
				want += n
			}
		}
	}
	s := m.newSorter()
	for _, in := range inputs {
		if !in.compacted {
			if err := s.add(ctx, in); err != nil {
				return err
			}
		}
	}
	s.finish()

	gen := newGeneration()
	out := &outputs{m: m, dir: p.dir, gen: gen, sources: map[string]int64{}}
	commitStep := func(o Output) error { return c.stepAt(p, StepWrite, len(out.written)-1) }
	ru := newRollup(layout.Schema, c.InternalPrefixes)
	if err := out.copyMerged(ctx, &tapRows{r: m.rows(), ru: ru}, commitStep); err != nil {
		out.abort()
		if !errors.Is(err, errStopped) {
			c.discard(ctx, p, out.written)
		}
		return err
	}
	if out.rows != want || m.read != want {
		c.discard(ctx, p, out.written)
		return fmt.Errorf("generation %s: wrote %d rows and read %d; want %d (the inputs' row counts)", gen, out.rows, m.read, want)
	}
	for name, n := range freshRows {
		if out.sources[name] != n {
			c.discard(ctx, p, out.written)
			return fmt.Errorf("generation %s: %d rows of %s; want %d", gen, out.sources[name], name, n)
		}
	}

	man := &Manifest{Version: ManifestVersion, Generation: gen, Partition: strings.TrimSuffix(p.dir, "/"),
		Created: c.now().UTC(), Rows: out.rows, Objects: out.written, Sources: map[string]int64{}}
	if pl.live != nil {
		for name, n := range pl.live.Sources {
			if !pl.again[name] {
				man.Sources[name] = n
			}
		}
		for _, o := range pl.compacted {
			man.Replaces = append(man.Replaces, Replaced{Name: path.Base(o.Key), Size: o.Size, Tag: o.Tag})
		}
		mk := ManifestName(pl.live.Generation)
		mo := pl.byName[mk]
		man.Replaces = append(man.Replaces, Replaced{Name: mk, Size: mo.Size, Tag: mo.Tag})
	}
	for _, o := range pl.fresh {
		man.Sources[path.Base(o.Key)] = freshRows[path.Base(o.Key)]
		man.Replaces = append(man.Replaces, Replaced{Name: path.Base(o.Key), Size: o.Size, Tag: o.Tag})
	}
	if err := c.writeRollup(ctx, p.dir, ru); err != nil {
		c.discard(ctx, p, out.written)
		return err
	}
	if err := c.writeManifest(ctx, p.dir+ManifestName(gen), man); err != nil {
		c.discard(ctx, p, out.written)
		return err
	}
	if err := c.stepAt(p, StepCommit, 0); err != nil {
		return err
	}
	res.Compacted++
	res.ObjectsRead += len(inputs)
	res.ObjectsWritten += len(out.written)
	res.Records += out.rows
	for _, in := range inputs {
		res.BytesRead += in.obj.Size
	}
	for _, o := range out.written {
		res.BytesWritten += o.Bytes
	}
	res.Redelivered += len(pl.again)
	if out.rows > res.LargestRecords {
		res.LargestRecords, res.LargestObjects = out.rows, len(out.written)
	}

	deleted, err := c.deleteReplaced(ctx, p, man)
	res.ObjectsDeleted += deleted
	if err != nil {
		return err
	}
	c.log().InfoContext(ctx, "compacted", "partition", p.dir, "generation", gen, "inputs", len(inputs),
		"fresh", len(pl.fresh), "redelivered", len(pl.again), "objects", len(out.written), "rows", out.rows,
		"bytes_in", sizeOf(inputs), "bytes_out", bytesOf(out.written), "duration_ms", time.Since(t0).Milliseconds())
	return nil
}

func bytesOf(outs []Output) int64 {
	var n int64
	for _, o := range outs {
		n += o.Bytes
	}
	return n
}

func sizeOf(ins []*input) int64 {
	var n int64
	for _, in := range ins {
		n += in.obj.Size
	}
	return n
}

// discard deletes the objects of a generation that will not be committed
// (best effort: the next run deletes what is left).
func (c *Compactor) discard(ctx context.Context, p part, outs []Output) {
	var keys []string
	for _, o := range outs {
		keys = append(keys, p.dir+o.Name)
	}
	if len(keys) > 0 {
		c.Bucket.Delete(context.WithoutCancel(ctx), keys)
	}
}

// deleteReplaced deletes what a committed generation replaces, once a
// listing shows its objects in place. An ingest object written again
// since it was read (its size or tag changed) stays, for the next run.
func (c *Compactor) deleteReplaced(ctx context.Context, p part, man *Manifest) (int, error) {
	objs, err := c.Bucket.List(ctx, p.dir)
	if err != nil {
		return 0, err
	}
	now := map[string]Object{}
	for _, o := range objs {
		now[path.Base(o.Key)] = o
	}
	for _, out := range man.Objects {
		if o, ok := now[out.Name]; !ok || o.Size != out.Bytes {
			return 0, fmt.Errorf("generation %s: object %s not in place after its commit; nothing deleted", man.Generation, out.Name)
		}
	}
	var keys, manifests []string
	for _, r := range man.Replaces {
		o, ok := now[r.Name]
		if !ok || o.Size != r.Size || (r.Tag != "" && o.Tag != r.Tag) {
			continue
		}
		if manifestName.MatchString(r.Name) {
			manifests = append(manifests, p.dir+r.Name)
		} else {
			keys = append(keys, p.dir+r.Name)
		}
	}
	return c.deleteSteps(ctx, p, StepDelete, append(keys, manifests...))
}

// deleteSteps deletes keys in order, DeleteBatch at a time, each request a
// step, and returns how many it deleted.
func (c *Compactor) deleteSteps(ctx context.Context, p part, step string, keys []string) (int, error) {
	deleted := 0
	for i := 0; len(keys) > 0; i++ {
		batch := keys[:min(len(keys), cmpOr(c.DeleteBatch, 1000))]
		keys = keys[len(batch):]
		if err := c.Bucket.Delete(ctx, batch); err != nil {
			return deleted, err
		}
		deleted += len(batch)
		if err := c.stepAt(p, step, i); err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

func (c *Compactor) writeManifest(ctx context.Context, key string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	obj, err := c.Bucket.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := obj.Write(append(b, '\n')); err != nil {
		obj.Abort()
		return fmt.Errorf("write %s: %w", key, err)
	}
	if err := obj.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", key, err)
	}
	return nil
}

// fetch makes every input a local file (Fetchers at once) and reads its
// footer: schema and rows.
func (c *Compactor) fetch(ctx context.Context, inputs []*input) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan *input)
	errs := make(chan error, len(inputs))
	var wg sync.WaitGroup
	for range min(c.fetchers(), len(inputs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range next {
				path, done, err := c.Bucket.Fetch(ctx, in.obj.Key)
				if err == nil {
					in.path, in.done = path, done
					var pf *parquet.File
					var f *os.File
					if pf, f, err = openFile(path); err == nil {
						in.schema, in.rows = pf.Schema(), pf.NumRows()
						f.Close()
					} else {
						err = fmt.Errorf("read %s: %w", in.obj.Key, err)
					}
				}
				if err != nil {
					errs <- err
					cancel()
				}
			}
		}()
	}
	for _, in := range inputs {
		select {
		case next <- in:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	return ctx.Err()
}
