package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/pipeline"
)

const compactUsage = `usage: flowlake compact (--lake DIR | --bucket NAME [--endpoint URL]) [--before T] [--since T] [flags]

Compacts the lake's closed partition-hours with the compactor the scheduled
compact Lambda runs (package compact): each hour that ended at or before
--before (default: now less --min-age, 3h) and started at or after --since
(default: every hour) is rewritten into as few objects as --target-mib
allows, sorted by interface then start, and what ingest wrote beside an
earlier compaction (late or redelivered objects) is folded in. No row is
lost or doubled. --lake DIR is a folder lake as flowlake convert writes it;
--bucket is the lake bucket (its data under --prefix), in AWS (credentials
and region from the AWS environment) or at --endpoint, path style. It must
not run while another compactor (the Lambda) runs on the same lake.
Prints what it did, records/s and peak RSS; exit status 1 if any hour failed
(the others are compacted).`

// runCompact implements `flowlake compact`.
func runCompact(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("compact", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	lakeDir := fs.String("lake", "", "the lake's folder")
	bucket := fs.String("bucket", "", "the lake's bucket")
	endpoint := fs.String("endpoint", "", "with --bucket: an S3-compatible endpoint URL (path style); default AWS")
	access := fs.String("access-key", "", "with --endpoint: access key (default: the AWS environment)")
	secret := fs.String("secret-key", "", "with --endpoint: secret key (default: the AWS environment)")
	region := fs.String("region", "", "with --bucket: the bucket's region (default: the AWS environment's, or us-east-1)")
	prefix := fs.String("prefix", pipeline.DefaultLakePrefix, "with --bucket: the lake's data prefix")
	before := fs.String("before", "", "compact hours that ended at or before this time (RFC 3339; default now less --min-age)")
	since := fs.String("since", "", "and started at or after this time (RFC 3339; default every hour)")
	minAge := fs.Duration("min-age", compact.DefaultMinAge, "without --before: hours younger than this are open")
	target := fs.Int("target-mib", compact.DefaultTargetBytes>>20, "the largest object written, MiB")
	sortMiB := fs.Int("sort-mib", compact.DefaultSortBytes>>20, "memory that sorts new rows before spilling to --temp, MiB")
	temp := fs.String("temp", "", "downloads and sorted runs (default the system's temporary folder)")
	internal := fs.String("internal", "", "address blocks of ours besides the private ranges, comma-separated, as flowlake detect's: the rollups count the flows to every other address")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	verbose := fs.Bool("v", false, "log every partition-hour (JSON, to stderr)")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, compactUsage+"\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 || (*lakeDir == "") == (*bucket == "") || *target < 1 || *sortMiB < 1 || *minAge < time.Hour {
		fs.Usage()
		return 2
	}
	w := compact.Closed(time.Now(), *minAge, 0)
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"before", *before, &w.Before}, {"since", *since, &w.Since}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.v)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake compact: --%s: %v\n", f.name, err)
			return 2
		}
		*f.t = t
	}
	var prefixes []netip.Prefix
	for _, v := range strings.Split(*internal, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake compact: --internal: %v\n", err)
			return 2
		}
		prefixes = append(prefixes, p.Masked())
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	c := &compact.Compactor{
		TargetBytes: int64(*target) << 20, SortBytes: int64(*sortMiB) << 20, TempDir: *temp, InternalPrefixes: prefixes,
		Log: slog.New(slog.NewJSONHandler(sio.err, &slog.HandlerOptions{Level: level})),
	}
	where := *lakeDir
	if *lakeDir != "" {
		c.Bucket = compact.Dir{Root: *lakeDir}
	} else {
		client, err := compactClient(ctx, *endpoint, *region, *access, *secret)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake compact: %v\n", err)
			return 2
		}
		c.Bucket, c.Prefix = &compact.S3{Client: client, Bucket: *bucket, TempDir: *temp}, *prefix
		where = "s3://" + *bucket + "/" + *prefix
	}
	res, err := c.Run(ctx, w)
	if *asJSON {
		b, _ := json.MarshalIndent(struct {
			Since   time.Time `json:"since"`
			Before  time.Time `json:"before"`
			PeakRSS int64     `json:"peak_rss_bytes"`
			compact.Result
		}{w.Since, w.Before, peakRSS(), res}, "", "  ")
		fmt.Fprintln(sio.out, string(b))
	} else {
		span := "every hour"
		if !w.Since.IsZero() {
			span = "hours from " + w.Since.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(sio.out, "%s: %s ending by %s: %d partition-hours, %d compacted, %d only cleaned, %d failed, %d pending\n",
			where, span, w.Before.UTC().Format(time.RFC3339), res.Partitions, res.Compacted, res.Cleaned, len(res.Failed), res.Pending)
		rate := 0.0
		if s := res.Elapsed.Seconds(); s > 0 {
			rate = float64(res.Records) / s
		}
		fmt.Fprintf(sio.out, "objects %d → %d (%d deleted), %d records, %s → %s, %d redelivered objects replaced\n",
			res.ObjectsRead, res.ObjectsWritten, res.ObjectsDeleted, res.Records, mibs(res.BytesRead), mibs(res.BytesWritten), res.Redelivered)
		fmt.Fprintf(sio.out, "%s, %.0f records/s, largest partition-hour %d records in %d objects, peak RSS %s\n",
			res.Elapsed.Round(time.Millisecond), rate, res.LargestRecords, res.LargestObjects, mibs(peakRSS()))
	}
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake compact: %v\n", err)
		return 1
	}
	return 0
}

func mibs(n int64) string { return fmt.Sprintf("%.1f MiB", mib(n)) }

// compactClient is the S3 client of --bucket: AWS's, or the endpoint's
// (path style), with the given credentials if any.
func compactClient(ctx context.Context, endpoint, region, access, secret string) (*s3.Client, error) {
	cfg, err := awsConfig(ctx, region, access, secret)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, s3At(endpoint)), nil
}
