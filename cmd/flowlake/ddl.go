package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/lake"
)

const ddlUsage = `usage: flowlake ddl (--lake DIR | --accounts A,B --regions R,S) [--location s3://...] [flags]

Prints the Athena CREATE EXTERNAL TABLE of the lake, with partition
projection: no crawler, no MSCK REPAIR, no ALTER TABLE ADD PARTITION.

Partition projection enumerates aws_account and aws_region, so both lists
are needed: --lake DIR reads them (and the first day) from a lake folder,
--accounts and --regions give them, or override what --lake found. Athena
reads at most 1,000,000 partitions in one scan; the command fails when a
query that does not filter on the partition keys would project more
(accounts × regions × days × 24), and says how many it projects.

flags:`

// runDDL implements `flowlake ddl`.
func runDDL(_ context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("ddl", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	location := fs.String("location", "s3://BUCKET/PREFIX/", "the lake's S3 location")
	table := fs.String("table", lake.TableName, "table name")
	lakeDir := fs.String("lake", "", "a lake folder to read the accounts, regions and first day from")
	accounts := fs.String("accounts", "", "comma-separated accounts to project (default: those under --lake)")
	regions := fs.String("regions", "", "comma-separated regions to project (default: those under --lake)")
	firstDay := fs.String("first-day", "", "first day to project, yyyy-MM-dd (default: the first under --lake, else 2020-01-01)")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, ddlUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	o := lake.TableOptions{Name: *table, Location: *location, Accounts: split(*accounts), Regions: split(*regions), FirstDay: *firstDay}
	if *lakeDir != "" {
		found, err := lakePartitions(*lakeDir)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake ddl: %v\n", err)
			return 2
		}
		if len(o.Accounts) == 0 {
			o.Accounts = found.Accounts
		}
		if len(o.Regions) == 0 {
			o.Regions = found.Regions
		}
		if o.FirstDay == "" {
			o.FirstDay = found.FirstDay
		}
	}
	if len(o.Accounts) == 0 || len(o.Regions) == 0 {
		fmt.Fprintln(sio.err, "flowlake ddl: name the accounts and regions to project, with --lake DIR or --accounts and --regions "+
			"(an injected aws_account would make Athena reject every query that does not name one)")
		return 2
	}
	if o.FirstDay != "" {
		if _, err := time.Parse(time.DateOnly, o.FirstDay); err != nil {
			fmt.Fprintf(sio.err, "flowlake ddl: --first-day %q: want yyyy-MM-dd\n", o.FirstDay)
			return 2
		}
	}
	t := lake.TableSchema.Table(o)
	n, _ := t.ProjectedPartitions(time.Now())
	if n > lake.MaxScanPartitions {
		fmt.Fprintf(sio.err, "flowlake ddl: a query that does not filter on the partition keys would project %d partitions "+
			"(%d accounts × %d regions × days since %s × 24), over Athena's %d a scan: name fewer regions or a later --first-day\n",
			n, len(o.Accounts), len(o.Regions), t.Parameters["projection."+lake.KeyDay+".range"][:10], lake.MaxScanPartitions)
		return 2
	}
	io.WriteString(sio.out, lake.DDL(t))
	return 0
}

func split(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// lakePartitions returns the accounts, regions and first day of the
// partition folders under dir (aws_account=…/aws_region=…/day=…).
func lakePartitions(dir string) (lake.TableOptions, error) {
	var o lake.TableOptions
	values := func(d, key string) ([]string, error) {
		entries, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, e := range entries {
			if v, ok := strings.CutPrefix(e.Name(), key+"="); ok && e.IsDir() {
				out = append(out, v)
			}
		}
		return out, nil
	}
	accounts, err := values(dir, lake.KeyAccount)
	if err != nil {
		return o, fmt.Errorf("lake %s: %w", dir, err)
	}
	for _, a := range accounts {
		regions, err := values(filepath.Join(dir, lake.KeyAccount+"="+a), lake.KeyRegion)
		if err != nil {
			return o, err
		}
		for _, r := range regions {
			days, err := values(filepath.Join(dir, lake.KeyAccount+"="+a, lake.KeyRegion+"="+r), lake.KeyDay)
			if err != nil {
				return o, err
			}
			for _, d := range days {
				if o.FirstDay == "" || d < o.FirstDay {
					o.FirstDay = d
				}
			}
			if !slices.Contains(o.Regions, r) {
				o.Regions = append(o.Regions, r)
			}
		}
		o.Accounts = append(o.Accounts, a)
	}
	if len(o.Accounts) == 0 {
		return o, errors.New("lake " + dir + ": no aws_account=… partition folders")
	}
	slices.Sort(o.Regions)
	return o, nil
}
