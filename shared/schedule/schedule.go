package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/detect/athena"
	"github.com/flowlake/flowlake/shared/emf"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
)

// Environment variables of the scheduled detector, set by the CDK app,
// besides detect's DETECT_* settings and notify's publishing settings.
const (
	EnvWorkgroup = "ATHENA_WORKGROUP" // required
	EnvDatabase  = "ATHENA_DATABASE"  // required
	EnvOutput    = "ATHENA_OUTPUT"    // s3://… for results, when the workgroup does not enforce its own
	EnvLookback  = "DETECT_LOOKBACK"  // how many hours each run covers (default 1h)
	EnvLag       = "DETECT_LAG"       // how far behind the schedule the last window ends (default 15m)
	EnvSamples   = "DETECT_SAMPLES"   // true (default): one more small query per finding for its sample flows
)

// Publisher publishes findings. *notify.Notifier implements it.
type Publisher interface {
	Publish(ctx context.Context, fs []finding.Finding) error
}

// Handler runs the lake engine on each scheduled event and publishes what
// it finds.
type Handler struct {
	Querier   detect.Querier
	Set       *detect.Set
	Lookback  time.Duration
	Lag       time.Duration
	Samples   bool
	Publisher Publisher    // nil: the findings are only logged and returned
	Log       *slog.Logger // nil: slog.Default()
	Now       func() time.Time
	// Metrics receives one EMF line per run (MetricFindings,
	// MetricAthenaBytesScanned), with Function as its dimension; nil: none.
	Metrics  *emf.Writer
	Function string
}

// Metric names of a run (CloudWatch EMF, package emf), with the Function
// dimension (emf.DimFunction).
const (
	MetricFindings           = "DetectFindings"     // findings the run raised, news or not
	MetricAthenaBytesScanned = "AthenaBytesScanned" // bytes Athena scanned for the run's queries
	MetricRunDuration        = "DetectDuration"     // ms
)

// Result is what one run did; the function returns it.
type Result struct {
	Since     time.Time         `json:"since"`
	Until     time.Time         `json:"until"`
	Findings  []finding.Finding `json:"findings"`
	Published bool              `json:"published"` // the findings went to the Publisher
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// Handle evaluates the rules over [until-Lookback, until), until being the
// event's time less Lag, truncated to the hour, then publishes the
// findings. An error fails the invocation: a failed query, or findings
// that could not all be published.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) (Result, error) {
	now := ev.Time
	if now.IsZero() {
		now = time.Now()
		if h.Now != nil {
			now = h.Now()
		}
	}
	until := now.Add(-h.Lag).UTC().Truncate(time.Hour)
	since := until.Add(-h.Lookback)
	res := Result{Since: since, Until: until}
	l := detect.Lake{Set: h.Set, Querier: h.Querier, Dialect: detect.Athena, Samples: h.Samples}
	t0 := time.Now()
	scanned := scannedOf(h.Querier)
	fs, err := l.Run(ctx, since, until)
	defer func() {
		h.Metrics.Put(ctx, time.Now(), [][]string{{emf.DimFunction}}, map[string]string{emf.DimFunction: h.Function},
			emf.Metric{Name: MetricFindings, Unit: emf.Count, Value: float64(len(fs))},
			emf.Metric{Name: MetricAthenaBytesScanned, Unit: emf.Bytes, Value: float64(scannedOf(h.Querier) - scanned)},
			emf.Metric{Name: MetricRunDuration, Unit: emf.Milliseconds, Value: float64(time.Since(t0).Milliseconds())})
	}()
	if err != nil {
		return res, fmt.Errorf("detect %s to %s: %w", since.Format(time.RFC3339), until.Format(time.RFC3339), err)
	}
	// A retry of the same run (the same window) is counted once by dedup.
	for i := range fs {
		fs[i].Source = "detect:" + since.UTC().Format(time.RFC3339) + "/" + until.UTC().Format(time.RFC3339)
	}
	res.Findings = fs
	log := h.log()
	for _, f := range fs {
		log.InfoContext(ctx, "finding", "id", f.ID, "rule", f.Rule, "severity", f.Severity, "account", f.AccountID,
			"entity", f.Entity, "window", f.WindowStart, "count", f.Count)
	}
	if len(fs) > 0 && h.Publisher != nil {
		if err := h.Publisher.Publish(ctx, fs); err != nil {
			// Fail, dead-lettered or not: the schedule's retry publishes
			// what is still news, and dedup skips what is not.
			log.ErrorContext(ctx, "publish failed", "findings", len(fs), "error", err,
				"dead_lettered", errors.Is(err, notify.ErrDeadLettered))
			return res, fmt.Errorf("publish %d findings of %s to %s: %w", len(fs), since.Format(time.RFC3339), until.Format(time.RFC3339), err)
		}
		res.Published = true
	}
	log.InfoContext(ctx, "detect done", "since", since, "until", until, "findings", len(fs), "published", res.Published)
	return res, nil
}

// scannedOf returns the bytes q reports scanned so far (0 when it does not
// say).
func scannedOf(q detect.Querier) int64 {
	if s, ok := q.(interface{ Scanned() int64 }); ok {
		return s.Scanned()
	}
	return 0
}

// Config is the scheduled detector's configuration, from its environment.
type Config struct {
	Workgroup, Database, OutputLocation string
	Lookback, Lag                       time.Duration
	Samples                             bool
	Detect                              detect.Config
	Notify                              notify.Config
}

// ConfigFromEnv reads the configuration with getenv (os.Getenv). It makes
// no network call.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Workgroup: getenv(EnvWorkgroup), Database: getenv(EnvDatabase), OutputLocation: getenv(EnvOutput),
		Lookback: time.Hour, Lag: 15 * time.Minute, Samples: true,
	}
	if c.Workgroup == "" || c.Database == "" {
		return c, fmt.Errorf("%s and %s are required", EnvWorkgroup, EnvDatabase)
	}
	for name, d := range map[string]*time.Duration{EnvLookback: &c.Lookback, EnvLag: &c.Lag} {
		if v := getenv(name); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x < 0 {
				return c, fmt.Errorf("%s=%q: want a duration", name, v)
			}
			*d = x
		}
	}
	if c.Lookback <= 0 {
		return c, fmt.Errorf("%s=%s: want a positive duration", EnvLookback, c.Lookback)
	}
	if v := getenv(EnvSamples); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("%s: %w", EnvSamples, err)
		}
		c.Samples = b
	}
	var err error
	if c.Detect, err = detect.ConfigFromEnv(getenv); err != nil {
		return c, err
	}
	if c.Notify, err = notify.ConfigFromEnv(getenv); err != nil {
		return c, err
	}
	return c, nil
}

// Handler returns the handler of the configuration, querying Athena
// through client and publishing with pub (nil: not at all), with its
// metrics written to metrics (nil: none) under the Function dimension
// function.
func (c Config) Handler(client athena.API, pub Publisher, log *slog.Logger, metrics *emf.Writer, function string) (*Handler, error) {
	set, err := detect.Compile(c.Detect)
	if err != nil {
		return nil, err
	}
	return &Handler{
		Querier:  &athena.Querier{Client: client, Workgroup: c.Workgroup, Database: c.Database, OutputLocation: c.OutputLocation},
		Set:      set,
		Lookback: c.Lookback, Lag: c.Lag, Samples: c.Samples,
		Publisher: pub, Log: log, Metrics: metrics, Function: function,
	}, nil
}
