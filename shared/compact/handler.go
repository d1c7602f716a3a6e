package compact

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/emf"
)

// Environment variables of the compact function, set by the CDK app.
const (
	EnvLakeBucket  = "FLOWLAKE_LAKE_BUCKET" // required: the lake's bucket (as ingest's)
	EnvLakePrefix  = "FLOWLAKE_LAKE_PREFIX" // the data prefix, default "flows" (as ingest's)
	EnvMinAge      = "COMPACT_MIN_AGE"      // hours younger than this are open (default 3h)
	EnvLookback    = "COMPACT_LOOKBACK"     // how far back each run looks (default 360h, 15 days)
	EnvTargetBytes = "COMPACT_TARGET_BYTES" // the largest object written (default 134217728)
	EnvSortBytes   = "COMPACT_SORT_BYTES"   // memory that sorts new rows (default 268435456)
	EnvTempDir     = "COMPACT_TEMP_DIR"     // downloads and sorted runs (default os.TempDir(): /tmp)
	EnvS3Endpoint  = "FLOWLAKE_S3_ENDPOINT" // local testing only: an S3-compatible endpoint (path style)
	EnvLogLevel    = "FLOWLAKE_LOG_LEVEL"   // debug, info (default), warn, error
	EnvNamespace   = emf.EnvNamespace       // EMF namespace, default "flowlake"
	EnvInternal    = "DETECT_INTERNAL"      // comma-separated address blocks of ours besides the private ranges, as detection's (the rollups)
	defaultPrefix  = "flows"                // the lake's data prefix
	defaultLookbck = 15 * 24 * time.Hour    // COMPACT_LOOKBACK's default
)

// Metric names of a run (CloudWatch EMF, package emf), with the Function
// dimension (emf.DimFunction).
const (
	MetricCompacted      = "CompactedHours"        // partition-hours rewritten into a new generation
	MetricObjectsRead    = "CompactObjectsRead"    // objects they held
	MetricObjectsWritten = "CompactObjectsWritten" // objects written
	MetricRecords        = "CompactRecords"        // rows written
	MetricBytesRead      = "CompactBytesRead"
	MetricBytesWritten   = "CompactBytesWritten"
	MetricRedelivered    = "CompactRedelivered"  // ingest objects written again after compaction, replaced
	MetricFailed         = "CompactFailedHours"  // partition-hours left as they were
	MetricPending        = "CompactPendingHours" // not reached before the deadline
	MetricDuration       = "CompactDuration"     // ms
)

// Config is the compact function's configuration, from its environment.
type Config struct {
	Bucket, Prefix   string
	MinAge, Lookback time.Duration
	TargetBytes      int64
	SortBytes        int64
	TempDir          string
	S3Endpoint       string
	LogLevel         slog.Level
	Namespace        string
	InternalPrefixes []netip.Prefix
}

// ConfigFromEnv reads the configuration with getenv (os.Getenv). It makes
// no network call.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Bucket: getenv(EnvLakeBucket), Prefix: strings.Trim(getenv(EnvLakePrefix), "/"),
		MinAge: DefaultMinAge, Lookback: defaultLookbck, TargetBytes: DefaultTargetBytes, SortBytes: DefaultSortBytes,
		TempDir: getenv(EnvTempDir), S3Endpoint: getenv(EnvS3Endpoint), Namespace: getenv(EnvNamespace),
	}
	if c.Bucket == "" {
		return c, fmt.Errorf("%s is required", EnvLakeBucket)
	}
	if c.Prefix == "" {
		c.Prefix = defaultPrefix
	}
	for name, d := range map[string]*time.Duration{EnvMinAge: &c.MinAge, EnvLookback: &c.Lookback} {
		if v := getenv(name); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x <= 0 {
				return c, fmt.Errorf("%s=%q: want a positive duration", name, v)
			}
			*d = x
		}
	}
	if c.MinAge < time.Hour {
		return c, fmt.Errorf("%s=%s: want at least 1h (an hour is open until it ends)", EnvMinAge, c.MinAge)
	}
	for name, n := range map[string]*int64{EnvTargetBytes: &c.TargetBytes, EnvSortBytes: &c.SortBytes} {
		if v := getenv(name); v != "" {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil || x < 1<<20 {
				return c, fmt.Errorf("%s=%q: want a number of bytes, at least 1048576", name, v)
			}
			*n = x
		}
	}
	for _, v := range strings.Split(getenv(EnvInternal), ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return c, fmt.Errorf("%s: %w", EnvInternal, err)
		}
		c.InternalPrefixes = append(c.InternalPrefixes, p.Masked())
	}
	if v := getenv(EnvLogLevel); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return c, fmt.Errorf("%s: %w", EnvLogLevel, err)
		}
	}
	return c, nil
}

