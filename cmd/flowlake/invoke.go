package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/pipeline"
)

const invokeUsage = `usage: flowlake invoke cwlogs|s3 EVENT.json [--format F] [--lake DIR | --bucket NAME --endpoint URL] [--raw DIR] [enrichment flags]

Runs the ingest functions' handler code on an event file, as the Lambda
would: cwlogs takes a CloudWatch Logs subscription event, s3 an SQS batch of
S3 notifications, a direct S3 event, an EventBridge "Object Created" event
or s3:TestEvent. The lake is the folder DIR (--lake) or the bucket NAME at
an S3-compatible endpoint (--bucket, --endpoint; credentials and region
from the AWS environment, region us-east-1 by default). For s3 events the
raw objects come from --raw DIR (s3://bucket/key is DIR/bucket/key) or,
without it, from the endpoint. Prints what the handler returned (for SQS,
the batchItemFailures), then a summary. Exit status 1 when the handler
failed or reported a failed message.

flags:`

// runInvoke implements `flowlake invoke`.
func runInvoke(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	format := fs.String("format", "", "cwlogs: the flow log's ${...} format (default: the v2 default format)")
	lakeDir := fs.String("lake", "", "the lake's folder")
	bucket := fs.String("bucket", "", "the lake's bucket at --endpoint")
	endpoint := fs.String("endpoint", "", "an S3-compatible endpoint URL (path-style)")
	raw := fs.String("raw", "", "s3: the folder of the raw objects, DIR/bucket/key")
	prefix := fs.String("prefix", pipeline.DefaultLakePrefix, "the lake's Parquet key prefix")
	verbose := fs.Bool("v", false, "log every step (JSON, to stderr)")
	ef := addEnrichFlags(fs, true)
	fs.Usage = func() {
		fmt.Fprintln(sio.err, invokeUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 2 || (pos[0] != "cwlogs" && pos[0] != "s3") || (*lakeDir == "") == (*bucket == "") ||
		(*bucket != "" && *endpoint == "") {
		fs.Usage()
		return 2
	}
	kind, eventFile := pos[0], pos[1]
	payload, err := os.ReadFile(eventFile)
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake invoke: %v\n", err)
		return 2
	}

	var client *s3.Client
	if *endpoint != "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake invoke: %v\n", err)
			return 2
		}
		if cfg.Region == "" {
			cfg.Region = "us-east-1"
		}
		client = s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(*endpoint)
			o.UsePathStyle = true
		})
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	p := &pipeline.Pipeline{Prefix: *prefix, Log: pipeline.NewLogger(sio.err, level)}
	e, err := ef.open(ctx, sio.err)
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake invoke: %v\n", err)
		return 2
	}
	if e != nil {
		defer e.Close()
		p.Enricher, p.EnrichGroups = e, ef.groups()
	}
	if *lakeDir != "" {
		p.Store = lake.DirStore{Root: *lakeDir}
	} else {
		p.Store = &lake.S3Store{Client: client, Bucket: *bucket}
	}

	switch kind {
	case "cwlogs":
		h := &pipeline.CloudWatchHandler{Pipeline: p}
		if flagSet(fs, "format") {
			if h.Format, err = flowlog.ParseFormat(*format); err != nil {
				fmt.Fprintf(sio.err, "flowlake invoke: --format: %v\n", err)
				return 2
			}
		}
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			fmt.Fprintf(sio.err, "flowlake invoke: %s: %v\n", eventFile, err)
			return 2
		}
		out, err := h.Handle(ctx, ev)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake invoke: handler error: %v\n", err)
			return 1
		}
		invokePrintJSON(sio.out, out)
		fmt.Fprintln(sio.out, "\nsummary")
		if out.Ignored != "" {
			fmt.Fprintf(sio.out, "  ignored: %s\n", out.Ignored)
		} else {
			fmt.Fprintf(sio.out, "  %s %s: %d events, %d records, %d rejected, %d objects\n",
				out.LogGroup, out.LogStream, out.Events, out.Records, out.Rejected, len(out.Keys))
		}
		return 0
	default:
		h := &pipeline.S3Handler{Pipeline: p, LakeBucket: *bucket}
		switch {
		case *raw != "":
			h.S3 = pipeline.DirObjects(*raw)
		case client != nil:
			h.S3 = client
		default:
			fmt.Fprintln(sio.err, "flowlake invoke: s3 events need --raw DIR or --endpoint URL for the raw objects")
			return 2
		}
		o, err := h.Process(ctx, payload)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake invoke: handler error: %v\n", err)
			return 1
		}
		invokePrintJSON(sio.out, o.Response())
		status := 0
		fmt.Fprintf(sio.out, "\nsummary (%s)\n", o.Shape)
		line := func(indent string, r pipeline.ObjectResult) {
			fmt.Fprintf(sio.out, "%ss3://%s/%s: ", indent, r.Bucket, r.Key)
			switch {
			case r.Error != "":
				status = 1
				fmt.Fprintf(sio.out, "FAILED: %s\n", r.Error)
			case r.Skipped != "":
				fmt.Fprintf(sio.out, "skipped: %s\n", r.Skipped)
			case r.Damaged != nil:
				fmt.Fprintf(sio.out, "%d records, %d rejected, %d objects; %s (the records before it were kept)\n",
					r.Records, r.Rejected, len(r.Keys), r.Damaged)
			default:
				fmt.Fprintf(sio.out, "%d records, %d rejected, %d objects\n", r.Records, r.Rejected, len(r.Keys))
			}
		}
		for _, m := range o.Messages {
			state := "ok"
			switch {
			case m.Error != "":
				state, status = "FAILED", 1
			case m.TestEvent:
				state = "s3:TestEvent"
			}
			fmt.Fprintf(sio.out, "  message %s: %s\n", m.MessageID, state)
			for _, r := range m.Objects {
				line("    ", r)
			}
		}
		for _, r := range o.Objects {
			line("  ", r)
		}
		var records, rejected int64
		for _, r := range o.All() {
			records += r.Records
			rejected += r.Rejected
		}
		fmt.Fprintf(sio.out, "  total: %d records, %d rejected\n", records, rejected)
		return status
	}
}

func invokePrintJSON(w io.Writer, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintf(w, "%s\n", b)
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0]) // Parse stops at the first non-flag
		args = args[1:]
	}
}
