package flowlake_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/infra/flowlake"
	"github.com/flowlake/flowlake/shared/flowlog"
)

func ctx(kv map[string]any) flowlake.ContextGetter { return func(k string) any { return kv[k] } }

func TestConfigDefaults(t *testing.T) {
	c, err := flowlake.ConfigFromContext(ctx(map[string]any{flowlake.CtxVPCs: []any{"vpc-0123456789abcdef0"}}))
	if err != nil {
		t.Fatalf("ConfigFromContext = %v; want no error", err)
	}
	want := flowlake.Defaults()
	want.VPCs = []string{"vpc-0123456789abcdef0"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("ConfigFromContext = %+v; want %+v", c, want)
	}
	if c.TrafficType != "REJECT" || c.AggregationSeconds != 600 || c.Destination != flowlake.DestS3 || c.FlowLogRetentionDays != 14 ||
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
	c, err := flowlake.ConfigFromContext(ctx(map[string]any{
		flowlake.CtxSubnets: "subnet-0123456789abcdef0, subnet-89abcdef",
		flowlake.CtxENIs:    "eni-0123456789abcdef0", flowlake.CtxTrafficType: "all", flowlake.CtxAggregationInterval: "60",
		flowlake.CtxDestination: "Both", flowlake.CtxLogFormat: "default", flowlake.CtxAlertEmails: "a@example.com,b@example.com",
	}))
	if err != nil {
		t.Fatalf("ConfigFromContext = %v", err)
	}
	if len(c.Subnets) != 2 || c.TrafficType != "ALL" || c.AggregationSeconds != 60 || c.Destination != flowlake.DestBoth ||
		c.LogFormat != flowlog.DefaultFormat || len(c.AlertEmails) != 2 || !c.S3() || !c.CloudWatch() {
		t.Errorf("ConfigFromContext = %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	scope := map[string]any{flowlake.CtxVPCs: []any{"vpc-0123456789abcdef0"}}
	tests := []struct {
		name string
		kv   map[string]any
		want []string // substrings of the error
	}{
		{"empty scope", map[string]any{}, []string{"empty flow-log scope", flowlake.CtxVPCs}},
		{"empty lists", map[string]any{flowlake.CtxVPCs: []any{}, flowlake.CtxSubnets: "", flowlake.CtxENIs: []any{" "}}, []string{"empty flow-log scope"}},
		{"unknown field", map[string]any{flowlake.CtxLogFormat: "${version} ${srcaddr} ${src-addr}"}, []string{flowlake.CtxLogFormat, `"${src-addr}"`, "unknown field"}},
		{"malformed format", map[string]any{flowlake.CtxLogFormat: "${version} srcaddr"}, []string{flowlake.CtxLogFormat, "malformed"}},
		{"transit gateway field", map[string]any{flowlake.CtxLogFormat: "${version} ${tgw-id}"}, []string{flowlake.CtxLogFormat, "transit-gateway"}},
		{"bad interval", map[string]any{flowlake.CtxAggregationInterval: 300.0}, []string{flowlake.CtxAggregationInterval, "60 or 600"}},
		{"interval not a number", map[string]any{flowlake.CtxAggregationInterval: "ten"}, []string{flowlake.CtxAggregationInterval, "want a number"}},
		{"bad traffic type", map[string]any{flowlake.CtxTrafficType: "DENY"}, []string{flowlake.CtxTrafficType}},
		{"bad destination", map[string]any{flowlake.CtxDestination: "firehose"}, []string{flowlake.CtxDestination}},
		{"bad vpc id", map[string]any{flowlake.CtxVPCs: []any{"vpc-xyz"}}, []string{flowlake.CtxVPCs, `"vpc-xyz"`}},
		{"bad retention", map[string]any{flowlake.CtxFlowLogRetentionDays: 10.0}, []string{flowlake.CtxFlowLogRetentionDays}},
		{"lake expires before transition", map[string]any{flowlake.CtxLakeExpirationDays: 60.0}, []string{flowlake.CtxLakeExpirationDays}},
		{"cutoff too small", map[string]any{flowlake.CtxBytesScannedCutoff: 1000.0}, []string{flowlake.CtxBytesScannedCutoff, "10 MB"}},
		{"bad email", map[string]any{flowlake.CtxAlertEmails: []any{"nobody"}}, []string{flowlake.CtxAlertEmails}},
		{"bad severity", map[string]any{flowlake.CtxEmailMinSeverity: "urgent"}, []string{flowlake.CtxEmailMinSeverity}},
		{"bad cidr", map[string]any{flowlake.CtxDetectInternal: "10.0.0.0/33"}, []string{flowlake.CtxDetectInternal}},
		{"cidr the detector refuses", map[string]any{flowlake.CtxDetectInternal: "2600:0:1::/48"}, []string{flowlake.CtxDetectInternal, "zero group"}},
		{"list of numbers", map[string]any{flowlake.CtxENIs: []any{1.0}}, []string{flowlake.CtxENIs, "list of strings"}},
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
			_, err := flowlake.ConfigFromContext(ctx(kv))
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
	_, err := flowlake.ConfigFromContext(ctx(map[string]any{flowlake.CtxAggregationInterval: 30.0, flowlake.CtxLogFormat: "${nope}"}))
	if err == nil || !strings.Contains(err.Error(), "scope") || !strings.Contains(err.Error(), flowlake.CtxAggregationInterval) ||
		!strings.Contains(err.Error(), flowlake.CtxLogFormat) {
		t.Errorf("ConfigFromContext = %v; want the scope, interval and format errors together", err)
	}
}

func TestSeverities(t *testing.T) {
	if got := flowlake.Severities("high"); !reflect.DeepEqual(got, []string{"high", "critical"}) {
		t.Errorf("Severities(high) = %v; want [high critical]", got)
	}
}

// TestRichFormat: the default format, the rich preset, holds every field
// of versions 2 to 5, each once, and nothing else.
func TestRichFormat(t *testing.T) {
	c, err := flowlake.ConfigFromContext(ctx(map[string]any{flowlake.CtxVPCs: "vpc-89abcdef", flowlake.CtxLogFormat: "rich"}))
	if err != nil || c.LogFormat != flowlog.RichFormat || flowlake.Defaults().LogFormat != flowlog.RichFormat {
		t.Fatalf("ConfigFromContext(rich) = %q, %v; want flowlog.RichFormat, the default", c.LogFormat, err)
	}
	fm := c.Format()
	var want []string
	for _, f := range flowlog.Fields() {
		if v := f.Version(); v >= 2 && v <= 5 {
			want = append(want, f.String())
			if !fm.Has(f) {
				t.Errorf("rich format lacks ${%s} (v%d)", f, v)
			}
		}
	}
	if fm.Len() != len(want) || len(want) != 29 || len(fm.Unknown()) != 0 {
		t.Errorf("rich format has %d fields (%v); want the %d of v2–v5 (29), each once", fm.Len(), fm.Names(), len(want))
	}
}
