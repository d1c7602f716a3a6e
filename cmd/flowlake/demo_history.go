package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// The demo's history: flowgen.BaselineDays benign days before the demo
// day for the two interfaces no attack of the day uses (the estate's last
// two), so that the baseline rules have something to judge against. The
// day's other interfaces are new to the lake, as instances launched this
// week would be: the baseline rules pass over an interface with fewer
// than min_days days of history, so the other attacks raise only their
// own rules. On the day, the first of the two opens connections to a
// port it never used and the second sends 1,000 MiB to the internet
// (flowgen's AddBaselineAttacks), at demoBaselineAt.
var demoHistoryENIs = [2]int{demoAccounts*demoENIs - 2, demoAccounts*demoENIs - 1}

const demoBaselineAt = 9 * time.Hour

// demoHistoryResult is what demoHistory did.
type demoHistoryResult struct {
	interfaces []string
	records    int64 // written ("kept": 0)
	kept       int   // rollups already in the lake from an earlier run (then nothing is written)
	compacted  compact.Result
	elapsed    time.Duration
}

// demoHistory writes the history days of demoHistoryENIs with p (the
// ingest functions' pipeline, one source a day) and compacts them as the
// compact function does, which writes the rollups the baseline rules
// read. A lake that already holds a rollup of every history day (the
// same demo, run again) is left as it is, so a rerun changes nothing.
func demoHistory(ctx context.Context, c demoConfig, p *pipeline.Pipeline, est *flowgen.Estate, lakeDir string, client *s3.Client) (demoHistoryResult, error) {
	t0 := time.Now()
	first := c.day.AddDate(0, 0, -flowgen.BaselineDays)
	var res demoHistoryResult
	want := map[string]bool{}
	for _, i := range demoHistoryENIs {
		id := est.ENIs[i].ID
		res.interfaces = append(res.interfaces, id)
		want[id] = true
	}
	days, n, err := demoRollupDays(ctx, lakeDir, client, c.bucket)
	if err != nil {
		return res, err
	}
	complete := true
	for d := first; d.Before(c.day); d = d.AddDate(0, 0, 1) {
		complete = complete && days[d.Format(time.DateOnly)]
	}
	if complete {
		res.kept = n
		res.elapsed = time.Since(t0)
		return res, nil
	}

	fm := flowgen.RichFormat()
	sc, err := flowgen.NewScenario(flowgen.Config{
		Seed: c.seed, Records: c.records * flowgen.BaselineDays, Format: fm, Start: first,
		Span: flowgen.BaselineDays * 24 * time.Hour, Accounts: demoAccounts, ENIs: demoENIs, Region: c.region,
	}, "benign")
	if err != nil {
		return res, err
	}
	for _, i := range demoHistoryENIs { // the same estate as the day's
		if h := sc.Estate().ENIs[i]; h.ID != est.ENIs[i].ID || h.Addr != est.ENIs[i].Addr {
			return res, fmt.Errorf("history: interface %d is %s %s, the day's %s %s", i, h.ID, h.Addr, est.ENIs[i].ID, est.ENIs[i].Addr)
		}
	}
	var buf, line []byte
	day := first
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		src := lake.Source{ID: "flowlake-demo-history/" + day.Format(time.DateOnly), Region: c.region, Time: day}
		r, err := p.ProcessText(ctx, src, bytes.NewReader(buf), int64(len(buf)), fm)
		if err != nil {
			return fmt.Errorf("history %s: %w", day.Format(time.DateOnly), err)
		}
		if r.Rejected > 0 {
			return fmt.Errorf("history %s: %d records rejected", day.Format(time.DateOnly), r.Rejected)
		}
		res.records += r.Records
		buf = buf[:0]
		return nil
	}
	for {
		rec, ok := sc.Next()
		if !ok {
			break
		}
		if !want[rec.InterfaceID] {
			continue
		}
		if d := time.Unix(rec.End, 0).UTC().Truncate(24 * time.Hour); d.After(day) {
			if err := flush(); err != nil {
				return res, err
			}
			day = d
		}
		line = rec.AppendText(line[:0], fm)
		buf = append(append(buf, line...), '\n')
	}
	if err := flush(); err != nil {
		return res, err
	}

	tmp, err := os.MkdirTemp("", "flowlake-demo-compact-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp)
	cp := &compact.Compactor{Prefix: demoPrefix, TempDir: tmp, InternalPrefixes: []netip.Prefix{flowgen.EstateIPv6Prefix},
		Log: slog.New(slog.DiscardHandler)}
	if client != nil {
		cp.Bucket = &compact.S3{Client: client, Bucket: c.bucket, TempDir: tmp}
	} else {
		cp.Bucket = compact.Dir{Root: lakeDir}
	}
	// Not the history's last hour: the day's first flows started in it,
	// and a rerun ingests them again, which would put them beside a
	// compaction (twice, until the next one) instead of overwriting them.
	res.compacted, err = cp.Run(ctx, compact.Window{Since: first, Before: c.day.Add(-time.Hour)})
	if err != nil {
		return res, fmt.Errorf("compact the history: %w", err)
	}
	res.elapsed = time.Since(t0)
	return res, nil
}

// demoRollupDays returns the days of the rollups in the demo's lake, and
// how many rollups there are.
func demoRollupDays(ctx context.Context, lakeDir string, client *s3.Client, bucket string) (map[string]bool, int, error) {
	days := map[string]bool{}
	n := 0
	add := func(key string) {
		if !strings.HasSuffix(key, "/"+compact.RollupName) {
			return
		}
		for _, part := range strings.Split(key, "/") {
			if d, ok := strings.CutPrefix(part, lake.KeyDay+"="); ok {
				days[d] = true
				n++
			}
		}
	}
	prefix := lake.RollupPrefix // beside the flows' prefix, as in AWS
	if client == nil {
		err := filepath.WalkDir(filepath.Join(lakeDir, filepath.FromSlash(prefix)), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				add(filepath.ToSlash(path))
			}
			return nil
		})
		return days, n, err
	}
	pg := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			add(aws.ToString(o.Key))
		}
	}
	return days, n, nil
}
