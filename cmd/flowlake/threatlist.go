package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/threatlist"
)

// runThreatList implements `flowlake threat-list import`.
func runThreatList(ctx context.Context, sio stdio, args []string) int {
	usage := func() {
		fmt.Fprintln(sio.err, "usage: flowlake threat-list import --lake DIR NAME FILE\n\n"+
			"Imports a threat list, a plain-text or CSV file of addresses and CIDR blocks with\n"+
			"optional labels (address[,label] or address label; # comments), into the lake as\n"+
			"DIR/"+lake.ThreatListsPrefix+"NAME.parquet: the threat_lists table the\n"+
			"threat-list-match rule joins (a second Glue table in AWS, under the lake bucket's\n"+
			lake.ReferencePrefix+"). Importing NAME again replaces it. Lines that cannot be read\n"+
			"are reported with their line and field, and the others imported.")
	}
	if len(args) == 0 || args[0] != "import" {
		usage()
		return 2
	}
	fs := flag.NewFlagSet("threat-list import", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	lakeDir := fs.String("lake", "", "the lake's folder (required)")
	fs.Usage = func() { usage(); fmt.Fprintln(sio.err, "\nflags:"); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *lakeDir == "" || fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	l, err := importThreatList(ctx, *lakeDir, fs.Arg(0), fs.Arg(1), sio.out, sio.err)
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
	l, bad, err := threatlist.Parse(name, path, bytes.NewReader(text))
	if err != nil {
		return nil, err
	}
	for _, e := range bad {
		fmt.Fprintf(errw, "warning: %v\n", e)
	}
	rows, err := lake.WriteThreatList(ctx, lake.DirStore{Root: dir}, "", l, text)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "threat list %s: %d entries (%d lines skipped) as %d rows in %s\n", name, l.Len(), len(bad), rows,
		filepath.Join(dir, filepath.FromSlash(lake.ThreatListKey("", name))))
	return l, nil
}
