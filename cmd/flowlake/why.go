package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/flowlake/flowlake/shared/detect"
	detectathena "github.com/flowlake/flowlake/shared/detect/athena"
	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/lakesql"
	"github.com/flowlake/flowlake/shared/why"
)

const whyUsage = `usage: flowlake why [--lake DIR | --athena] [--since T] [--until T] [--protocol tcp|udp|icmp|N] [--json] SRC DST [PORT]

Answers "why can't SRC talk to DST (on PORT)?" from the flow records: the
pair's records in each direction, at the network interface that logged
each, and the interfaces of either address. Prints a verdict, one of

  connected reset blocked-inbound blocked-outbound reply-blocked unanswered
  lost-in-path never-sent blocked-by-bpa not-logged log-gap no-coverage

with a summary, the likely cause where the records narrow it
(security-group, network-acl or either), the evidence, caveats and the next
checks as aws CLI commands. --json prints the same as one JSON object.

The window is --since to --until (RFC 3339); by default, the 24 whole hours
that end with the hour of the newest record involving SRC or DST: anywhere
in the lake (--lake), in the last 7 days (--athena). --lake runs the SQL in embedded DuckDB;
--athena runs the same SQL in Athena (AWS environment, --workgroup,
--database). --sql prints the SQL for --since and --until instead.

flags:`

// runWhy implements `flowlake why`.
func runWhy(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("why", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	lakeDir := fs.String("lake", "", "the lake's folder: query it in embedded DuckDB")
	useAthena := fs.Bool("athena", false, "query Athena (credentials and region from the AWS environment)")
	workgroup := fs.String("workgroup", "flowlake", "with --athena: the workgroup")
	database := fs.String("database", "flowlake", "with --athena: the Glue database")
	output := fs.String("output-location", "", "with --athena: s3:// results location (default: the workgroup's)")
	since := fs.String("since", "", "start of the window (RFC 3339)")
	until := fs.String("until", "", "end of the window (RFC 3339)")
	proto := fs.String("protocol", "", "tcp, udp, icmp or an IANA number (default: any)")
	asJSON := fs.Bool("json", false, "print the answer as one JSON object")
	printSQL := fs.Bool("sql", false, "print the SQL for --since and --until instead of running it")
	var cidrs listFlag
	fs.Var(&cidrs, "vpc-cidr", "a VPC's address block, for its reserved addresses (the Amazon DNS resolver is its base + 2); repeatable")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, whyUsage)
		fs.PrintDefaults()
	}
	// Flags may come after the addresses too.
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(sio.err, "flowlake why: "+format+"\n", a...)
		return code
	}
	engines := 0
	if *lakeDir != "" {
		engines++
	}
	if *useAthena {
		engines++
	}
	if len(pos) < 2 || len(pos) > 3 || engines > 1 || engines == 0 && !*printSQL {
		fs.Usage()
		return 2
	}
	var q why.Question
	var err error
	if q.Src, err = netip.ParseAddr(pos[0]); err != nil {
		return fail(2, "SRC: %v", err)
	}
	if q.Dst, err = netip.ParseAddr(pos[1]); err != nil {
		return fail(2, "DST: %v", err)
	}
	if len(pos) == 3 {
		if q.Port, err = strconv.Atoi(pos[2]); err != nil || q.Port < 1 || q.Port > 65535 {
			return fail(2, "PORT %q: want 1 to 65535", pos[2])
		}
	}
	if q.Protocol, err = parseProtocol(*proto, q.Dst.Is6()); err != nil {
		return fail(2, "--protocol: %v", err)
	}
	for _, v := range cidrs {
		for _, s := range strings.Split(v, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				return fail(2, "--vpc-cidr: %v", err)
			}
			q.VPCCIDRs = append(q.VPCCIDRs, p)
		}
	}
	for _, p := range []struct {
		name, s string
		t       *time.Time
	}{{"--since", *since, &q.Since}, {"--until", *until, &q.Until}} {
		if p.s == "" {
			continue
		}
		if *p.t, err = time.Parse(time.RFC3339, p.s); err != nil {
			return fail(2, "%s: %v", p.name, err)
		}
	}
	out := bufio.NewWriter(sio.out)
	defer out.Flush()
	if *printSQL {
		if q.Since.IsZero() || q.Until.IsZero() {
			return fail(2, "--sql needs --since and --until")
		}
		w := why.Window{Since: q.Since, Until: q.Until}
		fmt.Fprintf(out, "-- the pair's records and the interfaces of either address\n%s;\n", why.AnswerSQL(q, w))
		return 0
	}

	var db detect.Querier
	if *lakeDir != "" {
		sdb, err := lakesql.Open(ctx, *lakeDir, nil)
		if err != nil {
			return fail(1, "%v", err)
		}
		defer sdb.Close()
		// Parquet footers are read once, not once a query.
		if _, err := sdb.ExecContext(ctx, "SET parquet_metadata_cache = true"); err != nil {
			return fail(1, "%v", err)
		}
		db = duck.Querier{DB: sdb}
		// The default window: from the lake's newest records, whenever
		// they are, tried first at the lake's newest hour partition.
		q.Lookback = -1
		q.Newest = newestHour(*lakeDir)
	} else {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return fail(1, "aws config: %v", err)
		}
		db = &detectathena.Querier{Client: athena.NewFromConfig(cfg), Workgroup: *workgroup, Database: *database,
			OutputLocation: *output, Poll: 500 * time.Millisecond}
	}
	a, err := why.Ask(ctx, db, q)
	if errors.Is(err, why.ErrQuestion) {
		return fail(2, "%v", err)
	}
	if err != nil {
		return fail(1, "%v", err)
	}
	if *asJSON {
		b, err := json.Marshal(a)
		if err != nil {
			return fail(1, "%v", err)
		}
		out.Write(b)
		out.WriteByte('\n')
	} else if err := why.Render(out, a); err != nil {
		return fail(1, "%v", err)
	}
	if err := out.Flush(); err != nil {
		return fail(1, "%v", err)
	}
	return 0
}

// parseProtocol reads --protocol: tcp, udp, icmp (ICMPv6 for IPv6
// addresses), icmpv6, or a number; "" is any (0).
func parseProtocol(s string, v6 bool) (int, error) {
	switch strings.ToLower(s) {
	case "":
		return 0, nil
	case "tcp":
		return 6, nil
	case "udp":
		return 17, nil
	case "icmp":
		if v6 {
			return 58, nil
		}
		return 1, nil
	case "icmpv6", "ipv6-icmp":
		return 58, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 255 {
		return 0, fmt.Errorf("%q: want tcp, udp, icmp or 1 to 255", s)
	}
	return n, nil
}

// newestHour returns the start of the newest hour partition (day=…/hour=…)
// that holds a Parquet file under dir, from the folder names alone; zero
// when there is none.
func newestHour(dir string) time.Time {
	var newest time.Time
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return nil
		}
		var day, hour string
		for _, part := range strings.Split(filepath.ToSlash(filepath.Dir(path)), "/") {
			if v, ok := strings.CutPrefix(part, lake.KeyDay+"="); ok {
				day = v
			}
			if v, ok := strings.CutPrefix(part, lake.KeyHour+"="); ok {
				hour = v
			}
		}
		if t, err := time.Parse("2006-01-02 15", day+" "+hour); err == nil && t.After(newest) {
			newest = t
		}
		return nil
	})
	return newest
}
