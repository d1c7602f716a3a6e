package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/flowlog"
)

func ctx(kv map[string]any) ContextGetter { return func(k string) any { return kv[k] } }

func TestConfigDefaults(t *testing.T) {
	c, err := ConfigFromContext(ctx(map[string]any{CtxVPCs: []any{"vpc-0123456789abcdef0"}}))
	if err != nil {
		t.Fatalf("ConfigFromContext = %v; want no error", err)
	}
	want := Defaults()
	want.VPCs = []string{"vpc-0123456789abcdef0"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("ConfigFromContext = %+v; want %+v", c, want)
	}
	if c.TrafficType != "REJECT" || c.AggregationSeconds != 600 || c.Destination != DestS3 || c.FlowLogRetentionDays != 14 ||
		c.RawExpirationDays != 30 || c.LakeTransitionDays != 90 {
		t.Errorf("defaults = %+v; want REJECT, 600 s, s3, 14 days, raw 30 days, lake 90 days", c)
	}
	fm := c.Format()
	for _, name := range []string{"flow-direction", "pkt-srcaddr", "pkt-dstaddr", "tcp-flags", "traffic-path", "pkt-dst-aws-service"} {
		f, _ := flowlog.LookupField(name)
		if !fm.Has(f) {
			t.Errorf("default format lacks ${%s}", name)
		}
	}
}

// TestConfigFromCLIStrings: -c key=value gives strings, lists
// comma-separated.
func TestConfigFromCLIStrings(t *testing.T) {
	c, err := ConfigFromContext(ctx(map[string]any{
		CtxSubnets: "subnet-0123456789abcdef0, subnet-89abcdef",
		CtxENIs:    "eni-0123456789abcdef0", CtxTrafficType: "all", CtxAggregationInterval: "60",
		CtxDestination: "Both", CtxLogFormat: "default", CtxAlertEmails: "a@example.com,b@example.com",
	}))
	if err != nil {
		t.Fatalf("ConfigFromContext = %v", err)
	}
	if len(c.Subnets) != 2 || c.TrafficType != "ALL" || c.AggregationSeconds != 60 || c.Destination != DestBoth ||
		c.LogFormat != flowlog.DefaultFormat || len(c.AlertEmails) != 2 || !c.S3() || !c.CloudWatch() {
		t.Errorf("ConfigFromContext = %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	scope := map[string]any{CtxVPCs: []any{"vpc-0123456789abcdef0"}}
	tests := []struct {
		name string
		kv   map[string]any
		want []string // substrings of the error
	}{
		{"empty scope", map[string]any{}, []string{"empty flow-log scope", CtxVPCs}},
		{"empty lists", map[string]any{CtxVPCs: []any{}, CtxSubnets: "", CtxENIs: []any{" "}}, []string{"empty flow-log scope"}},
		{"unknown field", map[string]any{CtxLogFormat: "${version} ${srcaddr} ${src-addr}"}, []string{CtxLogFormat, `"${src-addr}"`, "unknown field"}},
		{"malformed format", map[string]any{CtxLogFormat: "${version} srcaddr"}, []string{CtxLogFormat, "malformed"}},
		{"transit gateway field", map[string]any{CtxLogFormat: "${version} ${tgw-id}"}, []string{CtxLogFormat, "transit-gateway"}},
		{"bad interval", map[string]any{CtxAggregationInterval: 300.0}, []string{CtxAggregationInterval, "60 or 600"}},
		{"interval not a number", map[string]any{CtxAggregationInterval: "ten"}, []string{CtxAggregationInterval, "want a number"}},
		{"bad traffic type", map[string]any{CtxTrafficType: "DENY"}, []string{CtxTrafficType}},
		{"bad destination", map[string]any{CtxDestination: "firehose"}, []string{CtxDestination}},
		{"bad vpc id", map[string]any{CtxVPCs: []any{"vpc-xyz"}}, []string{CtxVPCs, `"vpc-xyz"`}},
		{"bad retention", map[string]any{CtxFlowLogRetentionDays: 10.0}, []string{CtxFlowLogRetentionDays}},
		{"lake expires before transition", map[string]any{CtxLakeExpirationDays: 60.0}, []string{CtxLakeExpirationDays}},
		{"cutoff too small", map[string]any{CtxBytesScannedCutoff: 1000.0}, []string{CtxBytesScannedCutoff, "10 MB"}},
		{"bad email", map[string]any{CtxAlertEmails: []any{"nobody"}}, []string{CtxAlertEmails}},
		{"bad severity", map[string]any{CtxEmailMinSeverity: "urgent"}, []string{CtxEmailMinSeverity}},
		{"bad cidr", map[string]any{CtxDetectInternal: "10.0.0.0/33"}, []string{CtxDetectInternal}},
		{"list of numbers", map[string]any{CtxENIs: []any{1.0}}, []string{CtxENIs, "list of strings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := map[string]any{}
			if tt.name != "empty scope" && !strings.HasPrefix(tt.name, "empty lists") {
				for k, v := range scope {
					kv[k] = v
				}
			}
			for k, v := range tt.kv {
				kv[k] = v
			}
			_, err := ConfigFromContext(ctx(kv))
			if err == nil {
				t.Fatalf("ConfigFromContext(%v) = nil; want an error", tt.kv)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ConfigFromContext(%v) = %q; want it to mention %q", tt.kv, err, w)
				}
			}
		})
	}
}

// TestConfigErrorsTogether: every bad key is reported at once.
func TestConfigErrorsTogether(t *testing.T) {
	_, err := ConfigFromContext(ctx(map[string]any{CtxAggregationInterval: 30.0, CtxLogFormat: "${nope}"}))
	if err == nil || !strings.Contains(err.Error(), "scope") || !strings.Contains(err.Error(), CtxAggregationInterval) ||
		!strings.Contains(err.Error(), CtxLogFormat) {
		t.Errorf("ConfigFromContext = %v; want the scope, interval and format errors together", err)
	}
}

func TestSeverities(t *testing.T) {
	if got := Severities("high"); !reflect.DeepEqual(got, []string{"high", "critical"}) {
		t.Errorf("Severities(high) = %v; want [high critical]", got)
	}
}

// TestBuildFunctionsMissingFolder: a deployed function without its folder
// fails the synth with the folder's name, before any build.
func TestBuildFunctionsMissingFolder(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "functions", "detect"), 0o755)
	os.WriteFile(filepath.Join(root, "functions", "detect", "main.go"), []byte("package main\nfunc main() {}\n"), 0o644)
	_, err := BuildFunctions(root, []string{FnDetect, FnNotifySlack}, t.TempDir())
	if !errors.Is(err, ErrMissingFunction) || !strings.Contains(err.Error(), "functions/notify-slack") ||
		strings.Contains(err.Error(), "functions/detect") {
		t.Errorf("BuildFunctions = %v; want ErrMissingFunction naming functions/notify-slack only", err)
	}
}

