package pipeline

import (
	"context"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/notify"
)

// Flusher is a Detector that keeps state across the groups of one source:
// Process calls Flush once every group was seen, and adds the findings it
// returns to those of Detect. Make one per source with
// Pipeline.NewDetector.
type Flusher interface {
	Flush(ctx context.Context) ([]finding.Finding, error)
}

// BatchDetector runs the batch engine (detect.Batch) over one source:
// Detect observes each group and Flush returns what the whole source
// proves, so a scan spread over many groups of a file is still seen.
type BatchDetector struct {
	Batch *detect.Batch
}

// Detect implements Detector: it observes the group and returns nothing.
func (d *BatchDetector) Detect(_ context.Context, recs []flowlog.Record, enr []enrich.Fields) ([]finding.Finding, error) {
	d.Batch.Observe(recs, enr)
	return nil, nil
}

// Flush implements Flusher.
func (d *BatchDetector) Flush(context.Context) ([]finding.Finding, error) {
	return d.Batch.Findings(), nil
}

// BatchDetectors returns a Pipeline.NewDetector that gives each source a
// fresh batch engine of set.
func BatchDetectors(set *detect.Set) func() Detector {
	return func() Detector { return &BatchDetector{Batch: set.NewBatch()} }
}

// Publish returns the pipeline's Publisher for a notify.Publisher (SNS,
// or a notify.Notifier around it): the source is not needed.
func Publish(pub notify.Publisher) Publisher {
	return PublishFunc(func(ctx context.Context, _ lake.Source, fs []finding.Finding) error {
		return pub.Publish(ctx, fs)
	})
}
