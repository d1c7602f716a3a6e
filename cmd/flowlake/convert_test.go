package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/lake"
)

const convertInput = `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
2 123456789010 eni-1235b8ca123456789 172.31.9.69 not-an-address 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK
2 123456789010 eni-1235b8ca123456789 2001:db8::1 2001:db8::2 34892 22 6 54 8589934592 1418530010 1418530070 ACCEPT OK
2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA
`

// TestConvertQuery converts a file with a bad line twice, then queries the
// lake as a table and as JSON.
func TestConvertQuery(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "flows.log")
	if err := os.WriteFile(in, []byte(convertInput), 0o644); err != nil {
		t.Fatal(err)
	}
	lakeDir := filepath.Join(dir, "lake")
	for run := range 2 {
		code, out, errs := runCmd(t, "", "convert", "--lake", lakeDir, in)
		if code != 1 {
			t.Errorf("run %d: convert exit %d; want 1 (a line was rejected)", run, code)
		}
		if want := in + ":3: column 5: dstaddr: "; !strings.HasPrefix(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("run %d: stderr %q; want one line starting %q", run, errs, want)
		}
		for _, want := range []string{"records     3\n", "rejected    1\n", "partitions  2\n", "records/s"} {
			if !strings.Contains(out, want) {
				t.Errorf("run %d: summary lacks %q:\n%s", run, want, out)
			}
		}
	}

	code, out, errs := runCmd(t, "", "query", "--lake", lakeDir,
		`SELECT log_status, count(*) AS n, sum(bytes) AS bytes FROM flows GROUP BY log_status ORDER BY log_status`)
	if code != 0 {
		t.Fatalf("query exit %d: %s", code, errs)
	}
	golden(t, "query-table.golden", out)

	code, out, errs = runCmd(t, "", "query", "--lake", lakeDir, "--json",
		`SELECT srcaddr, bytes, start_time, aws_account, hour, tcp_flags FROM flows WHERE srcaddr LIKE '2001%'`)
	if code != 0 {
		t.Fatalf("query --json exit %d: %s", code, errs)
	}
	var row map[string]any
	if err := json.Unmarshal([]byte(out), &row); err != nil {
		t.Fatalf("query --json output %q: %v", out, err)
	}
	want := `{"srcaddr":"2001:db8::1","bytes":8589934592,"start_time":"2014-12-14T04:06:50Z","aws_account":"123456789010","hour":"04","tcp_flags":null}` + "\n"
	if out != want {
		t.Errorf("query --json = %s; want %s", out, want)
	}
}

func TestQueryEmptyLake(t *testing.T) {
	code, _, errs := runCmd(t, "", "query", "--lake", t.TempDir(), "SELECT 1")
	if code != 1 || !strings.Contains(errs, "no Parquet files") {
		t.Errorf("query on an empty lake: exit %d, %q; want 1 and a clear message", code, errs)
	}
}

func TestDDL(t *testing.T) {
	code, out, errs := runCmd(t, "", "ddl", "--location", "s3://lake-bucket/flows", "--accounts", "123456789010", "--regions", "us-east-1")
	if code != 0 {
		t.Fatalf("ddl exit %d: %s", code, errs)
	}
	for _, want := range []string{"CREATE EXTERNAL TABLE IF NOT EXISTS `flows` (", "  `end` bigint", "LOCATION 's3://lake-bucket/flows/'",
		"'projection.aws_account.type'='enum'", "'projection.aws_account.values'='123456789010'",
		"'projection.aws_region.values'='us-east-1'", "'projection.day.format'='yyyy-MM-dd'"} {
		if !strings.Contains(out, want) {
			t.Errorf("ddl output lacks %q", want)
		}
	}
	if strings.Contains(out, "injected") {
		t.Error("ddl projects an injected key: every query that does not name it would fail")
	}
}

