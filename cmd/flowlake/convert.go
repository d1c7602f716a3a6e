package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// runConvert implements `flowlake convert`.
func runConvert(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	lakeDir := fs.String("lake", "", "the lake's folder (required)")
	format := fs.String("format", "", "flow-log format string (\"${version} ${srcaddr} ...\"); default: the v2 default format, until a header line says otherwise")
	account := fs.String("account", "", "partition every record under this account (default: each record's account-id)")
	region := fs.String("region", "", "partition every record under this region (default: each record's region)")
	quiet := fs.Bool("quiet", false, "no progress and no summary")
	ef := addEnrichFlags(fs, true)
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: flowlake convert --lake DIR [--format FORMAT] FILE...\n\n"+
			"Converts flow-log files (plain or gzip, with or without a header) into the\n"+
			"Parquet lake under DIR, partitioned by account, region, day and hour.\n"+
			"Object names derive from each file (path, size, mtime), so converting the\n"+
			"same file again replaces its rows instead of adding them. Rejected lines go\n"+
			"to stderr as FILE:LINE: column N: FIELD: reason (N counts fields), and every\n"+
			"good row lands; the exit status is then 1. A damaged gzip file (cut short,\n"+
			"a bad checksum or header) keeps the records before the damage, and stderr\n"+
			"names the file and the byte offset of the damage; the exit status is 1.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *lakeDir == "" || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var fm *flowlog.Format
	if flagSet(fs, "format") {
		var err error
		if fm, err = flowlog.ParseFormat(*format); err != nil {
			fmt.Fprintf(sio.err, "flowlake convert: --format: %v\n", err)
			return 2
		}
	}
	enr, err := ef.open(ctx, sio.err)
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake convert: %v\n", err)
		return 2
	}
	if enr != nil {
		defer enr.Close()
	}
	files := fs.Args()
	var total int64
	for _, name := range files {
		fi, err := os.Stat(name)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake convert: %v\n", err)
			return 2
		}
		total += fi.Size()
	}

	var bar *progressbar.ProgressBar
	if f, ok := sio.err.(*os.File); ok && !*quiet && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(sio.err),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("converting"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
	}

	// The ingest functions' path (pipeline.Pipeline.ProcessText), into a
	// folder, with no limit on a local file's size.
	p := &pipeline.Pipeline{
		Store:  lake.DirStore{Root: *lakeDir},
		Limits: pipeline.Limits{MaxObjectBytes: math.MaxInt64 / 2, MaxInflatedBytes: math.MaxInt64 / 2, MaxInflateRatio: math.MaxInt32},
		Log:    pipeline.NewLogger(io.Discard, slog.LevelError),
	}
	if enr != nil {
		p.Enricher, p.EnrichGroups = enr, ef.groups()
	}
	t0 := time.Now()
	var records, rejected, bytes int64
	parts := map[string]bool{}
	keys := 0
	status := 0
	for _, name := range files {
		if ctx.Err() != nil {
			return 130
		}
		p.OnReject = func(pe *flowlog.ParseError) {
			if bar != nil {
				bar.Clear()
			}
			reportReject(sio.err, name, pe)
		}
		res, err := convertFile(ctx, p, name, fm, *account, *region, bar)
		sum := res.Summary
		if err != nil {
			if bar != nil {
				bar.Clear()
			}
			fmt.Fprintf(sio.err, "flowlake convert: %v\n", err)
			return 2
		}
		if len(res.Unknown) > 0 && !*quiet {
			if bar != nil {
				bar.Clear()
			}
			fmt.Fprintf(sio.err, "%s: kept the columns no flow-log version defines in extra: %s\n", name, strings.Join(res.Unknown, ", "))
		}
		if bar == nil && !*quiet && len(files) > 1 {
			fmt.Fprintf(sio.err, "%s: %d records, %d rejected, %d objects\n", name, sum.Records, sum.Rejected, len(sum.Keys))
		}
		records += sum.Records
		rejected += sum.Rejected
		bytes += sum.Bytes
		keys += len(sum.Keys)
		for _, p := range sum.Partitions {
			parts[p] = true
		}
		if sum.Rejected > 0 {
			status = 1
		}
		if d := res.Damage; d != nil {
			if bar != nil {
				bar.Clear()
			}
			fmt.Fprintf(sio.err, "%s: %s; the %d records before it were converted\n", name, d, sum.Records)
			status = 1
		}
	}
	if bar != nil {
		bar.Finish()
	}
	el := time.Since(t0)
	if !*quiet {
		fmt.Fprintf(sio.out, "files       %d\nrecords     %d\nrejected    %d\npartitions  %d\nobjects     %d\nbytes       %d (%.1f MiB)\nelapsed     %s\nrecords/s   %.0f\n",
			len(files), records, rejected, len(parts), keys, bytes, float64(bytes)/(1<<20), el.Round(time.Millisecond), float64(records)/el.Seconds())
		if rss := peakRSS(); rss > 0 {
			fmt.Fprintf(sio.out, "peak RSS    %d KiB\n", rss>>10)
		}
	}
	return status
}

// convertFile converts one file with p: the records before any header in
// fm (nil: the default format), under the account and region given, if
// any. A damaged gzip file is converted up to the damage: Result.Damage
// says where.
func convertFile(ctx context.Context, p *pipeline.Pipeline, name string, fm *flowlog.Format, account, region string,
	bar *progressbar.ProgressBar) (pipeline.Result, error) {
	src, err := lake.FileSource(name)
	if err != nil {
		return pipeline.Result{}, err
	}
	src.Account, src.Region = account, region
	f, err := os.Open(name)
	if err != nil {
		return pipeline.Result{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return pipeline.Result{}, err
	}
	var r io.Reader = f
	if bar != nil {
		r = io.TeeReader(f, bar)
	}
	res, err := p.ProcessText(ctx, src, r, fi.Size(), fm)
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

// peakRSS returns this process's peak resident set size in bytes, from
// VmHWM in /proc/self/status (0 where there is none). Unlike ru_maxrss,
// it is the high-water mark of this program's memory only: a child started
// by a large parent inherits the parent's ru_maxrss across exec.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
