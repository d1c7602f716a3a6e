package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/threatlist"
)

// runThreatList implements `flowlake threat-list import`.
func runThreatList(ctx context.Context, sio stdio, args []string) int {
	usage := func() {
		fmt.Fprintln(sio.err, "usage: flowlake threat-list import (--lake DIR | --bucket NAME [--endpoint URL]) NAME FILE\n\n"+
			"Imports a threat list, a plain-text or CSV file of addresses and CIDR blocks with\n"+
			"optional labels (address[,label] or address label; # comments), into the lake as\n"+
			"DIR/"+lake.ThreatListsPrefix+"NAME.parquet: the threat_lists table the\n"+
			"threat-list-match rule joins (a second Glue table in AWS, under the lake bucket's\n"+
			lake.ReferencePrefix+"). Importing NAME again replaces it. Lines that cannot be read\n"+
			"are reported with their line and field, and the others imported. --bucket writes\n"+
			"the same objects to the lake bucket (credentials and region from the AWS\n"+
			"environment, or --endpoint, path style).")
	}
	if len(args) == 0 || args[0] != "import" {
		usage()
		return 2
	}
	fs := flag.NewFlagSet("threat-list import", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	lakeDir := fs.String("lake", "", "the lake's folder")
	bucket := fs.String("bucket", "", "the lake's bucket, instead of --lake")
	endpoint := fs.String("endpoint", "", "with --bucket: an S3-compatible endpoint URL (path style); default AWS")
	access := fs.String("access-key", "", "with --endpoint: access key (default: the AWS environment)")
	secret := fs.String("secret-key", "", "with --endpoint: secret key (default: the AWS environment)")
	region := fs.String("region", "", "with --bucket: the bucket's region (default: the AWS environment's, or us-east-1)")
	fs.Usage = func() { usage(); fmt.Fprintln(sio.err, "\nflags:"); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if (*lakeDir == "") == (*bucket == "") || fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	var store lake.Store = lake.DirStore{Root: *lakeDir}
	where := *lakeDir
	if *bucket != "" {
		client, err := compactClient(ctx, *endpoint, *region, *access, *secret)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake threat-list import: %v\n", err)
			return 1
		}
		store, where = &lake.S3Store{Client: client, Bucket: *bucket}, "s3://"+*bucket
	}
	text, err := os.ReadFile(fs.Arg(1))
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake threat-list import: %v\n", err)
		return 1
	}
	l, err := writeThreatList(ctx, store, where, fs.Arg(0), fs.Arg(1), text, sio.out, sio.err)
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake threat-list import: %v\n", err)
		return 1
	}
	if l.Len() == 0 {
		return 1
	}
	return 0
}

// importThreatList reads the list NAME from path and writes it into the
// lake under dir, reporting its bad lines and what it wrote.
func importThreatList(ctx context.Context, dir, name, path string, out, errw io.Writer) (*threatlist.List, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read threat list: %w", err)
	}
	return importThreatListText(ctx, dir, name, path, text, out, errw)
}

func importThreatListText(ctx context.Context, dir, name, path string, text []byte, out, errw io.Writer) (*threatlist.List, error) {
	return writeThreatList(ctx, lake.DirStore{Root: dir}, dir, name, path, text, out, errw)
}

// writeThreatList parses the list NAME and writes it to store, the lake
// at where (a folder or s3://bucket).
func writeThreatList(ctx context.Context, store lake.Store, where, name, path string, text []byte, out, errw io.Writer) (*threatlist.List, error) {
	l, bad, err := threatlist.Parse(name, path, bytes.NewReader(text))
	if err != nil {
		return nil, err
	}
	for _, e := range bad {
		fmt.Fprintf(errw, "warning: %v\n", e)
	}
	rows, err := lake.WriteThreatList(ctx, store, "", l, text)
	if err != nil {
		return nil, err
	}
	dst := where + "/" + lake.ThreatListKey("", name)
	if !strings.HasPrefix(where, "s3://") {
		dst = filepath.Join(where, filepath.FromSlash(lake.ThreatListKey("", name)))
	}
	fmt.Fprintf(out, "threat list %s: %d entries (%d lines skipped) as %d rows in %s\n", name, l.Len(), len(bad), rows, dst)
	return l, nil
}
