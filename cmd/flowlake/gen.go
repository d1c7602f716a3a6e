package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
)

// runGen implements `flowlake gen`.
func runGen(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	records := fs.Int("records", 10000, "number of records")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same corpus")
	format := fs.String("format", "default", "\"default\" (v2), \"rich\" (every v2–v5 field), \"v11\" (rich and the version-11 fields but the tags) or a \"${...}\" format string")
	gz := fs.Bool("gzip", false, "gzip the output")
	noHeader := fs.Bool("no-header", false, "leave out the S3 header line")
	start := fs.String("start", flowgen.DefaultStart.Format(time.RFC3339), "start of the first interval (RFC 3339)")
	span := fs.Duration("span", time.Hour, "time the records are spread over")
	accounts := fs.Int("accounts", 3, "number of accounts")
	enis := fs.Int("enis", 8, "network interfaces per account")
	region := fs.String("region", "us-east-1", "region")
	outPath := fs.String("o", "-", "output file, - for stdout")
	scenario := fs.String("scenario", "", "a benign day with an injected attack: "+scenarioNames()+" (the span defaults to 24h)")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: flowlake gen [flags]\n\nWrites a realistic, seeded flow-log corpus, as S3 delivery writes it.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *scenario != "" {
		if _, ok := flowgen.LookupScenario(*scenario); !ok {
			fmt.Fprintf(sio.err, "flowlake gen: --scenario: unknown %q (one of %s)\n", *scenario, scenarioNames())
			return 2
		}
		spanSet := false
		fs.Visit(func(f *flag.Flag) { spanSet = spanSet || f.Name == "span" })
		if !spanSet {
			*span = 24 * time.Hour
		}
	}
	cfg := flowgen.Config{
		Seed: *seed, Records: *records, Gzip: *gz, Header: !*noHeader, Span: *span,
		Accounts: *accounts, ENIs: *enis, Region: *region,
	}
	switch *format {
	case "default":
	case "rich":
		cfg.Format = flowgen.RichFormat()
	case "v11":
		cfg.Format = flowgen.V11Format()
	default:
		fm, err := flowlog.ParseFormat(*format)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake gen: --format: %v\n", err)
			return 2
		}
		cfg.Format = fm
	}
	t, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake gen: --start: %v\n", err)
		return 2
	}
	cfg.Start = t
	var w io.Writer = sio.out
	if *outPath != "-" {
		f, err := os.Create(*outPath)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake gen: %v\n", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	write := flowgen.Write
	if *scenario != "" {
		write = func(w io.Writer, cfg flowgen.Config) (int, error) { return flowgen.WriteScenario(w, cfg, *scenario) }
	}
	if _, err := write(bw, cfg); err != nil {
		fmt.Fprintf(sio.err, "flowlake gen: %v\n", err)
		return 1
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintf(sio.err, "flowlake gen: %v\n", err)
		return 1
	}
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		if err := f.Close(); err != nil {
			fmt.Fprintf(sio.err, "flowlake gen: %v\n", err)
			return 1
		}
	}
	return 0
}

func scenarioNames() string {
	names := make([]string, len(flowgen.Scenarios))
	for i, s := range flowgen.Scenarios {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}
