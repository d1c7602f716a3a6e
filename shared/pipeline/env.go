package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

// Environment variables of the ingest functions, set by the CDK app.
const (
	EnvLakeBucket       = "FLOWLAKE_LAKE_BUCKET"        // required: the lake's bucket
	EnvLakePrefix       = "FLOWLAKE_LAKE_PREFIX"        // Parquet key prefix, default "flows"
	EnvRejectsPrefix    = "FLOWLAKE_REJECTS_PREFIX"     // rejected-line samples, default "rejects"
	EnvRawPrefix        = "FLOWLAKE_RAW_PREFIX"         // ingest-s3: only keys under it are read; default any
	EnvFormat           = "FLOWLAKE_FLOW_LOG_FORMAT"    // ingest-cwlogs: the flow log's ${...} format; default the v2 default
	EnvIPRanges         = "FLOWLAKE_IP_RANGES"          // s3://bucket/key or https URL of ip-ranges.json; default none (those columns NULL)
	EnvMaxObjectBytes   = "FLOWLAKE_MAX_OBJECT_BYTES"   // default 134217728 (128 MiB)
	EnvMaxInflatedBytes = "FLOWLAKE_MAX_INFLATED_BYTES" // default 3221225472 (3 GiB)
	EnvMaxInflateRatio  = "FLOWLAKE_MAX_INFLATE_RATIO"  // default 100
	EnvMetricsNamespace = "FLOWLAKE_METRICS_NAMESPACE"  // EMF namespace, default "flowlake"
	EnvLogLevel         = "FLOWLAKE_LOG_LEVEL"          // debug, info (default), warn, error
	EnvS3Endpoint       = "FLOWLAKE_S3_ENDPOINT"        // local testing only: an S3-compatible endpoint (path style)
	EnvENIMetadata      = "FLOWLAKE_ENI_METADATA"       // "true": eni_* columns from EC2 DescribeNetworkInterfaces (cached); default off
	EnvEC2Endpoint      = "FLOWLAKE_EC2_ENDPOINT"       // local testing only: an EC2 query-API endpoint

	// Findings: with the topic set, each source runs through the batch
	// detection engine and its findings are published (see AddFindings).
	EnvFindingsTopicARN = "FLOWLAKE_FINDINGS_TOPIC_ARN" // the findings SNS topic; default none (no detection at ingest)
	EnvDedupTable       = "FLOWLAKE_DEDUP_TABLE"        // DynamoDB dedup table (notify.Notifier); default none (every finding is published)
	EnvSNSSingle        = "FLOWLAKE_SNS_SINGLE"         // local testing only: "true" publishes one finding per call (no PublishBatch)
	EnvDetectSettings   = detect.EnvSettings            // semicolon-separated rule.field=value, as functions/detect
	EnvDetectDisabled   = detect.EnvDisabled            // comma-separated rule IDs not to run
	EnvDetectInternal   = detect.EnvInternal            // comma-separated address blocks of ours besides the private ranges
)

// DefaultLakePrefix is the Parquet key prefix when FLOWLAKE_LAKE_PREFIX is
// unset.
const DefaultLakePrefix = "flows"

// Env is the configuration of an ingest function, from its environment.
type Env struct {
	LakeBucket    string
	LakePrefix    string
	RejectsPrefix string
	RawPrefix     string
	Format        *flowlog.Format // nil: unset
	IPRangesURL   string
	Limits        Limits
	Namespace     string
	LogLevel      slog.Level
	S3Endpoint    string
	// ENIMetadata turns on the eni_* columns (EC2 DescribeNetworkInterfaces,
	// batched and cached); EC2Endpoint overrides EC2's endpoint in tests.
	ENIMetadata bool
	EC2Endpoint string
	// FindingsTopicARN, DedupTable, SNSSingle and Detect configure
	// detection and publishing at ingest (AddFindings).
	FindingsTopicARN string
	DedupTable       string
	SNSSingle        bool
	Detect           detect.Config
}

