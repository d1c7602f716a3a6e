package pipeline

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flowlake/flowlake/shared/dedup"
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

// AddFindings adds the detection and publishing steps the environment
// configures to p: with FLOWLAKE_FINDINGS_TOPIC_ARN set, each source runs
// through the batch engine (DETECT_* settings) and its findings are
// published to the topic, through the dedup table when
// FLOWLAKE_DEDUP_TABLE is set. Without the topic it does nothing. The
// clients come from the default AWS configuration; no network call is
// made until the first publish.
func (e Env) AddFindings(ctx context.Context, p *Pipeline) error {
	if e.FindingsTopicARN == "" {
		return nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	var pub notify.Publisher = &notify.SNS{Client: sns.NewFromConfig(cfg), TopicARN: e.FindingsTopicARN, Single: e.SNSSingle}
	if e.DedupTable != "" {
		pub = &notify.Notifier{Dedup: &dedup.Store{Client: dynamodb.NewFromConfig(cfg), Table: e.DedupTable}, Publisher: pub}
	}
	return e.addFindings(p, pub)
}

// addFindings sets p's detector and publisher.
func (e Env) addFindings(p *Pipeline, pub notify.Publisher) error {
	set, err := detect.Compile(e.Detect)
	if err != nil {
		return err
	}
	p.NewDetector = BatchDetectors(set)
	p.Publisher = Publish(pub)
	return nil
}
