package lake

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"

	goldenfile "github.com/flowlake/flowlake/shared/golden"
)

func TestDDLGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts TableOptions
	}{
		{"ddl_injected", TableOptions{Location: "s3://example-lake/flows"}},
		{"ddl_enum", TableOptions{Location: "s3://example-lake/flows/", Accounts: []string{"123456789012", "210987654321"}, Regions: []string{"us-east-1", "eu-west-1"}, FirstDay: "2026-01-01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			goldenfile.Check(t, tc.name+".golden", []byte(DDL(DefaultSchema.Table(tc.opts))))
		})
	}
}

func TestTableMatchesAthenaNames(t *testing.T) {
	tbl := DefaultSchema.Table(TableOptions{})
	types := map[string]string{}
	for _, c := range tbl.Columns {
		types[c.Name] = c.Type
	}
	for name, want := range map[string]string{
		"version": "int", "account_id": "string", "interface_id": "string", "srcaddr": "string",
		"dstaddr": "string", "srcport": "int", "dstport": "int", "protocol": "int", "packets": "bigint",
		"bytes": "bigint", "start": "bigint", "end": "bigint", "action": "string", "log_status": "string",
		"vpc_id": "string", "subnet_id": "string", "instance_id": "string", "tcp_flags": "int",
		"type": "string", "pkt_srcaddr": "string", "pkt_dstaddr": "string", "region": "string",
		"az_id": "string", "sublocation_type": "string", "sublocation_id": "string",
		"pkt_src_aws_service": "string", "pkt_dst_aws_service": "string", "flow_direction": "string",
		"traffic_path": "int", "ecs_cluster_arn": "string", "ecs_task_id": "string",
		"reject_reason": "string", "resource_id": "string", "encryption_status": "int",
		"tgw_id": "string", "packets_lost_no_route": "bigint", "start_time": "timestamp", "end_time": "timestamp",
		"interface_type": "string", "next_hop_interface_id": "string", "next_hop_subnet_id": "string", "next_hop_az_id": "string",
		"next_hop_vpc_id": "string", "next_hop_interface_type": "string", "instance_tag": "string", "interface_tag": "string",
		"extra": "map<string,string>",
	} {
		if types[name] != want {
			t.Errorf("column %s type = %q; want %q", name, types[name], want)
		}
	}
	if len(tbl.Columns) != flowlog.NumFields+3 {
		t.Errorf("got %d columns; want one per field (%d), start_time, end_time and extra", len(tbl.Columns), flowlog.NumFields)
	}
}

func TestNewSchemaChecks(t *testing.T) {
	str := func(*flowlog.Record, int) (string, bool) { return "", false }
	for _, tc := range []struct {
		col  Column
		want error
	}{
		{Column{Name: "Bad", Type: TypeString, Str: str}, ErrColumnName},
		{Column{Name: "day", Type: TypeString, Str: str}, ErrDuplicateColumn},
		{Column{Name: "srcaddr", Type: TypeString, Str: str}, ErrDuplicateColumn},
		{Column{Name: "x", Type: TypeInt, Str: str}, ErrAccessor},
		{Column{Name: "x", Type: TypeArrayString}, ErrAccessor},
	} {
		_, err := DefaultSchema.Extend(tc.col)
		if !errors.Is(err, tc.want) {
			t.Errorf("Extend(%s %v) = %v; want %v", tc.col.Name, tc.col.Type, err, tc.want)
		}
	}
}

func corpus(t testing.TB, n int, gz bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := flowgen.Write(&buf, flowgen.Config{Seed: 7, Records: n, Format: flowgen.RichFormat(), Header: true, Gzip: gz,
		Span: 3 * 3600e9})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lakeFiles returns the Parquet keys under dir and their total row count.
func lakeFiles(t *testing.T, dir string) ([]string, int64) {
	t.Helper()
	var keys []string
	var rows int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		keys = append(keys, filepath.ToSlash(rel))
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			return err
		}
		rows += pf.NumRows()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys, rows
}

var hiveKey = regexp.MustCompile(`^aws_account=\d{12}/aws_region=[a-z0-9-]+/day=\d{4}-\d\d-\d\d/hour=\d\d/[0-9a-f]{20}-\d{4}\.parquet$`)