// LoadEnv reads the configuration with getenv (os.Getenv). It makes no
// network call.
func LoadEnv(getenv func(string) string) (Env, error) {
	e := Env{
		LakeBucket:    getenv(EnvLakeBucket),
		LakePrefix:    strings.Trim(getenv(EnvLakePrefix), "/"),
		RejectsPrefix: strings.Trim(getenv(EnvRejectsPrefix), "/"),
		RawPrefix:     strings.Trim(getenv(EnvRawPrefix), "/"),
		IPRangesURL:   getenv(EnvIPRanges),
		Namespace:     getenv(EnvMetricsNamespace),
		S3Endpoint:    getenv(EnvS3Endpoint),
		EC2Endpoint:   getenv(EnvEC2Endpoint),

		FindingsTopicARN: strings.TrimSpace(getenv(EnvFindingsTopicARN)),
		DedupTable:       strings.TrimSpace(getenv(EnvDedupTable)),
	}
	if e.LakeBucket == "" {
		return e, fmt.Errorf("%s is required", EnvLakeBucket)
	}
	if v := getenv(EnvENIMetadata); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return e, fmt.Errorf("%s: %w", EnvENIMetadata, err)
		}
		e.ENIMetadata = b
	}
	if getenv(EnvLakePrefix) == "" {
		e.LakePrefix = DefaultLakePrefix
	}
	if e.RejectsPrefix == "" {
		e.RejectsPrefix = DefaultRejectsPrefix
	}
	if e.RejectsPrefix == e.LakePrefix {
		return e, fmt.Errorf("%s and %s must differ (%q)", EnvLakePrefix, EnvRejectsPrefix, e.LakePrefix)
	}
	if f := getenv(EnvFormat); f != "" {
		fm, err := flowlog.ParseFormat(f)
		if err != nil {
			return e, fmt.Errorf("%s: %w", EnvFormat, err)
		}
		e.Format = fm
	}
	if e.IPRangesURL != "" && !strings.HasPrefix(e.IPRangesURL, "https://") {
		if _, _, err := lake.ParseS3URL(e.IPRangesURL); err != nil {
			return e, fmt.Errorf("%s: want s3://bucket/key or an https URL: %w", EnvIPRanges, err)
		}
	}
	for _, v := range []struct {
		name string
		dst  *int64
	}{{EnvMaxObjectBytes, &e.Limits.MaxObjectBytes}, {EnvMaxInflatedBytes, &e.Limits.MaxInflatedBytes}, {EnvMaxInflateRatio, &e.Limits.MaxInflateRatio}} {
		if s := getenv(v.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				return e, fmt.Errorf("%s: %q is not a positive integer", v.name, s)
			}
			*v.dst = n
		}
	}
	if s := getenv(EnvSNSSingle); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return e, fmt.Errorf("%s: %w", EnvSNSSingle, err)
		}
		e.SNSSingle = b
	}
	if e.DedupTable != "" && e.FindingsTopicARN == "" {
		return e, fmt.Errorf("%s needs %s", EnvDedupTable, EnvFindingsTopicARN)
	}
	var err error
	if e.Detect, err = detect.ConfigFromEnv(getenv); err != nil {
		return e, err
	}
	if s := getenv(EnvLogLevel); s != "" {
		if err := e.LogLevel.UnmarshalText([]byte(s)); err != nil {
			return e, fmt.Errorf("%s: %w", EnvLogLevel, err)
		}
	}
	return e, nil
}

// S3Client returns the S3 client of the functions: the default AWS
// configuration (no network call until first use), with the endpoint
// override for local testing.
func (e Env) S3Client(ctx context.Context) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if e.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(e.S3Endpoint)
			o.UsePathStyle = true
		}
	}), nil
}

// Pipeline returns the pipeline of a function named function: the lake in
// LakeBucket through client, JSON logs to logs, EMF metrics to metrics, and
// an Enricher built on first use (from ip-ranges when configured).
func (e Env) Pipeline(client *s3.Client, function string, logs, metrics io.Writer) *Pipeline {
	log := NewLogger(logs, e.LogLevel)
	cfg := enrich.Config{Logger: log}
	groups := []string{enrich.GroupRecord}
	switch {
	case strings.HasPrefix(e.IPRangesURL, "https://"):
		cfg.IPRanges = enrich.HTTPSource{URL: e.IPRangesURL}
		groups = append(groups, enrich.GroupIPRanges)
	case e.IPRangesURL != "":
		b, k, _ := lake.ParseS3URL(e.IPRangesURL)
		cfg.IPRanges = enrich.S3Source{Client: client, Bucket: b, Key: k}
		groups = append(groups, enrich.GroupIPRanges)
	}
	if e.ENIMetadata {
		// LoadDefaultConfig makes no network call; the client is used on
		// the first batch.
		if awsCfg, err := config.LoadDefaultConfig(context.Background()); err == nil {
			cfg.EC2 = ec2.NewFromConfig(awsCfg, enrich.WithThrottleRetries, func(o *ec2.Options) {
				if e.EC2Endpoint != "" {
					o.BaseEndpoint = aws.String(e.EC2Endpoint)
				}
			})
			groups = append(groups, enrich.GroupENI)
		} else {
			log.Warn("no ENI metadata: aws config", "error", err)
		}
	}
	return &Pipeline{
		Store:         &lake.S3Store{Client: client, Bucket: e.LakeBucket},
		Prefix:        e.LakePrefix,
		RejectsPrefix: e.RejectsPrefix,
		Enricher:      &LazyEnricher{Config: cfg, Log: log},
		EnrichGroups:  groups,
		Limits:        e.Limits,
		Log:           log,
		Metrics:       &Metrics{W: metrics, Namespace: e.Namespace, Function: function},
	}
}

// SetMemoryLimit sets the Go soft memory limit to 85% of the Lambda's
// memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MB), unless GOMEMLIMIT is
// set, so the collector works harder before the function runs out.
func SetMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	mb, err := strconv.ParseInt(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 10, 64)
	if err != nil || mb <= 0 {
		return
	}
	debug.SetMemoryLimit(mb << 20 * 85 / 100)
}

// Wire is the start-up both ingest functions share: the memory limit, the
// configuration from getenv, the S3 client, and the pipeline with the
// detection and publishing the environment asks for, logging to stderr and
// writing metrics to stdout. It makes no network call.
func Wire(ctx context.Context, function string, getenv func(string) string) (Env, *s3.Client, *Pipeline, error) {
	SetMemoryLimit(getenv)
	env, err := LoadEnv(getenv)
	if err != nil {
		return env, nil, nil, fmt.Errorf("config: %w", err)
	}
	client, err := env.S3Client(ctx)
	if err != nil {
		return env, nil, nil, err
	}
	p := env.Pipeline(client, function, os.Stderr, os.Stdout)
	if err := env.AddFindings(ctx, p); err != nil {
		return env, nil, nil, fmt.Errorf("findings: %w", err)
	}
	return env, client, p, nil
}
