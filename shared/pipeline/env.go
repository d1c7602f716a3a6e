package pipeline

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/emf"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/notify"
)

// Environment variables of the ingest functions, set by the CDK app.
const (
	EnvLakeBucket       = "FLOWLAKE_LAKE_BUCKET"        // required: the lake's bucket
	EnvLakePrefix       = "FLOWLAKE_LAKE_PREFIX"        // Parquet key prefix, default "flows"
	EnvRejectsPrefix    = "FLOWLAKE_REJECTS_PREFIX"     // rejected-line samples, default "rejects"
	EnvRawPrefix        = "FLOWLAKE_RAW_PREFIX"         // ingest-s3: only keys under it are read; default any
	EnvFormat           = "FLOWLAKE_FLOW_LOG_FORMAT"    // ingest-cwlogs: the flow log's ${...} format; default the v2 default
	EnvIPRanges         = "FLOWLAKE_IP_RANGES"          // s3://bucket/key or https URL of ip-ranges.json; default none (those columns NULL)
	EnvGeoIP            = "FLOWLAKE_GEOIP"              // MaxMind-format country database (.mmdb), absolute or relative to the function's folder; default none (src/dst_country NULL)
	EnvASN              = "FLOWLAKE_ASN"                // MaxMind-format ASN database (.mmdb), likewise; default none (src/dst_asn and _as_org NULL)
	EnvMaxObjectBytes   = "FLOWLAKE_MAX_OBJECT_BYTES"   // default 134217728 (128 MiB)
	EnvMaxInflatedBytes = "FLOWLAKE_MAX_INFLATED_BYTES" // default 3221225472 (3 GiB)
	EnvMaxInflateRatio  = "FLOWLAKE_MAX_INFLATE_RATIO"  // default 100
	EnvMetricsNamespace = emf.EnvNamespace              // EMF namespace, default "flowlake"
	EnvLogLevel         = "FLOWLAKE_LOG_LEVEL"          // debug, info (default), warn, error
	EnvS3Endpoint       = notify.EnvS3Endpoint          // local testing only: an S3-compatible endpoint (path style)
	EnvENIMetadata      = "FLOWLAKE_ENI_METADATA"       // "true": eni_* columns from EC2 DescribeNetworkInterfaces (cached); default off
	EnvEC2Endpoint      = "FLOWLAKE_EC2_ENDPOINT"       // local testing only: an EC2 query-API endpoint

	// Findings: with notify's topic set (notify.EnvTopicARN, and the
	// dedup table and dead-letter bucket beside it), each source runs
	// through the batch detection engine and its findings are published.
	EnvDetectSettings = detect.EnvSettings // semicolon-separated rule.field=value, as functions/detect
	EnvDetectDisabled = detect.EnvDisabled // comma-separated rule IDs not to run
	EnvDetectInternal = detect.EnvInternal // comma-separated address blocks of ours besides the private ranges
	// EnvThreatLists is s3://bucket/prefix/ of the threat lists' sources
	// (lake.ThreatListSourcesPrefix of the lake bucket), read on the first
	// source (S3ThreatLists); default none (threat-list-match then fires
	// only in the lake engine).
	EnvThreatLists = "FLOWLAKE_THREAT_LISTS"
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
	// GeoIPPath and ASNPath are the GeoIP and ASN databases, absolute
	// (LoadEnv resolves a relative path against the function's folder:
	// LAMBDA_TASK_ROOT, else the executable's), or "".
	GeoIPPath  string
	ASNPath    string
	Limits     Limits
	Namespace  string
	LogLevel   slog.Level
	S3Endpoint string
	// ENIMetadata turns on the eni_* columns (EC2 DescribeNetworkInterfaces,
	// batched and cached); EC2Endpoint overrides EC2's endpoint in tests.
	ENIMetadata bool
	EC2Endpoint string
	// Notify and Detect configure detection and publishing at ingest:
	// with a topic, each source runs through the batch engine and its
	// findings are published.
	Notify notify.Config
	Detect detect.Config
	// ThreatListsBucket and ThreatListsPrefix are where the batch engine's
	// threat lists are (EnvThreatLists); "" for none.
	ThreatListsBucket, ThreatListsPrefix string
	// Region is the function's own region (AWS_REGION): the partition of
	// CloudWatch Logs records whose format has no region field.
	Region string
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
		Region:        getenv("AWS_REGION"),
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
	for _, v := range []struct {
		name string
		dst  *string
	}{{EnvGeoIP, &e.GeoIPPath}, {EnvASN, &e.ASNPath}} {
		if p := getenv(v.name); p != "" {
			path, err := functionFile(getenv, p)
			if err != nil {
				return e, fmt.Errorf("%s: %w", v.name, err)
			}
			*v.dst = path
		}
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
	if u := getenv(EnvThreatLists); u != "" {
		b, p, err := lake.ParseS3URL(u)
		if err != nil || b == "" {
			return e, fmt.Errorf("%s: want s3://bucket/prefix/: %q", EnvThreatLists, u)
		}
		e.ThreatListsBucket, e.ThreatListsPrefix = b, p+"/"
		if p == "" {
			e.ThreatListsPrefix = ""
		}
	}
	var err error
	if e.Notify, err = notify.ConfigFromEnv(getenv); err != nil {
		return e, err
	}
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

// functionFile returns the absolute path of a file the function ships: a
// relative path is in the function's folder, LAMBDA_TASK_ROOT where Lambda
// runs it (the bootstrap's folder, /var/task), else the executable's (a
// bootstrap run elsewhere, as under the Runtime Interface Emulator). It must
// exist, so that a function deployed without its file fails at start, not
// quietly later.
func functionFile(getenv func(string) string, p string) (string, error) {
	if filepath.IsAbs(p) {
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return p, nil
	}
	var roots []string
	if root := getenv("LAMBDA_TASK_ROOT"); root != "" {
		roots = append(roots, root)
	}
	if exe, err := os.Executable(); err == nil {
		roots = append(roots, filepath.Dir(exe))
	}
	var first error
	for _, root := range roots {
		path := filepath.Join(root, p)
		_, err := os.Stat(path)
		if err == nil {
			return path, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = fmt.Errorf("%s: no function folder to look in", p)
	}
	return "", first
}

// S3Options applies the S3 endpoint override for local testing to an S3
// client's options: s3.NewFromConfig(cfg, env.S3Options).
func (e Env) S3Options(o *s3.Options) {
	if e.S3Endpoint != "" {
		o.BaseEndpoint = aws.String(e.S3Endpoint)
		o.UsePathStyle = true
	}
}

// EC2Options applies the retries the enricher wants and the EC2 endpoint
// override for local testing: ec2.NewFromConfig(cfg, env.EC2Options).
func (e Env) EC2Options(o *ec2.Options) {
	enrich.WithThrottleRetries(o)
	if e.EC2Endpoint != "" {
		o.BaseEndpoint = aws.String(e.EC2Endpoint)
	}
}

// Clients are the SDK clients of an ingest function, built once in its
// main.go from one AWS configuration. EC2 may be nil when ENIMetadata is
// off; SNS and DynamoDB when no topic is configured.
type Clients struct {
	S3       *s3.Client
	EC2      enrich.DescribeNetworkInterfacesAPI
	SNS      notify.API
	DynamoDB dedup.API
}

// Pipeline returns the pipeline of a function named function: the lake in
// LakeBucket through the S3 client, JSON logs to logs, EMF metrics to
// metrics, an Enricher built on first use (from ip-ranges, the GeoIP and ASN
// databases when configured, and ENI metadata from EC2 when ENIMetadata is
// on), and, when a findings
// topic is configured, the batch detection engine (with the threat lists of
// EnvThreatLists, read on the first source) and the publisher
// (notify.Config.Publisher). It makes no network call.
func (e Env) Pipeline(cl Clients, function string, logs, metrics io.Writer) (*Pipeline, error) {
	if cl.S3 == nil {
		return nil, fmt.Errorf("%s: no S3 client", function)
	}
	log := NewLogger(logs, e.LogLevel)
	cfg := enrich.Config{Logger: log}
	groups := []string{enrich.GroupRecord}
	switch {
	case strings.HasPrefix(e.IPRangesURL, "https://"):
		cfg.IPRanges = enrich.HTTPSource{URL: e.IPRangesURL}
		groups = append(groups, enrich.GroupIPRanges)
	case e.IPRangesURL != "":
		b, k, _ := lake.ParseS3URL(e.IPRangesURL)
		cfg.IPRanges = enrich.S3Source{Client: cl.S3, Bucket: b, Key: k}
		groups = append(groups, enrich.GroupIPRanges)
	}
	if e.GeoIPPath != "" {
		cfg.GeoIPPath = e.GeoIPPath
		groups = append(groups, enrich.GroupGeoIP)
	}
	if e.ASNPath != "" {
		cfg.ASNPath = e.ASNPath
		groups = append(groups, enrich.GroupASN)
	}
	if e.ENIMetadata {
		if cl.EC2 == nil {
			return nil, fmt.Errorf("%s: %s is on but there is no EC2 client", function, EnvENIMetadata)
		}
		cfg.EC2 = cl.EC2
		groups = append(groups, enrich.GroupENI)
	}
	p := &Pipeline{
		Store:         &lake.S3Store{Client: cl.S3, Bucket: e.LakeBucket},
		Prefix:        e.LakePrefix,
		RejectsPrefix: e.RejectsPrefix,
		Enricher:      &LazyEnricher{Config: cfg, Log: log},
		EnrichGroups:  groups,
		Limits:        e.Limits,
		Log:           log,
		Metrics:       &Metrics{W: metrics, Namespace: e.Namespace, Function: function},
	}
	pub, err := e.Notify.Publisher(notify.Clients{SNS: cl.SNS, DynamoDB: cl.DynamoDB, S3: cl.S3}, log,
		&notify.Metrics{W: &emf.Writer{W: metrics, Namespace: e.Namespace}, Function: function})
	if err != nil {
		return nil, fmt.Errorf("%s: findings: %w", function, err)
	}
	if pub != nil {
		set, err := detect.Compile(e.Detect)
		if err != nil {
			return nil, fmt.Errorf("%s: detection: %w", function, err)
		}
		p.NewDetector = BatchDetectors(set)
		if e.ThreatListsBucket != "" {
			lists := S3ThreatLists{Client: cl.S3, Bucket: e.ThreatListsBucket, Prefix: e.ThreatListsPrefix, Log: log}
			if p.NewDetector, err = LazyBatchDetectors(e.Detect, lists.Load, log); err != nil {
				return nil, fmt.Errorf("%s: detection: %w", function, err)
			}
		}
		p.Publisher = Publish(pub)
	}
	return p, nil
}

// CloudWatchGCPercent is ingest-cwlogs' GOGC. A 1 MiB subscription batch
// leaves about 20 MB live; at Go's default of 100 the collector ran about
// every 30 MB allocated, a fifth of the handler's CPU. At 400 the heap
// peaks near 100 MB, a tenth of the function's 1024 MB, still under the
// soft limit SetMemoryLimit sets (flowlake bench's cwlogs row: 0.072 to
// 0.052-0.054 CPU-s a batch, 2026-12-02). ingest-s3 keeps the default: its
// peak RSS on a 75 MB object is bounded (integration's PeakRSS test).
const CloudWatchGCPercent = 400

// SetCloudWatchGC sets GOGC to CloudWatchGCPercent unless the GOGC
// variable is set, and returns what restores the previous setting.
func SetCloudWatchGC(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(CloudWatchGCPercent)
	return func() { debug.SetGCPercent(old) }
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
