package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// runReplayFindings implements `flowlake replay-findings`.
func runReplayFindings(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("replay-findings", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	bucket := fs.String("bucket", "", "the bucket of the dead letters: the stack's lake bucket (LakeBucket output)")
	prefix := fs.String("prefix", notify.DefaultDeadLetterPrefix, "their key prefix")
	dir := fs.String("dir", "", "a local folder of dead letters (notify.DirDeadLetter), instead of --bucket")
	topic := fs.String("topic", "", "the findings topic ARN (required; the stack's FindingsTopic output)")
	table := fs.String("dedup-table", "", "the dedup table (required unless --no-dedup; the stack's DedupTable output)")
	noDedup := fs.Bool("no-dedup", false, "publish without the dedup table: a finding a retry published since is sent again")
	single := fs.Bool("single", false, "one Publish call per finding (SNS-compatible servers without PublishBatch)")
	dryRun := fs.Bool("dry-run", false, "list the dead letters; publish and remove nothing")
	endpoint := fs.String("endpoint", "", "an S3-compatible endpoint for --bucket (path style; default AWS)")
	region := fs.String("region", "", "the AWS region (default: the AWS environment's)")
	verbose := fs.Bool("v", false, "log each finding replayed")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: flowlake replay-findings (--bucket B [--prefix P] | --dir DIR) --topic ARN --dedup-table T\n\n"+
			"Publishes the findings that could not be published (the dead letters kept under\n"+
			"dead-letter/notify/ in the lake bucket) to the findings topic again, through the\n"+
			"same dedup table the functions use, so a finding that a retry has published since\n"+
			"is not notified twice, and a finding dead-lettered on several retries is sent once.\n"+
			"Each finding's dead letters are removed once it is published (or found not to be\n"+
			"news): replaying again changes nothing. A finding that fails again keeps its\n"+
			"letters, and the exit status is 1. Credentials come from the AWS environment\n"+
			"(AWS_ENDPOINT_URL_SNS and AWS_ENDPOINT_URL_DYNAMODB point the clients elsewhere).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 || (*bucket == "") == (*dir == "") || (*topic == "" && !*dryRun) || (*table == "" && !*noDedup && !*dryRun) {
		fs.Usage()
		return 2
	}
	cfg, err := awsConfig(ctx, *region, "", "")
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake replay-findings: %v\n", err)
		return 1
	}
	var store notify.DeadLetters = &notify.DirDeadLetter{Dir: *dir}
	if *bucket != "" {
		client := s3.NewFromConfig(cfg, s3At(*endpoint))
		store = &notify.S3DeadLetters{Client: client, Bucket: *bucket, Prefix: *prefix}
	}
	if *dryRun {
		letters, err := store.List(ctx)
		if err != nil {
			fmt.Fprintf(sio.err, "flowlake replay-findings: %v\n", err)
			return 1
		}
		for _, l := range letters {
			fmt.Fprintf(sio.out, "%s  %s  %s %s  failed %s: %s\n", l.Key, l.Finding.ID, l.Finding.Rule, l.Finding.Severity,
				l.FailedAt.Format("2006-01-02T15:04:05Z"), l.Reason)
		}
		fmt.Fprintf(sio.out, "%d dead letters\n", len(letters))
		return 0
	}
	sent := &countingSNS{API: sns.NewFromConfig(cfg)}
	c := notify.Config{TopicARN: *topic, Single: *single}
	cl := notify.Clients{SNS: sent}
	if !*noDedup {
		c.DedupTable, cl.DynamoDB = *table, dynamodb.NewFromConfig(cfg)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := pipeline.NewLogger(sio.err, level)
	// No dead-letter bucket: a finding that fails again keeps the letters
	// it has, instead of gaining one.
	pub, err := c.Publisher(cl, log, nil)
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake replay-findings: %v\n", err)
		return 1
	}
	res, err := notify.Replay(ctx, store, pub, log)
	fmt.Fprintf(sio.out, "%d dead letters of %d findings: %d published, %d not news (notified already), %d failed (letters kept)\n",
		res.Letters, res.Findings, sent.n.Load(), int64(res.Settled)-sent.n.Load(), res.Failed)
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake replay-findings: %v\n", err)
		return 1
	}
	return 0
}

// countingSNS counts the findings SNS accepted.
type countingSNS struct {
	notify.API
	n atomic.Int64
}

func (c *countingSNS) Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error) {
	out, err := c.API.Publish(ctx, in, opts...)
	if err == nil {
		c.n.Add(1)
	}
	return out, err
}

func (c *countingSNS) PublishBatch(ctx context.Context, in *sns.PublishBatchInput, opts ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	out, err := c.API.PublishBatch(ctx, in, opts...)
	if err == nil {
		c.n.Add(int64(len(out.Successful)))
	}
	return out, err
}
