package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/finding"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runDetect implements `flowlake detect`.
func runDetect(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	lakeDir := fs.String("lake", "", "the lake's folder (required)")
	since := fs.String("since", "", "first window to evaluate (RFC 3339); default: the lake's first hour")
	until := fs.String("until", "", "end of the last window (RFC 3339); default: the lake's last hour")
	asJSON := fs.Bool("json", false, "print one finding per line as JSON")
	minSev := fs.String("min-severity", "low", "print findings of this severity or higher")
	printSQL := fs.Bool("sql", false, "print each rule's Athena SQL instead of running it")
	var internal, settings, disabled, lists listFlag
	fs.Var(&internal, "internal", "an address block of ours besides the private ranges, such as a VPC's IPv6 /56 (repeatable, or comma-separated)")
	fs.Var(&settings, "set", "override a rule setting: rule.field=value, e.g. port-scan.threshold=20 (repeatable)")
	fs.Var(&disabled, "disable", "a rule ID not to run (repeatable)")
	fs.Var(&lists, "threat-list", "NAME=FILE: import the threat list FILE into the lake as NAME first, as flowlake threat-list import does (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: flowlake detect --lake DIR [--since T] [--until T] [--json]\n\n"+
			"Runs every detection rule as SQL over the lake in embedded DuckDB (the SQL the\n"+
			"scheduled Lambda runs in Athena) and prints the findings. Windows are aligned\n"+
			"to the epoch; --since and --until are widened to whole hours.\n\nrules:")
		for _, r := range detect.Rules {
			fmt.Fprintf(sio.err, "  %-22s %s\n", r.ID, r.Title)
		}
		fmt.Fprintln(sio.err, "\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*lakeDir == "" && !*printSQL) || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(sio.err, "flowlake detect: "+format+"\n", a...)
		return code
	}
	cfg := detect.Config{}
	for _, v := range internal {
		for _, s := range strings.Split(v, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				return fail(2, "--internal: %v", err)
			}
			cfg.InternalPrefixes = append(cfg.InternalPrefixes, p)
		}
	}
	for _, s := range settings {
		if err := cfg.ParseSetting(s); err != nil {
			return fail(2, "--set: %v", err)
		}
	}
	for _, d := range disabled {
		cfg.Disabled = append(cfg.Disabled, strings.Split(d, ",")...)
	}
	for _, kv := range lists {
		name, path, ok := strings.Cut(kv, "=")
		if !ok {
			return fail(2, "--threat-list %q: want NAME=FILE", kv)
		}
		if *lakeDir == "" {
			return fail(2, "--threat-list needs --lake")
		}
		l, err := importThreatList(ctx, *lakeDir, name, path, sio.err, sio.err)
		if err != nil {
			return fail(1, "--threat-list: %v", err)
		}
		cfg.ThreatLists = append(cfg.ThreatLists, l)
	}
	sev, err := finding.ParseSeverity(*minSev)
	if err != nil {
		return fail(2, "--min-severity: %v", err)
	}
	var t0, t1 time.Time
	for _, p := range []struct {
		name string
		s    string
		t    *time.Time
	}{{"--since", *since, &t0}, {"--until", *until, &t1}} {
		if p.s == "" {
			continue
		}
		if *p.t, err = time.Parse(time.RFC3339, p.s); err != nil {
			return fail(2, "%s: %v", p.name, err)
		}
	}
	set, err := detect.Compile(cfg)
	if err != nil {
		return fail(2, "%v", err)
	}
	out := bufio.NewWriter(sio.out)
	defer out.Flush()
	if *printSQL {
		if t0.IsZero() || t1.IsZero() {
			return fail(2, "--sql needs --since and --until")
		}
		for _, q := range set.Queries(detect.Athena, t0, t1) {
			fmt.Fprintf(out, "-- %s\n%s;\n\n", q.Rule, q.SQL)
		}
		return 0
	}
	findings, err := duck.Detect(ctx, *lakeDir, set, t0, t1)
	if err != nil {
		return fail(1, "%v", err)
	}
	n := 0
	for _, f := range findings {
		if !f.Severity.AtLeast(sev) {
			continue
		}
		n++
		if *asJSON {
			b, err := json.Marshal(f)
			if err != nil {
				return fail(1, "%v", err)
			}
			out.Write(b)
			out.WriteByte('\n')
			continue
		}
		fmt.Fprintf(out, "%-8s %-21s %s  %s\n         %s\n", strings.ToUpper(string(f.Severity)), f.Rule,
			f.WindowStart.Format("2006-01-02 15:04Z"), f.Entity, f.Description)
	}
	if !*asJSON {
		fmt.Fprintf(out, "%d findings\n", n)
	}
	return 0
}
