// Package compact is the lake's compactor: it rewrites each closed
// partition-hour into as few objects as a target size allows (128 MiB by
// default), sorted by interface_id then start, so that Athena opens a few
// objects instead of thousands and prunes row groups and pages by their
// bounds. The flowlake compact command and the scheduled compact Lambda
// (functions/compact, Handler) run it.
//
//	ingest ─▶ flows/…/hour=HH/<source hash>-NNNN.parquet (one or more per source)
//	compact ─▶ flows/…/hour=HH/compacted-<generation>-NNNN.parquet + _compacted-<generation>.json
//
// # Generations and the manifest
//
// One compaction of a partition-hour is a generation, named by 20 random
// hex digits. It reads the partition-hour's current generation (if any)
// and every ingest object beside it, writes its objects, then commits
// its manifest, _compacted-<generation>.json. Readers never see the
// manifest: Athena skips names that begin with '_', DuckDB reads
// *.parquet. The manifest lists the generation's objects; the objects it
// replaces (the previous generation's objects and manifest, and the ingest
// objects read, each with the size and ETag it had); and the ledger: the
// name of every ingest object whose rows the generation holds, with its
// row count. A generation exists once its manifest does: objects of no
// manifest are leftovers of a run that stopped, and are deleted.
//
// Each row of a compacted object also names the ingest object it came
// from, in SourceColumn (_flowlake_source), a column the table does not
// have, so Athena and the DuckDB view never see it.
//
// # Redelivery never doubles rows
//
// Ingest names its objects after the source (bucket, key and ETag, or a
// CloudWatch batch's event ids), so a source delivered again overwrites
// its own objects. Once compaction has deleted them, a redelivered source
// (an SQS message redriven from the DLQ days later, a CloudWatch Logs
// retry) writes them again beside the compacted objects. The next run
// finds each such object in the ledger and replaces that object's rows:
// the generation it writes drops the rows tagged with its name and takes
// the object's rows instead, exactly as the object overwrote itself
// before compaction. An ingest object not in the ledger (a late delivery)
// is added. Ingest is unchanged: it never reads the lake.
//
// So a redelivered row is in the lake twice from its delivery until the
// next run (hourly, over every hour of the lookback window), and never
// after. The lookback must cover every delivery that can still come: the
// stack sets it past the raw bucket's expiration (no file can be replayed
// after that) and the DLQ's 14 days.
//
// # Steps, crashes and what readers see
//
// The steps of a partition-hour, each a point at which the process may
// stop (Compactor.AfterStep; each is a test):
//
//  1. list: list the folder, read its manifests, sort its objects;
//  2. cleanup: delete leftovers of a run that stopped: the objects a
//     committed manifest replaces that are still there with the size and
//     tag it recorded, objects of no manifest, replaced manifests
//     (replaced objects first, manifests last);
//  3. write: write and commit each new object;
//  4. commit: commit the manifest;
//  5. delete: list the folder again, check the new objects are in place,
//     delete what the manifest replaces (the manifest it replaces last).
//
// Nothing is deleted before the rows it holds are in a committed
// generation, so a crash between any two steps loses nothing, and the
// next run converges: before the commit, the new objects are leftovers;
// after it, what it replaces is. An ingest object written again after it
// was read (its size or ETag changed) is not deleted: the next run reads
// it again. Two compactors must not run at once on one lake (the Lambda's
// reserved concurrency is 1); the second listing before the deletes
// catches most mistakes, and a partition-hour with two live generations
// is left alone, with an error.
//
// Readers see a row twice only between a partition-hour's first new
// object and the delete step: within a run, the time to write its other
// objects and one DeleteObjects request (most hours compact to one object,
// so about the manifest's PUT and the delete); after a crash in that
// window, until the next run (EventBridge retries a failed run twice, then
// the hourly schedule). A query running while its objects are deleted may
// fail with a missing key, and succeeds when run again. Only closed hours
// are compacted: by default those that ended at least 3 h ago (MinAge),
// and the stack checks that no scheduled detection run, its retries and
// lag included, reads an hour that old (the detector and the compactor
// never touch the same hours).
//
// # Layout
//
// A generation's objects hold the union of its inputs' columns (an object
// holds only the columns its input's formats carry), laid out as every
// lake object (lake.Schema.LayoutEncoded: the lake's encodings and exact
// page bounds) but for what measurement chose for rows sorted by
// interface (TestNoLargerThanDuckDB): packets dictionary-encoded, version
// 1 data pages, zstd at SpeedBestCompression, 1 Mi-row row groups and
// 1 MiB pages. An object of 1,000 rows or more is then no larger than
// DuckDB's COPY (FORMAT parquet, COMPRESSION zstd) of its records, with
// SourceColumn included, when an interface's rows of an hour come from
// one delivery at a time (an S3 file, or about one CloudWatch batch an
// hour); where they come from many at once (tens of batches an interface
// and hour, whose start times overlap), SourceColumn costs about 1.3
// bytes a row and the object is up to 7% larger. The benchmark
// (BenchmarkCloudWatchDay, flowlake bench --compact) measures a
// CloudWatch-like day. An input with a column the table does not have is
// left alone (ErrSchema), rather than dropped.
//
// Memory is bounded by SortBytes (256 MiB): ingest objects are read into
// an in-memory columnar buffer, sorted, and spilled as sorted runs to
// TempDir when it fills; the previous generation is already sorted, so it
// is merged as it is read. Objects read from S3 are downloaded to TempDir.
//
// Imports: compact may import lake and emf, parquet-go and the AWS SDK; it
// must not import the pipeline, detection, notification or DuckDB.
package compact
