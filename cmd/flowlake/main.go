// Command flowlake runs the flowlake pipeline on a laptop: it generates,
// parses and converts VPC flow logs into a local Parquet lake and queries it
// with embedded DuckDB, using the same code the Lambda functions run.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
)

// stdio is where a command reads and writes; tests pass buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand: run returns the process exit status.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, io stdio, args []string) int
}

// commands lists the subcommands in the order the help shows them.
var commands = []command{
	{"demo", "run the whole pipeline on a generated day: ingest, detect, notify, queries", runDemo},
	{"parse", "read flow-log text and print one JSON object per record", runParse},
	{"gen", "generate a realistic, seeded flow-log corpus", runGen},
	{"convert", "convert flow-log files into the partitioned Parquet lake", runConvert},
	{"compact", "compact closed partition-hours into few sorted objects (the compact Lambda's code)", runCompact},
	{"query", "run SQL on the lake with embedded DuckDB (table flows)", runQuery},
	{"ddl", "print the Athena CREATE TABLE with partition projection", runDDL},
	{"bench", "time gzip to Parquet against DuckDB, with peak RSS", runBench},
	{"detect", "run the detection rules over the lake and print findings", runDetect},
	{"threat-list", "import a threat list (addresses, CIDR blocks, labels) into the lake", runThreatList},
	{"why", "why can't SRC talk to DST? a verdict from the flow records", runWhy},
	{"invoke", "run an ingest function's handler on an event file (cwlogs, s3)", runInvoke},
	{"redrive", "move a dead-letter queue's messages back to their queue (SQS move task)", runRedrive},
	{"replay-findings", "publish the dead-lettered findings again, through the dedup table", runReplayFindings},
	{"notify", "preview what a finding's email, Slack or SNS message would be", runNotify},
	{"docs", "print the README's generated sections (schema, rules)", runDocs},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	if path := os.Getenv("FLOWLAKE_CPUPROFILE"); path != "" {
		// A CPU profile of the whole command, for performance work.
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	code := run(ctx, stdio{os.Stdin, os.Stdout, os.Stderr}, os.Args[1:])
	stop()
	pprof.StopCPUProfile()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the exit status.
func run(ctx context.Context, sio stdio, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(sio.err)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, sio, args[1:])
		}
	}
	fmt.Fprintf(sio.err, "flowlake: unknown command %q\n\n", args[0])
	usage(sio.err)
	return 2
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: flowlake COMMAND [flags] [args]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-15s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'flowlake COMMAND -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}