// S3Options points the S3 client at S3Endpoint, path style, when set
// (local testing).
func (c Config) S3Options(o *s3.Options) {
	if c.S3Endpoint != "" {
		o.BaseEndpoint = aws.String(c.S3Endpoint)
		o.UsePathStyle = true
	}
}

// Handler returns the handler of the configuration over the lake bucket
// through client, logging to log and writing its metrics to metrics under
// the Function dimension function.
func (c Config) Handler(client S3API, log *slog.Logger, metrics *emf.Writer, function string) *Handler {
	return &Handler{
		Compactor: &Compactor{
			Bucket: &S3{Client: client, Bucket: c.Bucket, TempDir: c.TempDir}, Prefix: c.Prefix,
			TargetBytes: c.TargetBytes, SortBytes: c.SortBytes, TempDir: c.TempDir, Log: log,
			InternalPrefixes: c.InternalPrefixes,
		},
		MinAge: c.MinAge, Lookback: c.Lookback, Log: log, Metrics: metrics, Function: function,
	}
}

// Handler runs the compactor on each scheduled event, over the hours that
// ended MinAge to MinAge+Lookback before the event's time.
type Handler struct {
	Compactor        *Compactor
	MinAge, Lookback time.Duration
	Log              *slog.Logger // nil: slog.Default()
	Now              func() time.Time
	// Metrics receives one EMF line per run (the Metric* names), with
	// Function as its dimension; nil: none.
	Metrics  *emf.Writer
	Function string
}

// HandlerResult is what one run did; the function returns it.
type HandlerResult struct {
	Since  time.Time `json:"since"`
	Before time.Time `json:"before"`
	Result
}

// Handle compacts the closed hours of the event's time (a retry carries
// its first time, so it never reaches younger hours). An error fails the
// invocation, so that EventBridge retries it and the errors alarm fires:
// a partition-hour that could not be compacted (the others were), or a
// listing that failed.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) (HandlerResult, error) {
	now := ev.Time
	if now.IsZero() {
		now = time.Now()
		if h.Now != nil {
			now = h.Now()
		}
	}
	w := Closed(now, h.MinAge, h.Lookback)
	res, err := h.Compactor.Run(ctx, w)
	out := HandlerResult{Since: w.Since, Before: w.Before, Result: res}
	h.Metrics.Put(ctx, time.Now(), [][]string{{emf.DimFunction}}, map[string]string{emf.DimFunction: h.Function},
		emf.Metric{Name: MetricCompacted, Unit: emf.Count, Value: float64(res.Compacted)},
		emf.Metric{Name: MetricObjectsRead, Unit: emf.Count, Value: float64(res.ObjectsRead)},
		emf.Metric{Name: MetricObjectsWritten, Unit: emf.Count, Value: float64(res.ObjectsWritten)},
		emf.Metric{Name: MetricRecords, Unit: emf.Count, Value: float64(res.Records)},
		emf.Metric{Name: MetricBytesRead, Unit: emf.Bytes, Value: float64(res.BytesRead)},
		emf.Metric{Name: MetricBytesWritten, Unit: emf.Bytes, Value: float64(res.BytesWritten)},
		emf.Metric{Name: MetricRedelivered, Unit: emf.Count, Value: float64(res.Redelivered)},
		emf.Metric{Name: MetricFailed, Unit: emf.Count, Value: float64(len(res.Failed))},
		emf.Metric{Name: MetricPending, Unit: emf.Count, Value: float64(res.Pending)},
		emf.Metric{Name: MetricDuration, Unit: emf.Milliseconds, Value: float64(res.Elapsed.Milliseconds())})
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	if err != nil {
		return out, fmt.Errorf("compact %s to %s: %w", w.Since.Format(time.RFC3339), w.Before.Format(time.RFC3339), err)
	}
	log.InfoContext(ctx, "compact done", "since", w.Since, "before", w.Before, "hours", res.Partitions,
		"compacted", res.Compacted, "objects_read", res.ObjectsRead, "objects_written", res.ObjectsWritten,
		"records", res.Records, "redelivered", res.Redelivered, "pending", res.Pending, "duration_ms", res.Elapsed.Milliseconds())
	return out, nil
}

// SetMemoryLimit sets the Go soft memory limit to 85% of the Lambda's
// memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MB), unless GOMEMLIMIT is
// set, as the ingest functions do (pipeline.SetMemoryLimit), so the
// collector works harder before the function runs out.
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
