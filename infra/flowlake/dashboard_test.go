package flowlake_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/infra/flowlake"
	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/emf"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/pipeline"
	"github.com/flowlake/flowlake/shared/schedule"
)

// widget is a CloudWatch dashboard widget as its JSON body has it.
type widget struct {
	Type       string `json:"type"`
	Y          int    `json:"y"`
	X          int    `json:"x"`
	Properties struct {
		Markdown string  `json:"markdown"`
		Title    string  `json:"title"`
		Metrics  [][]any `json:"metrics"`
		// An alarm widget is a metric widget annotated with its alarm.
		Annotations struct {
			Alarms []string `json:"alarms"`
		} `json:"annotations"`
	} `json:"properties"`
}

func (w widget) alarms() []string {
	if len(w.Properties.Metrics) > 0 {
		return nil
	}
	return w.Properties.Annotations.Alarms
}

// dashboardOf returns the widgets of the template's one dashboard, in
// reading order, and its name.
func dashboardOf(t *testing.T, tp *template) ([]widget, string) {
	t.Helper()
	ds := tp.resources("AWS::CloudWatch::Dashboard")
	if len(ds) != 1 {
		t.Fatalf("%d dashboards; want 1", len(ds))
	}
	for _, d := range ds {
		var body struct{ Widgets []widget }
		if err := json.Unmarshal([]byte(render(d["DashboardBody"])), &body); err != nil {
			t.Fatalf("dashboard body: %v\n%s", err, render(d["DashboardBody"]))
		}
		slices.SortStableFunc(body.Widgets, func(a, b widget) int { return (a.Y-b.Y)*100 + a.X - b.X })
		return body.Widgets, render(d["DashboardName"])
	}
	return nil, ""
}

// metricsOf returns a metric widget's metrics as namespace/name/dimension
// key=value, from CloudWatch's array form
// [namespace, name, dim, value, ..., {options}] (a "." repeats the row
// before it).
func metricsOf(w widget) []string {
	var out []string
	var prev []any
	for _, m := range w.Properties.Metrics {
		var parts []string
		for i, v := range m {
			if _, isOpts := v.(map[string]any); isOpts {
				continue
			}
			s, _ := v.(string)
			if s == "." && i < len(prev) {
				s, _ = prev[i].(string)
			}
			parts = append(parts, s)
		}
		prev = m
		if len(parts) >= 2 {
			out = append(out, strings.Join(parts, "|"))
		}
	}
	return out
}

// TestDashboard: one dashboard named after the stack, whose rows read top
// to bottom as the data flows; each flowlake metric a widget shows is a
// name the code emits (the emitting packages' constants); every alarm of
// the stack sits on it, right after a graph of the metric it watches.
func TestDashboard(t *testing.T) {
	tp := templates["Full"]
	ws, name := dashboardOf(t, tp)
	if name != "Full" {
		t.Errorf("dashboard name %q; want the stack's, Full", name)
	}
	var rows []string
	for _, w := range ws {
		if w.Type == "text" {
			rows = append(rows, strings.TrimPrefix(strings.SplitN(w.Properties.Markdown, "\n", 2)[0], "## "))
		}
	}
	if want := []string{flowlake.RowDelivery, flowlake.RowParsing, flowlake.RowLake, flowlake.RowFindings, flowlake.RowFunctions}; !slices.Equal(rows, want) {
		t.Errorf("rows %v; want %v", rows, want)
	}
	emitted := map[string]bool{}
	for _, n := range []string{pipeline.MetricRecords, pipeline.MetricBytes, pipeline.MetricParquetBytes, pipeline.MetricObjectsWritten,
		pipeline.MetricRejectedLines, pipeline.MetricNoDataRecords, pipeline.MetricSkipDataRecords, pipeline.MetricUnknownColumns,
		pipeline.MetricObjectsSkipped, pipeline.MetricDuration, pipeline.MetricDeliveryLag, pipeline.MetricDamagedObjects,
		notify.MetricNotified, notify.MetricDeduplicated, notify.MetricDeadLettered,
		schedule.MetricFindings, schedule.MetricAthenaBytesScanned, schedule.MetricRunDuration,
		compact.MetricCompacted, compact.MetricObjectsRead, compact.MetricObjectsWritten, compact.MetricRecords, compact.MetricBytesRead,
		compact.MetricBytesWritten, compact.MetricRedelivered, compact.MetricFailed, compact.MetricPending, compact.MetricDuration} {
		emitted[n] = true
	}
	shown := map[string]bool{}
	for _, w := range ws {
		for _, m := range metricsOf(w) {
			parts := strings.Split(m, "|")
			if parts[0] == emf.DefaultNamespace {
				if !emitted[parts[1]] {
					t.Errorf("widget %q shows %s, which no flowlake package emits", w.Properties.Title, m)
				}
				shown[parts[1]] = true
			} else if !strings.HasPrefix(parts[0], "AWS/") {
				t.Errorf("widget %q: metric %s in namespace %q", w.Properties.Title, m, parts[0])
			}
		}
	}
	for _, want := range []string{pipeline.MetricRecords, pipeline.MetricBytes, pipeline.MetricDeliveryLag, pipeline.MetricRejectedLines,
		pipeline.MetricSkipDataRecords, pipeline.MetricUnknownColumns, pipeline.MetricObjectsWritten, pipeline.MetricParquetBytes,
		pipeline.MetricDamagedObjects, notify.MetricNotified, notify.MetricDeduplicated, notify.MetricDeadLettered, schedule.MetricAthenaBytesScanned,
		compact.MetricCompacted, compact.MetricFailed, compact.MetricPending, compact.MetricObjectsRead, compact.MetricObjectsWritten,
		compact.MetricBytesRead, compact.MetricBytesWritten, compact.MetricRedelivered} {
		if !shown[want] {
			t.Errorf("no widget shows %s", want)
		}
	}
	// Every alarm, right after a graph of what it watches.
	alarms := tp.resources("AWS::CloudWatch::Alarm")
	placed := map[string]bool{}
	for i, w := range ws {
		for _, a := range w.alarms() {
			id := strings.TrimSuffix(strings.TrimPrefix(a, "${"), ".Arn}")
			placed[id] = true
			watched := js(alarms[id]["Metrics"]) // a math expression: its metrics
			if n, ok := alarms[id]["MetricName"].(string); ok {
				watched = n
			}
			j := i - 1
			for j > 0 && len(ws[j].alarms()) > 0 {
				j--
			}
			if j < 0 || ws[j].Type != "metric" {
				t.Errorf("alarm %s is not beside a graph", id)
				continue
			}
			found := false
			for _, m := range metricsOf(ws[j]) {
				if strings.Contains(watched, strings.Split(m, "|")[1]) {
					found = true
				}
			}
			if !found {
				t.Errorf("alarm %s (%s) is beside %q, which does not show its metric", id, watched, ws[j].Properties.Title)
			}
		}
	}
	for id := range alarms {
		if !placed[id] {
			t.Errorf("alarm %s is not on the dashboard", id)
		}
	}
}
