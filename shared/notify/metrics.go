package notify

import (
	"context"
	"time"

	"github.com/flowlake/flowlake/shared/emf"
	"github.com/flowlake/flowlake/shared/finding"
)

// Metric names of publishing (CloudWatch EMF, package emf). Each carries
// the Function dimension (emf.DimFunction); FindingsNotified also the Rule
// and the Severity (emf.DimRule, emf.DimSeverity), each its own dimension
// set.
const (
	MetricNotified     = "FindingsNotified"     // a finding that was news, published
	MetricDeduplicated = "FindingsDeduplicated" // a finding the dedup table said was not news
	MetricDeadLettered = "FindingsDeadLettered" // a finding that could not be published, kept as a dead letter
)

// Metrics emits the publishing metrics of one function. The zero value
// (or nil) emits nothing.
type Metrics struct {
	W        *emf.Writer
	Function string
}

func (m *Metrics) put(ctx context.Context, dims [][]string, props map[string]string, name string, v float64) {
	if m == nil || m.W == nil || v == 0 {
		return
	}
	props[emf.DimFunction] = m.Function
	m.W.Put(ctx, time.Now(), dims, props, emf.Metric{Name: name, Unit: emf.Count, Value: v})
}

// notified counts a finding published because it was news.
func (m *Metrics) notified(ctx context.Context, f *finding.Finding) {
	m.put(ctx, [][]string{{emf.DimFunction}, {emf.DimRule}, {emf.DimSeverity}},
		map[string]string{emf.DimRule: f.Rule, emf.DimSeverity: string(f.Severity), "id": f.ID}, MetricNotified, 1)
}

// deduplicated counts n findings that were not news.
func (m *Metrics) deduplicated(ctx context.Context, n int) {
	m.put(ctx, [][]string{{emf.DimFunction}}, map[string]string{}, MetricDeduplicated, float64(n))
}

// deadLettered counts a finding kept as a dead letter.
func (m *Metrics) deadLettered(ctx context.Context, f *finding.Finding) {
	m.put(ctx, [][]string{{emf.DimFunction}}, map[string]string{"id": f.ID, emf.DimRule: f.Rule}, MetricDeadLettered, 1)
}
