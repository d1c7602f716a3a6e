package flowlake

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/emf"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/pipeline"
	"github.com/flowlake/flowlake/shared/schedule"
)

// Dashboard rows, top to bottom as the data flows. Each row starts with a
// text widget holding its title (the README's "Operating it" section
// says what each row means).
const (
	RowDelivery  = "Delivery"
	RowParsing   = "Parsing"
	RowLake      = "The lake"
	RowFindings  = "Findings"
	RowFunctions = "Functions"
)

// addDashboard creates the stack's CloudWatch dashboard, named after the
// stack. Every metric a widget shows is a constant of the package that
// emits it (pipeline, notify, schedule, with emf's namespace and dimension
// names) or one AWS publishes for a resource of the stack, and every alarm
// sits beside the metric it watches.
func (s *Stack) addDashboard() {
	d := &dashboard{s: s}
	d.row(RowDelivery, "Flow-log records and bytes ingested per source, the delivery lag, the ingest queue and the dead-letter queues.")
	d.graph("Records ingested", d.perIngest(pipeline.MetricRecords, "Sum", "records"))
	d.graph("Bytes ingested", d.perIngest(pipeline.MetricBytes, "Sum", "bytes"))
	lag := d.perIngest(pipeline.MetricDeliveryLag, "p50", "lag p50")
	lag = append(lag, d.perIngest(pipeline.MetricDeliveryLag, "p99", "lag p99")...)
	d.graph("Delivery lag (s)", lag)
	d.alarms("IngestS3DeliveryLag", "IngestCWLogsDeliveryLag")
	d.graph("Ingest queue: age of oldest message (s)", []awscloudwatch.IMetric{
		s.IngestQueue.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: minutes(5)}),
	})
	var dlq []awscloudwatch.IMetric
	for _, q := range []struct {
		label string
		depth func(*awscloudwatch.MetricOptions) awscloudwatch.Metric
	}{{"ingest-s3 DLQ", d.queueDepth(s.IngestDLQ)}, {"notify-slack DLQ", d.queueDepth(s.NotifyDLQ)}} {
		if q.depth != nil {
			dlq = append(dlq, q.depth(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: minutes(5), Label: jsii.String(q.label)}))
		}
	}
	d.graph("Dead-letter queues: messages", dlq)
	d.alarms("IngestS3DLQDepth", "NotifySlackDLQDepth")

	d.row(RowParsing, "Lines the parser rejected, damaged objects (corrupt or truncated gzip: the records before the damage kept), "+
		"records AWS could not record (SKIPDATA), and header columns the reader did not know but kept.")
	var rates []awscloudwatch.IMetric
	for _, g := range d.ingest() {
		rates = append(rates, rejectedRate(g))
	}
	d.graph("Rejected lines (% of lines)", rates)
	d.alarms("IngestS3RejectedRate", "IngestCWLogsRejectedRate")
	if g := s.IngestS3; g != nil {
		d.graph("Damaged objects", []awscloudwatch.IMetric{
			customMetric(pipeline.MetricDamagedObjects, map[string]string{emf.DimFunction: g.Name}, "Sum", g.Name+" damaged", ingestAlarmMinutes),
		})
		d.alarms(*g.Node().Id() + "Damaged")
	}
	d.graph("SKIPDATA records", d.perIngest(pipeline.MetricSkipDataRecords, "Sum", "SKIPDATA"))
	d.graph("Unknown columns kept", d.perIngest(pipeline.MetricUnknownColumns, "Sum", "columns"))

	d.row(RowLake, "Parquet objects and bytes written to the lake, per hour; what the hourly compaction rewrote: partition-hours, "+
		"objects and bytes read and written, redelivered objects folded in, and hours that failed or were left for the next run.")
	d.graph("Objects written per hour", d.perIngestPeriod(pipeline.MetricObjectsWritten, "Sum", "objects", 60))
	d.graph("Parquet bytes written per hour", d.perIngestPeriod(pipeline.MetricParquetBytes, "Sum", "bytes", 60))
	if g := s.Compact; g != nil {
		dim := map[string]string{emf.DimFunction: g.Name}
		m := func(name, label string) awscloudwatch.IMetric { return customMetric(name, dim, "Sum", label, 60) }
		d.graph("Compaction: partition-hours per hour", []awscloudwatch.IMetric{
			m(compact.MetricCompacted, "compacted"), m(compact.MetricFailed, "failed"), m(compact.MetricPending, "left for the next run"),
		})
		d.graph("Compaction: objects per hour", []awscloudwatch.IMetric{
			m(compact.MetricObjectsRead, "read"), m(compact.MetricObjectsWritten, "written"), m(compact.MetricRedelivered, "redelivered, replaced"),
		})
		d.graph("Compaction: bytes per hour", []awscloudwatch.IMetric{
			m(compact.MetricBytesRead, "read"), m(compact.MetricBytesWritten, "written"),
		})
	}

	d.row(RowFindings, "Findings notified per rule and severity, and what publishing did: sent, deduplicated (not news), dead-lettered.")
	var perRule, perSeverity []awscloudwatch.IMetric
	for _, r := range detect.Rules {
		perRule = append(perRule, customMetric(notify.MetricNotified, map[string]string{emf.DimRule: r.ID}, "Sum", r.ID, 60))
	}
	for _, sev := range []finding.Severity{finding.Low, finding.Medium, finding.High, finding.Critical} {
		perSeverity = append(perSeverity, customMetric(notify.MetricNotified, map[string]string{emf.DimSeverity: string(sev)}, "Sum", string(sev), 60))
	}
	d.graph("Findings notified per rule (per hour)", perRule)
	d.graph("Findings notified per severity (per hour)", perSeverity)
	var sent, dups, dead []awscloudwatch.IMetric
	for _, g := range d.publishers() {
		dim := map[string]string{emf.DimFunction: g.Name}
		sent = append(sent, customMetric(notify.MetricNotified, dim, "Sum", g.Name, 60))
		dups = append(dups, customMetric(notify.MetricDeduplicated, dim, "Sum", g.Name, 60))
		dead = append(dead, customMetric(notify.MetricDeadLettered, dim, "Sum", g.Name, 60))
	}
	d.graph("Notifications sent", sent)
	d.graph("Deduplicated (not news)", dups)
	d.graph("Dead-lettered findings", dead)
	d.alarms(d.deadLetterAlarms()...)

	d.row(RowFunctions, "Every function: invocations, errors, throttles and duration (p99); the detector's Athena bytes scanned per run.")
	for _, g := range d.functions() {
		opts := func(stat string) *awscloudwatch.MetricOptions {
			return &awscloudwatch.MetricOptions{Statistic: jsii.String(stat), Period: minutes(5)}
		}
		d.graph(g.Name+": invocations, errors, throttles", []awscloudwatch.IMetric{
			g.Function.MetricInvocations(opts("Sum")), g.Function.MetricErrors(opts("Sum")), g.Function.MetricThrottles(opts("Sum")),
		})
		d.alarms(*g.Node().Id() + "Errors")
		d.graph(g.Name+": duration p99 (ms)", []awscloudwatch.IMetric{g.Function.MetricDuration(opts("p99"))})
	}
	detectDim := map[string]string{emf.DimFunction: s.Detect.Name}
	d.graph("detect: Athena bytes scanned per run", []awscloudwatch.IMetric{
		customMetric(schedule.MetricAthenaBytesScanned, detectDim, "Maximum", "bytes scanned", 60),
	})
	d.graph("detect: findings per run", []awscloudwatch.IMetric{
		customMetric(schedule.MetricFindings, detectDim, "Maximum", "findings", 60),
	})

	d.flush()
	rows := make([]*[]awscloudwatch.IWidget, len(d.rows))
	for i := range d.rows {
		rows[i] = &d.rows[i]
	}
	s.Dashboard = awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: s.StackName(),
		Widgets:       &rows,
	})
}

