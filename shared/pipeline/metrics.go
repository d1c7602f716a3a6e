package pipeline

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Metrics writes CloudWatch Embedded Metric Format lines: one JSON object
// per line that CloudWatch Logs turns into metrics, with no API call. In a
// Lambda, W is stdout.
//
// Per source processed: Records, Bytes (read from the source), ParquetBytes,
// RejectedLines, NoDataRecords, SkipDataRecords, Duration (ms) and
// DeliveryLag (s: now − the newest record end; absent without records).
// Per object skipped: ObjectsSkipped. The dimension is Function.
type Metrics struct {
	W         io.Writer
	Namespace string // default "flowlake"
	Function  string // the Function dimension, such as "ingest-s3"

	mu sync.Mutex
}

// Metric names.
const (
	MetricRecords         = "Records"
	MetricBytes           = "Bytes"
	MetricParquetBytes    = "ParquetBytes"
	MetricRejectedLines   = "RejectedLines"
	MetricNoDataRecords   = "NoDataRecords"
	MetricSkipDataRecords = "SkipDataRecords"
	MetricObjectsSkipped  = "ObjectsSkipped"
	MetricDuration        = "Duration"
	MetricDeliveryLag     = "DeliveryLag"
)

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type value struct {
	name, unit string
	v          float64
}

// Ingested emits the metrics of one processed source.
func (m *Metrics) Ingested(ctx context.Context, res Result, now time.Time) {
	vs := []value{
		{MetricRecords, "Count", float64(res.Records)},
		{MetricBytes, "Bytes", float64(res.InputBytes)},
		{MetricParquetBytes, "Bytes", float64(res.Bytes)},
		{MetricRejectedLines, "Count", float64(res.Rejected)},
		{MetricNoDataRecords, "Count", float64(res.NoData)},
		{MetricSkipDataRecords, "Count", float64(res.SkipData)},
		{MetricDuration, "Milliseconds", float64(res.Elapsed.Milliseconds())},
	}
	if res.NewestEnd > 0 {
		vs = append(vs, value{MetricDeliveryLag, "Seconds", float64(now.Unix() - res.NewestEnd)})
	}
	m.emit(ctx, now, vs, "source", res.Source)
}

// Skipped emits ObjectsSkipped = 1.
func (m *Metrics) Skipped(ctx context.Context, now time.Time) {
	m.emit(ctx, now, []value{{MetricObjectsSkipped, "Count", 1}})
}

func (m *Metrics) emit(ctx context.Context, now time.Time, vs []value, props ...string) {
	if m == nil || m.W == nil {
		return
	}
	ns := m.Namespace
	if ns == "" {
		ns = "flowlake"
	}
	d := emfDirective{Namespace: ns, Dimensions: [][]string{{"Function"}}}
	doc := map[string]any{"Function": m.Function}
	for _, v := range vs {
		d.Metrics = append(d.Metrics, emfMetric{v.name, v.unit})
		doc[v.name] = v.v
	}
	doc["_aws"] = emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfDirective{d}}
	for i := 0; i+1 < len(props); i += 2 {
		doc[props[i]] = props[i+1]
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		doc["requestId"] = lc.AwsRequestID
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return
	}
	b = append(b, '\n')
	m.mu.Lock()
	defer m.mu.Unlock()
	m.W.Write(b)
}
