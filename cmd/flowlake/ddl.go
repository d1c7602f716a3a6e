package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/flowlake/flowlake/shared/lake"
)

// runDDL implements `flowlake ddl`.
func runDDL(_ context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("ddl", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	location := fs.String("location", "s3://BUCKET/PREFIX/", "the lake's S3 location")
	table := fs.String("table", lake.TableName, "table name")
	accounts := fs.String("accounts", "", "comma-separated accounts to project (default: injected, so queries must name aws_account)")
	regions := fs.String("regions", "", "comma-separated regions to project (default: every commercial region and unknown)")
	firstDay := fs.String("first-day", "", "first day to project, yyyy-MM-dd (default 2020-01-01)")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: flowlake ddl [--location s3://...] [flags]\n\n"+
			"Prints the Athena CREATE EXTERNAL TABLE of the lake, with partition\n"+
			"projection: no crawler, no MSCK REPAIR, no ALTER TABLE ADD PARTITION.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	t := lake.TableSchema.Table(lake.TableOptions{
		Name: *table, Location: *location, Accounts: split(*accounts), Regions: split(*regions), FirstDay: *firstDay,
	})
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