// dashboard lays out widgets in rows of 24 columns.
type dashboard struct {
	s    *Stack
	rows [][]awscloudwatch.IWidget
	cur  []awscloudwatch.IWidget
}

func (d *dashboard) flush() {
	if len(d.cur) > 0 {
		d.rows = append(d.rows, d.cur)
		d.cur = nil
	}
}

// row starts a row with its title.
func (d *dashboard) row(title, what string) {
	d.flush()
	d.rows = append(d.rows, []awscloudwatch.IWidget{awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
		Markdown: jsii.String("## " + title + "\n" + what), Width: jsii.Number(24), Height: jsii.Number(2),
	})})
}

// graph adds a graph of ms (nothing when ms is empty).
func (d *dashboard) graph(title string, ms []awscloudwatch.IMetric) {
	if len(ms) == 0 {
		return
	}
	d.cur = append(d.cur, awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String(title), Left: &ms, Width: jsii.Number(6), Height: jsii.Number(6),
	}))
}

// alarms adds the alarms of the given ids that the stack has, beside the
// graph before them.
func (d *dashboard) alarms(ids ...string) {
	for _, id := range ids {
		if a, ok := d.s.alarmsByID[id]; ok {
			d.cur = append(d.cur, awscloudwatch.NewAlarmWidget(&awscloudwatch.AlarmWidgetProps{
				Alarm: a, Title: jsii.String("Alarm: " + id), Width: jsii.Number(6), Height: jsii.Number(6),
			}))
		}
	}
}

