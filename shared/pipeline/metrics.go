package pipeline

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/flowlake/flowlake/shared/emf"
)

// Metrics writes CloudWatch Embedded Metric Format lines (package emf):
// one JSON object per line that CloudWatch Logs turns into metrics, with
// no API call. In a Lambda, W is stdout.
//
// Per source processed: Records, Bytes (read from the source), ParquetBytes,
// ObjectsWritten, RejectedLines, NoDataRecords, SkipDataRecords,
// UnknownColumns (header columns the reader did not know, kept),
// DamagedObjects (1 when the source's compressed stream was damaged and
// only the records before the damage were kept, else 0), Duration (ms)
// and DeliveryLag (s: now − the newest record end; absent without
// records). Per object skipped: ObjectsSkipped. The dimension is Function
// (emf.DimFunction).
type Metrics struct {
	W         io.Writer
	Namespace string // default emf.DefaultNamespace
	Function  string // the Function dimension, such as "ingest-s3"

	once sync.Once
	w    *emf.Writer
}

// Metric names.
const (
	MetricRecords         = "Records"
	MetricBytes           = "Bytes"
	MetricParquetBytes    = "ParquetBytes"
	MetricObjectsWritten  = "ObjectsWritten"
	MetricRejectedLines   = "RejectedLines"
	MetricNoDataRecords   = "NoDataRecords"
	MetricSkipDataRecords = "SkipDataRecords"
	MetricUnknownColumns  = "UnknownColumns"
	MetricObjectsSkipped  = "ObjectsSkipped"
	MetricDamagedObjects  = "DamagedObjects"
	MetricDuration        = "Duration"
	MetricDeliveryLag     = "DeliveryLag"
)

// Ingested emits the metrics of one processed source.
func (m *Metrics) Ingested(ctx context.Context, res Result, now time.Time) {
	damaged := 0.0
	if res.Damage != nil {
		damaged = 1
	}
	vs := []emf.Metric{
		{Name: MetricRecords, Unit: emf.Count, Value: float64(res.Records)},
		{Name: MetricBytes, Unit: emf.Bytes, Value: float64(res.InputBytes)},
		{Name: MetricParquetBytes, Unit: emf.Bytes, Value: float64(res.Bytes)},
		{Name: MetricObjectsWritten, Unit: emf.Count, Value: float64(len(res.Keys))},
		{Name: MetricRejectedLines, Unit: emf.Count, Value: float64(res.Rejected)},
		{Name: MetricNoDataRecords, Unit: emf.Count, Value: float64(res.NoData)},
		{Name: MetricSkipDataRecords, Unit: emf.Count, Value: float64(res.SkipData)},
		{Name: MetricUnknownColumns, Unit: emf.Count, Value: float64(len(res.Unknown))},
		{Name: MetricDamagedObjects, Unit: emf.Count, Value: damaged},
		{Name: MetricDuration, Unit: emf.Milliseconds, Value: float64(res.Elapsed.Milliseconds())},
	}
	if res.NewestEnd > 0 {
		vs = append(vs, emf.Metric{Name: MetricDeliveryLag, Unit: emf.Seconds, Value: float64(now.Unix() - res.NewestEnd)})
	}
	m.emit(ctx, now, vs, "source", res.Source)
}

// Skipped emits ObjectsSkipped = 1.
func (m *Metrics) Skipped(ctx context.Context, now time.Time) {
	m.emit(ctx, now, []emf.Metric{{Name: MetricObjectsSkipped, Unit: emf.Count, Value: 1}})
}

func (m *Metrics) emit(ctx context.Context, now time.Time, vs []emf.Metric, props ...string) {
	if m == nil || m.W == nil {
		return
	}
	m.once.Do(func() { m.w = &emf.Writer{W: m.W, Namespace: m.Namespace} })
	p := map[string]string{emf.DimFunction: m.Function}
	for i := 0; i+1 < len(props); i += 2 {
		p[props[i]] = props[i+1]
	}
	m.w.Put(ctx, now, [][]string{{emf.DimFunction}}, p, vs...)
}
