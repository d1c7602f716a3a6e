package flowlake

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/shared/emf"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// addAlarms sends to the ops topic: any function error, any message in a
// DLQ, a rejected-line rate over the threshold, a delivery lag over the
// threshold, and any damaged raw object.
func (s *Stack) addAlarms(c Config) {
	five := minutes(5)
	for _, g := range []*GoFunction{s.IngestS3, s.IngestCWLogs, s.Detect, s.NotifySlack, s.Compact} {
		if g == nil {
			continue
		}
		name := *g.Node().Id()
		s.addAlarm(name+"Errors", "flowlake: "+name+" failed (function errors)",
			g.Function.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), 0, 1)
	}
	for _, q := range []struct {
		id    string
		queue awssqs.Queue
	}{{"IngestS3DLQ", s.IngestDLQ}, {"NotifySlackDLQ", s.NotifyDLQ}} {
		if q.queue == nil {
			continue
		}
		s.addAlarm(q.id+"Depth", "flowlake: messages in "+q.id+" (failed deliveries to redrive)",
			q.queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}), 0, 1)
	}
	for _, g := range []*GoFunction{s.IngestS3, s.IngestCWLogs} {
		if g == nil {
			continue
		}
		name := *g.Node().Id()
		rate := rejectedRate(g)
		s.addAlarm(name+"RejectedRate", fmt.Sprintf("flowlake: over %d%% of flow-log lines rejected by the parser", c.RejectedLinesThreshold),
			rate, float64(c.RejectedLinesThreshold), 1)
		s.addAlarm(name+"DeliveryLag", fmt.Sprintf("flowlake: newest records over %d s old when ingested", c.DeliveryLagThreshold),
			ingestMetric(g, pipeline.MetricDeliveryLag, "Maximum"), float64(c.DeliveryLagThreshold), 2)
	}

	// A damaged raw object kept only the records before its damage: the
	// rest is lost unless the file can be delivered again.
	if g := s.IngestS3; g != nil {
		s.addAlarm(*g.Node().Id()+"Damaged", "flowlake: a damaged flow-log object (corrupt or truncated gzip): the records before the damage "+
			"were kept, the rest could not be read (see rejects/ in the lake bucket for the object and the byte offset)",
			ingestMetric(g, pipeline.MetricDamagedObjects, "Sum"), 0, 1)
	}

	// A finding that could not be published is kept as a dead letter:
	// someone should replay it.
	for _, g := range []*GoFunction{s.IngestS3, s.IngestCWLogs, s.Detect} {
		if g == nil {
			continue
		}
		name := *g.Node().Id()
		s.addAlarm(name+"DeadLettered", "flowlake: "+g.Name+" could not publish findings (dead-lettered under "+DeadLetterPrefix+" in the lake bucket)",
			customMetric(notify.MetricDeadLettered, map[string]string{emf.DimFunction: g.Name}, "Sum", "", 5), 0, 1)
	}
}

// addAlarm creates an alarm on m over threshold for periods periods, which
// notifies the ops topic; missing data is not breaching.
func (s *Stack) addAlarm(id, desc string, m awscloudwatch.IMetric, threshold float64, periods int) {
	a := awscloudwatch.NewAlarm(s.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(desc),
		Metric:             m,
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(periods),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	a.AddAlarmAction(awscloudwatchactions.NewSnsAction(s.Ops.Topic))
	s.Alarms = append(s.Alarms, a)
	if s.alarmsByID == nil {
		s.alarmsByID = map[string]awscloudwatch.Alarm{}
	}
	s.alarmsByID[id] = a
}

// ingestAlarmMinutes is the period of the ingest functions' metric alarms.
const ingestAlarmMinutes = 15

// ingestMetric is one of the EMF metrics (pipeline.Metric*) an ingest
// function writes, under its Function dimension: its folder name.
func ingestMetric(g *GoFunction, name, stat string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(emf.DefaultNamespace), MetricName: jsii.String(name),
		DimensionsMap: &map[string]*string{emf.DimFunction: jsii.String(g.Name)},
		Statistic:     jsii.String(stat), Period: minutes(ingestAlarmMinutes),
	})
}
