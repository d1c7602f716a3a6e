package pipeline

import (
	"context"
	"io"
	"net/netip"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/enrichtest"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

func TestLoadEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	e, err := LoadEnv(env(map[string]string{
		EnvLakeBucket: "lake", EnvFormat: "${srcaddr} ${dstaddr}", EnvMaxObjectBytes: "1000",
		EnvIPRanges: "s3://cfg/ip-ranges.json", EnvLogLevel: "debug", EnvRawPrefix: "/AWSLogs/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if e.LakePrefix != DefaultLakePrefix || e.RejectsPrefix != DefaultRejectsPrefix || e.Format.Len() != 2 ||
		e.Limits.MaxObjectBytes != 1000 || e.RawPrefix != "AWSLogs" || e.LogLevel.String() != "DEBUG" {
		t.Errorf("LoadEnv = %+v", e)
	}
	for _, tc := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{}, EnvLakeBucket},
		{map[string]string{EnvLakeBucket: "l", EnvFormat: "${nope}"}, EnvFormat},
		{map[string]string{EnvLakeBucket: "l", EnvMaxInflateRatio: "-1"}, EnvMaxInflateRatio},
		{map[string]string{EnvLakeBucket: "l", EnvIPRanges: "bucket/key"}, EnvIPRanges},
		{map[string]string{EnvLakeBucket: "l", EnvLakePrefix: "x", EnvRejectsPrefix: "x/"}, EnvRejectsPrefix},
	} {
		if _, err := LoadEnv(env(tc.kv)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadEnv(%v) = %v; want an error naming %s", tc.kv, err, tc.want)
		}
	}
}

// With FLOWLAKE_ENI_METADATA the functions' pipeline asks EC2 (through the
// real SDK client, here against a loopback server speaking EC2's query API)
// once per batch for the interfaces it sees, and writes the eni_* columns.
func TestEnvENIMetadata(t *testing.T) {
	srv := enrichtest.NewEC2Server(enrich.ENI{ID: "eni-1", InstanceID: "i-1", Type: "interface", VPCID: "vpc-1", SubnetID: "subnet-1"})
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	kv := map[string]string{EnvLakeBucket: "lake", EnvENIMetadata: "true", EnvEC2Endpoint: srv.URL}
	e, err := LoadEnv(func(k string) string { return kv[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !e.ENIMetadata {
		t.Fatal("ENIMetadata not set")
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Pipeline(Clients{S3: s3.NewFromConfig(awsCfg), EC2: ec2.NewFromConfig(awsCfg, e.EC2Options)}, "test", io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.EnrichGroups, enrich.GroupENI) {
		t.Errorf("EnrichGroups = %v; want the eni group", p.EnrichGroups)
	}
	p.Store = lake.DirStore{Root: t.TempDir()}
	in := "version interface-id srcaddr dstaddr start end log-status\n5 eni-1 10.0.0.1 10.0.0.2 1700000000 1700000060 OK\n5 eni-1 10.0.0.1 10.0.0.3 1700000000 1700000060 OK\n"
	res, err := p.Process(context.Background(), lake.Source{ID: "eni-test"}, flowlog.NewReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 2 || res.Enrichment.ENICalls != 1 || srv.Calls() != 1 || res.Enrichment.ENIUnavailable != 0 {
		t.Errorf("records %d, enrichment %+v, EC2 calls %d; want 2 records and one call", res.Records, res.Enrichment, srv.Calls())
	}
	if _, err := LoadEnv(func(k string) string { return map[string]string{EnvLakeBucket: "l", EnvENIMetadata: "maybe"}[k] }); err == nil {
		t.Errorf("LoadEnv accepted %s=maybe", EnvENIMetadata)
	}
}

// FLOWLAKE_GEOIP and FLOWLAKE_ASN name databases the function ships in its
// folder (LAMBDA_TASK_ROOT): the functions' pipeline writes the country and
// ASN columns from them, and a database the folder lacks fails LoadEnv
// naming the variable.
func TestEnvGeoIPASN(t *testing.T) {
	root := t.TempDir()
	p := netip.MustParsePrefix("81.2.69.0/24")
	if err := enrichtest.WriteMMDB(filepath.Join(root, "country.mmdb"), enrichtest.Network{Prefix: p, CountryCode: "GB"}); err != nil {
		t.Fatal(err)
	}
	if err := enrichtest.WriteMMDB(filepath.Join(root, "asn.mmdb"), enrichtest.Network{Prefix: p, ASN: 20712, Org: "Andrews & Arnold Ltd"}); err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{EnvLakeBucket: "lake", EnvGeoIP: "country.mmdb", EnvASN: "asn.mmdb", "LAMBDA_TASK_ROOT": root}
	e, err := LoadEnv(func(k string) string { return kv[k] })
	if err != nil {
		t.Fatal(err)
	}
	if e.GeoIPPath != filepath.Join(root, "country.mmdb") || e.ASNPath != filepath.Join(root, "asn.mmdb") {
		t.Errorf("paths %q %q; want them in LAMBDA_TASK_ROOT", e.GeoIPPath, e.ASNPath)
	}
	p2, err := e.Pipeline(Clients{S3: s3.New(s3.Options{Region: "us-east-1"})}, "test", io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p2.EnrichGroups, enrich.GroupGeoIP) || !slices.Contains(p2.EnrichGroups, enrich.GroupASN) {
		t.Errorf("EnrichGroups = %v; want geoip and asn", p2.EnrichGroups)
	}
	lakeDir := t.TempDir()
	p2.Store = lake.DirStore{Root: lakeDir}
	in := "version interface-id srcaddr dstaddr start end log-status\n5 eni-1 81.2.69.160 10.0.0.2 1700000000 1700000060 OK\n"
	var fields []enrich.Fields
	p2.NewDetector = func() Detector {
		return DetectFunc(func(_ context.Context, _ []flowlog.Record, enr []enrich.Fields) ([]finding.Finding, error) {
			fields = append(fields, enr...)
			return nil, nil
		})
	}
	if _, err := p2.Process(context.Background(), lake.Source{ID: "geo-test"}, flowlog.NewReader(strings.NewReader(in))); err != nil {
		t.Fatal(err)
	}
	if len(fields) != 1 || fields[0].SrcCountry != "GB" || fields[0].SrcASN != 20712 || fields[0].SrcASOrg != "Andrews & Arnold Ltd" {
		t.Errorf("enrichment %+v; want GB, AS20712", fields)
	}

	kv[EnvASN] = "missing.mmdb"
	if _, err := LoadEnv(func(k string) string { return kv[k] }); err == nil || !strings.Contains(err.Error(), EnvASN) {
		t.Errorf("LoadEnv with a missing ASN database = %v; want an error naming %s", err, EnvASN)
	}
}

// TestSetCloudWatchGC: GOGC becomes CloudWatchGCPercent unless the
// variable is set, and the restore puts back what was there.
func TestSetCloudWatchGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	restore := SetCloudWatchGC(func(string) string { return "" })
	if got := debug.SetGCPercent(CloudWatchGCPercent); got != CloudWatchGCPercent {
		t.Errorf("GOGC after SetCloudWatchGC = %d; want %d", got, CloudWatchGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after restore = %d; want 100", got)
	}
	SetCloudWatchGC(func(k string) string { return map[string]string{"GOGC": "50"}[k] })()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC with the variable set = %d; want it left at 100", got)
	}
}
