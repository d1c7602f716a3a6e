package flowlake_test

import (
	"context"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/infra/flowlake"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/geodb"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// stubGeoDatabases writes stand-ins for the GeoIP and ASN databases into
// dir, beside -short's stub bootstraps (the template only names them).
func stubGeoDatabases(dir string) error {
	for _, name := range []string{geodb.CountryFile, geodb.ASNFile, geodb.NoticeFile} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("stub "+name), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// readmeGroups returns the enrichment groups the README's "Enrichment in
// AWS" table lists: the first column of each row, in backticks.
func readmeGroups(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n### Enrichment in AWS\n")
	if !ok {
		t.Fatal(`README.md has no "### Enrichment in AWS" section`)
	}
	if i := strings.Index(sec, "\n#"); i >= 0 {
		sec = sec[:i]
	}
	var groups []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\|").FindAllStringSubmatch(sec, -1) {
		groups = append(groups, m[1])
	}
	return groups
}

// assetDir returns the folder of the asset of the stack's function
// <prefix>Function, as synthesized into the app's output folder.
func assetDir(t *testing.T, s *flowlake.Stack, prefix string) string {
	t.Helper()
	for id, f := range templates[*s.StackName()].resources("AWS::Lambda::Function") {
		if logicalID(prefix + "Function").MatchString(id) {
			key, _ := f["Code"].(map[string]any)["S3Key"].(string)
			return filepath.Join(*awscdk.Stage_Of(s.Stack).Outdir(), "asset."+strings.TrimSuffix(key, ".zip"))
		}
	}
	t.Fatalf("%s: no function %sFunction", *s.StackName(), prefix)
	return ""
}

// TestEnrichmentInAWS: every enrichment group the README lists (and it
// lists every group of package enrich) is on in both ingest functions of
// the template: their environment, read by the functions' own
// pipeline.LoadEnv in the function's synthesized asset folder (where the
// GeoIP and ASN databases must be), gives a pipeline that writes the
// group's columns; the ENI group's role may describe network interfaces.
// With a real build the shipped databases answer for a public address.
func TestEnrichmentInAWS(t *testing.T) {
	groups := readmeGroups(t)
	var all []string
	for _, c := range enrich.Columns() {
		if !slices.Contains(all, c.Group()) {
			all = append(all, c.Group())
		}
	}
	slices.Sort(all)
	if got := slices.Sorted(slices.Values(groups)); !slices.Equal(got, all) {
		t.Errorf("README's enrichment groups %v; package enrich has %v", got, all)
	}
	// CWOnly deploys both ingest functions.
	tp := templates["CWOnly"]
	for _, fn := range []struct{ prefix, name string }{{"IngestS3", flowlake.FnIngestS3}, {"IngestCWLogs", flowlake.FnIngestCWLogs}} {
		env := functionEnv(t, "CWOnly", fn.prefix)
		dir := assetDir(t, cwonly, fn.prefix)
		if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil {
			t.Fatalf("%s: the asset folder: %v", fn.name, err)
		}
		getenv := func(k string) string {
			if k == "LAMBDA_TASK_ROOT" {
				return dir // as Lambda sets it: the unzipped asset
			}
			if v, ok := env[k]; ok {
				return render(v)
			}
			return ""
		}
		e, err := pipeline.LoadEnv(getenv)
		if err != nil {
			t.Fatalf("%s: LoadEnv with the template's environment: %v", fn.name, err)
		}
		opts := func(o *s3.Options) { o.Region = "us-east-1" }
		p, err := e.Pipeline(pipeline.Clients{
			S3: s3.New(s3.Options{}, opts), EC2: ec2.New(ec2.Options{Region: "us-east-1"}),
			SNS: sns.New(sns.Options{Region: "us-east-1"}), DynamoDB: dynamodb.New(dynamodb.Options{Region: "us-east-1"}),
		}, fn.name, io.Discard, io.Discard)
		if err != nil {
			t.Fatalf("%s: the pipeline of the template's environment: %v", fn.name, err)
		}
		for _, g := range groups {
			if !slices.Contains(p.EnrichGroups, g) {
				t.Errorf("%s: enrichment group %s is off (the template's environment gives %v)", fn.name, g, p.EnrichGroups)
			}
		}
		for _, path := range []string{e.GeoIPPath, e.ASNPath} {
			if filepath.Dir(path) != dir {
				t.Errorf("%s: database %s is not in the function's asset %s", fn.name, path, dir)
			}
		}
		if !roleMay(t, tp, fn.prefix, "ec2:DescribeNetworkInterfaces") {
			t.Errorf("%s: its role may not ec2:DescribeNetworkInterfaces (the %s group)", fn.name, enrich.GroupENI)
		}
		if !realBuild {
			continue
		}
		// The databases in the asset are the real ones.
		en, err := enrich.NewFromPaths(context.Background(), enrich.Paths{GeoIP: e.GeoIPPath, ASN: e.ASNPath})
		if err != nil {
			t.Fatalf("%s: %v", fn.name, err)
		}
		rec := flowlog.Record{SrcAddr: netip.MustParseAddr("1.1.1.1"), DstAddr: netip.MustParseAddr("10.0.0.1")}
		rec.Set = rec.Set.With(flowlog.FieldSrcAddr).With(flowlog.FieldDstAddr)
		var f enrich.Fields
		en.EnrichRecord(context.Background(), &rec, &f)
		en.Close()
		if f.SrcCountry == "" || f.SrcASN != 13335 {
			t.Errorf("%s: 1.1.1.1 has country %q and AS%d in the shipped databases; want a country and AS13335", fn.name, f.SrcCountry, f.SrcASN)
		}
	}
}

// roleMay reports whether an IAM policy of the role of <prefix>Function
// allows action.
func roleMay(t *testing.T, tp *template, prefix, action string) bool {
	t.Helper()
	var role string
	for id, f := range tp.resources("AWS::Lambda::Function") {
		if logicalID(prefix + "Function").MatchString(id) {
			role, _ = f["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		}
	}
	for _, p := range tp.resources("AWS::IAM::Policy") {
		attached := false
		for _, r := range list(p["Roles"]) {
			attached = attached || render(r) == "${"+role+"}"
		}
		if !attached {
			continue
		}
		for _, st := range statements(t, p["PolicyDocument"]) {
			if st.Effect == "Allow" && slices.Contains(st.Action, action) {
				return true
			}
		}
	}
	return false
}

// TestNewStackNeedsGeoDatabases: an ingest function's folder without the
// databases fails NewStack, naming the function.
func TestNewStackNeedsGeoDatabases(t *testing.T) {
	cfg, err := flowlake.ConfigFromContext(func(k string) any { return fullContext[k] })
	if err != nil {
		t.Fatal(err)
	}
	bare := map[string]string{}
	for n, dir := range code {
		bare[n] = dir
	}
	bare[flowlake.FnIngestCWLogs] = stubCode(t, flowlake.FnIngestCWLogs)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	_, err = flowlake.NewStack(app, "NoGeo", flowlake.StackProps{Config: cfg, Code: bare})
	if err == nil || !strings.Contains(err.Error(), flowlake.FnIngestCWLogs) || !strings.Contains(err.Error(), geodb.CountryFile) {
		t.Errorf("NewStack without ingest-cwlogs's databases = %v; want an error naming it and %s", err, geodb.CountryFile)
	}
}

// TestFlowLogTagKeys: the v11 preset and the tag-key context give the flow
// logs the version-11 fields and TagFieldSpecifications; a tag field
// without its key is refused.
func TestFlowLogTagKeys(t *testing.T) {
	c, err := flowlake.ConfigFromContext(ctx(map[string]any{flowlake.CtxVPCs: "vpc-0123456789abcdef0", flowlake.CtxLogFormat: "v11",
		flowlake.CtxInstanceTagKey: "team", flowlake.CtxInterfaceTagKey: "role"}))
	if err != nil {
		t.Fatal(err)
	}
	want := flowlog.V11Format + " ${instance-tag} ${interface-tag}"
	if c.LogFormat != want || c.Format().Set().Has(flowlog.FieldExtra) {
		t.Errorf("LogFormat = %q; want %q", c.LogFormat, want)
	}
	for _, f := range []flowlog.Field{flowlog.FieldInterfaceType, flowlog.FieldNextHopInterfaceID, flowlog.FieldNextHopSubnetID,
		flowlog.FieldNextHopAZID, flowlog.FieldNextHopVPCID, flowlog.FieldNextHopInterfaceType, flowlog.FieldInstanceTag, flowlog.FieldInterfaceTag} {
		if !c.Format().Has(f) {
			t.Errorf("the v11 preset with tag keys lacks ${%s}", f)
		}
	}
	_, tp := newFlowLogs(t, flowlake.FlowLogsProps{Format: c.Format(), TagKeys: c.TagFieldSpecifications()})
	count(t, tp, "AWS::EC2::FlowLog", 6)
	for id, fl := range tp.resources("AWS::EC2::FlowLog") {
		if got := js(fl["TagFieldSpecifications"]); got != `[{"ResourceType":"instance","TagKeys":["team"]},{"ResourceType":"network-interface","TagKeys":["role"]}]` {
			t.Errorf("%s: TagFieldSpecifications = %s", id, got)
		}
		if fl["LogFormat"] != want {
			t.Errorf("%s: LogFormat = %v", id, fl["LogFormat"])
		}
	}
	// Without keys: no TagFieldSpecifications; a tag field needs its key.
	_, tp = newFlowLogs(t, flowlake.FlowLogsProps{})
	for id, fl := range tp.resources("AWS::EC2::FlowLog") {
		if fl["TagFieldSpecifications"] != nil {
			t.Errorf("%s: TagFieldSpecifications %s without tag keys", id, js(fl["TagFieldSpecifications"]))
		}
	}
	for _, kv := range []map[string]any{
		{flowlake.CtxLogFormat: "${version} ${instance-tag}"},
		{flowlake.CtxLogFormat: "${version} ${interface-tag}", flowlake.CtxInstanceTagKey: "team"},
		{flowlake.CtxInstanceTagKey: strings.Repeat("k", 129)},
		{flowlake.CtxLogFormat: "${version} ${interface-typ}"},
	} {
		kv[flowlake.CtxVPCs] = "vpc-0123456789abcdef0"
		if _, err := flowlake.ConfigFromContext(ctx(kv)); err == nil {
			t.Errorf("ConfigFromContext(%v) accepted", kv)
		} else if kv[flowlake.CtxLogFormat] == "${version} ${interface-typ}" && !strings.Contains(err.Error(), "${interface-type}") {
			t.Errorf("ConfigFromContext(%v) = %v; want the nearest field named", kv, err)
		}
	}
}