func (d *dashboard) ingest() []*GoFunction {
	var out []*GoFunction
	for _, g := range []*GoFunction{d.s.IngestS3, d.s.IngestCWLogs} {
		if g != nil {
			out = append(out, g)
		}
	}
	return out
}

// publishers are the functions that publish findings.
func (d *dashboard) publishers() []*GoFunction { return append(d.ingest(), d.s.Detect) }

func (d *dashboard) functions() []*GoFunction {
	out := d.publishers()
	if d.s.NotifySlack != nil {
		out = append(out, d.s.NotifySlack)
	}
	if d.s.Compact != nil {
		out = append(out, d.s.Compact)
	}
	return out
}

func (d *dashboard) deadLetterAlarms() []string {
	var ids []string
	for _, g := range d.publishers() {
		ids = append(ids, *g.Node().Id()+"DeadLettered")
	}
	return ids
}

// queueDepth is q's visible-messages metric, or nil when the stack has
// no such queue.
func (d *dashboard) queueDepth(q awssqs.Queue) func(*awscloudwatch.MetricOptions) awscloudwatch.Metric {
	if q == nil {
		return nil
	}
	return q.MetricApproximateNumberOfMessagesVisible
}

// perIngest is metric name of each ingest function, at the alarms' period.
func (d *dashboard) perIngest(name, stat, label string) []awscloudwatch.IMetric {
	return d.perIngestPeriod(name, stat, label, ingestAlarmMinutes)
}

func (d *dashboard) perIngestPeriod(name, stat, label string, periodMinutes int) []awscloudwatch.IMetric {
	var out []awscloudwatch.IMetric
	for _, g := range d.ingest() {
		out = append(out, customMetric(name, map[string]string{emf.DimFunction: g.Name}, stat, g.Name+" "+label, periodMinutes))
	}
	return out
}

// customMetric is one of flowlake's EMF metrics, in its namespace.
func customMetric(name string, dims map[string]string, stat, label string, periodMinutes int) awscloudwatch.Metric {
	dm := map[string]*string{}
	for k, v := range dims {
		dm[k] = jsii.String(v)
	}
	p := &awscloudwatch.MetricProps{
		Namespace: jsii.String(emf.DefaultNamespace), MetricName: jsii.String(name), DimensionsMap: &dm,
		Statistic: jsii.String(stat), Period: minutes(periodMinutes),
	}
	if label != "" {
		p.Label = jsii.String(label)
	}
	return awscloudwatch.NewMetric(p)
}

// rejectedRate is the rejected lines of an ingest function as a
// percentage of its lines.
// Its metric ids carry the function's name, so that the rates of both
// ingest functions share a graph.
func rejectedRate(g *GoFunction) awscloudwatch.MathExpression {
	id := strings.ReplaceAll(g.Name, "-", "_")
	rejected, records := "rejected_"+id, "records_"+id
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String("IF(" + records + " > 0, 100 * " + rejected + " / " + records + ", 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			rejected: ingestMetric(g, pipeline.MetricRejectedLines, "Sum"),
			records:  ingestMetric(g, pipeline.MetricRecords, "Sum"),
		},
		Label:  jsii.String(g.Name + " rejected lines, %"),
		Period: minutes(ingestAlarmMinutes),
	})
}