// TestDDLProjection: the accounts and regions come from a lake folder or
// the flags, never as an injected key (every saved query would fail), and
// a projection over Athena's partition limit is refused.
func TestDDLProjection(t *testing.T) {
	if code, _, errs := runCmd(t, "", "ddl"); code != 2 || !strings.Contains(errs, "--lake DIR or --accounts and --regions") {
		t.Errorf("ddl with no accounts: exit %d, %q; want 2 and what to give", code, errs)
	}
	dir := t.TempDir()
	for _, p := range []string{"aws_account=111122223333/aws_region=us-east-2/day=2026-11-20/hour=03",
		"aws_account=111122223333/aws_region=eu-west-1/day=2026-11-19/hour=23", "aws_account=444455556666/aws_region=us-east-2/day=2026-11-21/hour=00"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(p)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := runCmd(t, "", "ddl", "--lake", dir)
	if code != 0 {
		t.Fatalf("ddl --lake: exit %d: %s", code, errs)
	}
	for _, want := range []string{"'projection.aws_account.values'='111122223333,444455556666'",
		"'projection.aws_region.values'='eu-west-1,us-east-2'", "'projection.day.range'='2026-11-19,NOW'"} {
		if !strings.Contains(out, want) {
			t.Errorf("ddl --lake output lacks %q", want)
		}
	}
	code, _, errs = runCmd(t, "", "ddl", "--accounts", "1,2,3,4,5,6,7,8,9,10,11,12", "--regions", strings.Join(lake.Regions, ","))
	if code != 2 || !strings.Contains(errs, "partitions") || !strings.Contains(errs, "1000000") {
		t.Errorf("ddl over the partition limit: exit %d, %q; want 2 and the count", code, errs)
	}
}

// A gzip file cut in half keeps the records before the cut: convert exits
// 1, names the file and the offset, and the lake holds those records, the
// same ones when the file is converted again.
func TestConvertDamaged(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	if _, err := flowgen.Write(&gz, flowgen.Config{Seed: 3, Records: 50000, Header: true, Gzip: true}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "cut.log.gz")
	if err := os.WriteFile(in, gz.Bytes()[:gz.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	lakeDir := filepath.Join(dir, "lake")
	var kept string
	for run := range 2 {
		code, out, errs := runCmd(t, "", "convert", "--lake", lakeDir, in)
		want := fmt.Sprintf("%s: damaged at byte %d (line ", in, gz.Len()/2)
		if code != 1 || !strings.HasPrefix(errs, want) || !strings.Contains(errs, "records before it were converted") {
			t.Fatalf("run %d: convert exit %d, stderr %q; want 1 and %q…", run, code, errs, want)
		}
		n := out[strings.Index(out, "records "):]
		n = n[:strings.IndexByte(n, '\n')]
		var records int
		fmt.Sscanf(strings.TrimPrefix(n, "records"), "%d", &records)
		if records < 20000 || records >= 50000 {
			t.Errorf("run %d: %q; want about half the 50000 records", run, n)
		}
		if run == 0 {
			kept = n
		} else if n != kept {
			t.Errorf("run 2: %q; want %q, as the first", n, kept)
		}
	}
	code, out, errs := runCmd(t, "", "query", "--lake", lakeDir, "SELECT count(*) AS n FROM flows")
	if code != 0 || !strings.Contains(out, strings.TrimSpace(strings.TrimPrefix(kept, "records"))) {
		t.Errorf("query: exit %d, %q %s; want the %s", code, out, errs, kept)
	}
}

// A file whose header has columns no version defines converts with them
// kept in extra, and convert says once which they were.
func TestConvertKeepsUnknownColumns(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "new.log")
	text := "version interface-id srcaddr start end log-status next-hop-interface-type asg-tag\n" +
		"11 eni-1 10.0.0.1 1700000000 1700000060 OK regional_nat_gateway web-asg\n" +
		"11 eni-1 10.0.0.2 1700000000 1700000060 OK - -\n"
	if err := os.WriteFile(in, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	lakeDir := filepath.Join(dir, "lake")
	code, _, errs := runCmd(t, "", "convert", "--lake", lakeDir, in)
	if code != 0 || strings.Count(errs, "asg-tag") != 1 || !strings.Contains(errs, in+": kept the columns no flow-log version defines in extra: asg-tag") {
		t.Errorf("convert: exit %d, stderr %q; want 0 and one line naming asg-tag", code, errs)
	}
	code, out, errs := runCmd(t, "", "query", "--lake", lakeDir, "--json",
		`SELECT srcaddr, next_hop_interface_type, extra['asg-tag'] AS asg FROM flows ORDER BY srcaddr`)
	if want := `{"srcaddr":"10.0.0.1","next_hop_interface_type":"regional_nat_gateway","asg":"web-asg"}` + "\n" +
		`{"srcaddr":"10.0.0.2","next_hop_interface_type":null,"asg":null}` + "\n"; code != 0 || out != want {
		t.Errorf("query: exit %d, out %q, stderr %q; want %q", code, out, errs, want)
	}
}
