package notify

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/dedup"
)

// Environment variables of publishing, the same for every function that
// publishes findings (both ingest functions and the scheduled detector).
// The CDK app sets them from these constants.
const (
	EnvTopicARN         = "FLOWLAKE_FINDINGS_TOPIC_ARN" // the findings SNS topic; default none (nothing is published)
	EnvDedupTable       = "FLOWLAKE_DEDUP_TABLE"        // DynamoDB dedup table; default none (every finding is published)
	EnvDeadLetterBucket = "FLOWLAKE_DEAD_LETTER_BUCKET" // bucket of undelivered findings; default none (reported in the error only)
	EnvDeadLetterPrefix = "FLOWLAKE_DEAD_LETTER_PREFIX" // their key prefix, default DefaultDeadLetterPrefix
	EnvSNSSingle        = "FLOWLAKE_SNS_SINGLE"         // local testing only: "true" publishes one finding per call (no PublishBatch)
	EnvS3Endpoint       = "FLOWLAKE_S3_ENDPOINT"        // local testing only: an S3-compatible endpoint (path style), for the dead letters and the lake
)

// DefaultDeadLetterPrefix is the key prefix of undelivered findings when
// FLOWLAKE_DEAD_LETTER_PREFIX is unset.
const DefaultDeadLetterPrefix = "dead-letter/notify"

// Config is how a function publishes findings, from its environment.
type Config struct {
	TopicARN         string
	DedupTable       string
	DeadLetterBucket string
	DeadLetterPrefix string
	Single           bool
	S3Endpoint       string // local testing only
}

// S3Options applies the S3 endpoint override for local testing to an S3
// client's options: s3.NewFromConfig(cfg, c.S3Options).
func (c Config) S3Options(o *s3.Options) {
	if c.S3Endpoint != "" {
		o.BaseEndpoint = aws.String(c.S3Endpoint)
		o.UsePathStyle = true
	}
}

// ConfigFromEnv reads the publishing settings with getenv (os.Getenv).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		TopicARN:         strings.TrimSpace(getenv(EnvTopicARN)),
		DedupTable:       strings.TrimSpace(getenv(EnvDedupTable)),
		DeadLetterBucket: strings.TrimSpace(getenv(EnvDeadLetterBucket)),
		DeadLetterPrefix: strings.Trim(getenv(EnvDeadLetterPrefix), "/ "),
		S3Endpoint:       getenv(EnvS3Endpoint),
	}
	if c.DeadLetterPrefix == "" {
		c.DeadLetterPrefix = DefaultDeadLetterPrefix
	}
	if s := getenv(EnvSNSSingle); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return c, fmt.Errorf("%s: %w", EnvSNSSingle, err)
		}
		c.Single = b
	}
	if c.TopicARN == "" && (c.DedupTable != "" || c.DeadLetterBucket != "") {
		return c, fmt.Errorf("%s and %s need %s", EnvDedupTable, EnvDeadLetterBucket, EnvTopicARN)
	}
	return c, nil
}

// Enabled reports whether a topic is configured.
func (c Config) Enabled() bool { return c.TopicARN != "" }

// Clients are the SDK clients a Publisher needs; main.go builds them once
// from one AWS configuration. S3 and DynamoDB may be nil when the
// configuration names no dead-letter bucket or dedup table.
type Clients struct {
	SNS      API
	DynamoDB dedup.API
	S3       PutObjectAPI
}

// Publisher returns the publisher the configuration describes: SNS to the
// topic, with undelivered findings kept in the dead-letter bucket, behind
// a Notifier with the dedup table when one is named, logging to log (nil:
// slog.Default()) and counting to m (nil: no metrics). It returns nil
// when no topic is configured.
func (c Config) Publisher(cl Clients, log *slog.Logger, m *Metrics) (Publisher, error) {
	if !c.Enabled() {
		return nil, nil
	}
	if cl.SNS == nil {
		return nil, fmt.Errorf("publish to %s: no SNS client", c.TopicARN)
	}
	s := &SNS{Client: cl.SNS, TopicARN: c.TopicARN, Single: c.Single, Log: log, Metrics: m}
	if c.DeadLetterBucket != "" {
		if cl.S3 == nil {
			return nil, fmt.Errorf("dead letters in %s: no S3 client", c.DeadLetterBucket)
		}
		s.DeadLetter = &S3DeadLetter{Client: cl.S3, Bucket: c.DeadLetterBucket, Prefix: c.DeadLetterPrefix}
	}
	if c.DedupTable == "" {
		return s, nil
	}
	if cl.DynamoDB == nil {
		return nil, fmt.Errorf("dedup table %s: no DynamoDB client", c.DedupTable)
	}
	return &Notifier{Dedup: &dedup.Store{Client: cl.DynamoDB, Table: c.DedupTable}, Publisher: s, Log: log, Metrics: m}, nil
}