func TestConvertIdempotent(t *testing.T) {
	in := corpus(t, 30_000, true)
	dir := t.TempDir()
	c := Converter{RowGroupRows: 4000, FileRows: 5_000, MaxOpen: 2}
	var sums []Summary
	var keys [][]string
	var rows []int64
	for range 2 {
		sum, err := c.Convert(context.Background(), DirStore{Root: dir}, Source{ID: "file:///corpus.log.gz"}, flowlog.NewReader(bytes.NewReader(in)))
		if err != nil {
			t.Fatal(err)
		}
		k, n := lakeFiles(t, dir)
		sums, keys, rows = append(sums, sum), append(keys, k), append(rows, n)
	}
	if sums[0].Records != 30_000 || rows[0] != 30_000 || rows[1] != 30_000 {
		t.Errorf("records %d, rows after 1st run %d, after 2nd %d; want 30000 each", sums[0].Records, rows[0], rows[1])
	}
	if !slices.Equal(keys[0], keys[1]) || !slices.Equal(sums[0].Keys, sums[1].Keys) || !slices.Equal(keys[0], sums[0].Keys) {
		t.Errorf("keys changed between runs:\n%v\n%v\nsummary %v", keys[0], keys[1], sums[0].Keys)
	}
	if len(sums[0].Partitions) < 3 {
		t.Errorf("partitions = %v; want the 3 hours of the corpus (or more)", sums[0].Partitions)
	}
	for _, k := range keys[0] {
		if !hiveKey.MatchString(k) {
			t.Errorf("key %q is not Hive-partitioned", k)
		}
	}
}

func TestConvertRejects(t *testing.T) {
	in := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n" +
		"2 123456789010 eni-1 172.31.16.139 not-an-ip 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n" +
		"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT\n" +
		"2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n"
	var seen []*flowlog.ParseError
	c := Converter{OnReject: func(pe *flowlog.ParseError) { seen = append(seen, pe) }}
	dir := t.TempDir()
	sum, err := c.Convert(context.Background(), DirStore{Root: dir}, Source{ID: "x"}, flowlog.NewReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 2 || sum.Rejected != 2 || len(sum.Rejects) != 2 || len(seen) != 2 {
		t.Fatalf("records %d rejected %d (%d listed, %d reported); want 2, 2", sum.Records, sum.Rejected, len(sum.Rejects), len(seen))
	}
	if pe := sum.Rejects[0]; pe.Line != 3 || pe.Field != "dstaddr" || !errors.Is(pe, flowlog.ErrAddr) {
		t.Errorf("reject 0 = %v; want line 3 dstaddr ErrAddr", pe)
	}
	if pe := sum.Rejects[1]; pe.Line != 4 || !errors.Is(pe, flowlog.ErrFieldCount) {
		t.Errorf("reject 1 = %v; want line 4 ErrFieldCount", pe)
	}
	if _, n := lakeFiles(t, dir); n != 2 {
		t.Errorf("lake holds %d rows; want 2", n)
	}
	// Two different days: two partitions.
	if len(sum.Partitions) != 2 {
		t.Errorf("partitions = %v; want 2", sum.Partitions)
	}
}

func TestPartitionPath(t *testing.T) {
	for _, tc := range []struct {
		p    Partition
		want string
	}{
		{Partition{"123456789012", "us-east-1", 1418530010 / 3600}, "aws_account=123456789012/aws_region=us-east-1/day=2014-12-14/hour=04"},
		{Partition{"", "a/b", 0}, "aws_account=unknown/aws_region=a%2Fb/day=1970-01-01/hour=00"},
	} {
		if got := tc.p.Path(); got != tc.want {
			t.Errorf("%+v.Path() = %q; want %q", tc.p, got, tc.want)
		}
	}
}

func TestParseAWSLogsKey(t *testing.T) {
	for _, tc := range []struct{ key, acct, region string }{
		{"p/AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz", "123456789012", "us-east-1"},
		{"AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/x.log.gz", "123456789012", "eu-west-1"},
		{"other/key.gz", "", ""},
	} {
		a, r := ParseAWSLogsKey(tc.key)
		if a != tc.acct || r != tc.region {
			t.Errorf("ParseAWSLogsKey(%q) = %q, %q; want %q, %q", tc.key, a, r, tc.acct, tc.region)
		}
	}
}