func TestInsightsQueriesFollowTheFormat(t *testing.T) {
	rich := InsightsQueries(flowlog.MustParseFormat(RichFormat))
	if len(rich) != 6 || rich[0].Name != "top-rejected-destination-ports" {
		t.Fatalf("InsightsQueries(rich) = %d queries, first %q; want 6, top-rejected-destination-ports first", len(rich), rich[0].Name)
	}
	if !strings.HasPrefix(rich[0].Query, `parse @message "* * *`) || !strings.Contains(rich[0].Query, " as version, account_id, interface_id,") ||
		!strings.Contains(rich[0].Query, "flow_direction, traffic_path\n") {
		t.Errorf("InsightsQueries(rich)[0] = %q; want a parse naming every field of the format", rich[0].Query)
	}
	def := InsightsQueries(flowlog.MustParseFormat(flowlog.DefaultFormat))
	var names []string
	for _, q := range def {
		names = append(names, q.Name)
	}
	want := []string{"top-rejected-destination-ports", "top-talkers-by-bytes", "rejected-ssh-rdp-from-internet", "nodata-skipdata-by-eni"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("InsightsQueries(default) = %v; want %v (no v5 fields)", names, want)
	}
	custom := InsightsQueries(flowlog.MustParseFormat("${srcaddr} ${dstaddr} ${bytes} ${packets}"))
	if len(custom) != 0 {
		t.Errorf("InsightsQueries(no action, no log-status) = %d queries; want 0", len(custom))
	}
}
