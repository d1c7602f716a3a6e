package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func TestParseAWSExamples(t *testing.T) {
	code, out, errs := runCmd(t, "", "parse", "../../shared/flowlog/testdata/aws-examples.log")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	golden(t, "parse-aws-examples.golden", out)
}

func TestParseJSONTypes(t *testing.T) {
	in := "version srcaddr dstaddr bytes action tcp-flags pkt-src-aws-service\n" +
		"5 2001:db8::1 10.0.0.1 9223372036854775807 REJECT - S3\n"
	code, out, errs := runCmd(t, in, "parse")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"version": json.Number("5"), "srcaddr": "2001:db8::1", "dstaddr": "10.0.0.1",
		"bytes": json.Number("9223372036854775807"), "action": "REJECT", "tcp-flags": nil,
		"pkt-src-aws-service": "S3",
	}
	if len(m) != len(want) {
		t.Errorf("keys = %v; want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v; want %#v", k, m[k], v)
		}
	}
	// Keys come in the format's order.
	if !strings.HasPrefix(out, `{"version":5,"srcaddr":"2001:db8::1","dstaddr"`) {
		t.Errorf("order: %s", out)
	}
}

func TestParseRejectsAndGzip(t *testing.T) {
	dir := t.TempDir()
	good := "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n"
	bad := "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT BROKEN\n"
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(good + bad + good))
	zw.Close()
	path := filepath.Join(dir, "x.log.gz")
	if err := os.WriteFile(path, zipped.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, good+"2 x\n", "parse", path, "-")
	if code != 1 {
		t.Errorf("exit = %d; want 1", code)
	}
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("%d records; want 3:\n%s", n, out)
	}
	wantErrs := path + `:2: column 14: log-status: log-status not OK, NODATA or SKIPDATA ("BROKEN")` + "\n" +
		"-:2: record: wrong number of fields: got 2, want 14\n"
	if errs != wantErrs {
		t.Errorf("stderr = %q; want %q", errs, wantErrs)
	}
}

func TestParseFormatFlag(t *testing.T) {
	code, out, _ := runCmd(t, "443 10.0.0.9\n", "parse", "--format", "${dstport} ${srcaddr}")
	if code != 0 || out != `{"dstport":443,"srcaddr":"10.0.0.9"}`+"\n" {
		t.Errorf("exit %d, out %q", code, out)
	}
	for _, bad := range []string{"${nope}", "${version", "", "   "} {
		code, out, errs := runCmd(t, "", "parse", "--format="+bad)
		if code != 2 || out != "" || !strings.Contains(errs, "--format") {
			t.Errorf("--format=%q: exit %d, stderr %q; want 2 naming the problem", bad, code, errs)
		}
	}
}

// The version-11 fields parse and print; a misspelt one exits 2 naming the
// field meant; a header column no version defines prints by its name.
func TestParseVersion11(t *testing.T) {
	code, out, errs := runCmd(t, "11 interface eni-0f1e2d3c4b5a69788 regional_nat_gateway\n", "parse", "--format",
		"${version} ${interface-type} ${next-hop-interface-id} ${next-hop-interface-type}")
	if want := `{"version":11,"interface-type":"interface","next-hop-interface-id":"eni-0f1e2d3c4b5a69788","next-hop-interface-type":"regional_nat_gateway"}` + "\n"; code != 0 || out != want {
		t.Errorf("exit %d, out %q, stderr %q; want %q", code, out, errs, want)
	}
	code, _, errs = runCmd(t, "", "parse", "--format", "${version} ${interface-typ}")
	if code != 2 || !strings.Contains(errs, "${interface-type}") {
		t.Errorf("--format ${interface-typ}: exit %d, stderr %q; want 2 naming ${interface-type}", code, errs)
	}
	code, out, _ = runCmd(t, "version srcaddr asg-tag future-field\n11 10.0.0.1 web-asg -\n", "parse")
	if want := `{"version":11,"srcaddr":"10.0.0.1","asg-tag":"web-asg","future-field":null}` + "\n"; code != 0 || out != want {
		t.Errorf("unknown header columns: exit %d, out %q; want %q", code, out, want)
	}
}

func TestParseMissingFile(t *testing.T) {
	code, _, errs := runCmd(t, "", "parse", "does-not-exist.log")
	if code != 2 || !strings.Contains(errs, "does-not-exist.log") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestGenThenParse(t *testing.T) {
	for _, format := range []string{"default", "rich"} {
		code, out, errs := runCmd(t, "", "gen", "--records", "500", "--format", format, "--seed", "7")
		if code != 0 {
			t.Fatalf("gen: exit %d %s", code, errs)
		}
		code, parsed, errs := runCmd(t, out, "parse")
		if code != 0 || errs != "" {
			t.Fatalf("parse of gen %s: exit %d %s", format, code, errs)
		}
		if n := strings.Count(parsed, "\n"); n != 500 {
			t.Errorf("gen %s: %d records parsed; want 500", format, n)
		}
		_, again, _ := runCmd(t, "", "gen", "--records", "500", "--format", format, "--seed", "7")
		if again != out {
			t.Errorf("gen %s is not deterministic for a seed", format)
		}
	}
}

func TestParseEnrich(t *testing.T) {
	code, out, errs := runCmd(t, "", "parse", "--enrich", "../../shared/flowlog/testdata/aws-examples.log")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	golden(t, "parse-enrich.golden", out)
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	if !strings.Contains(out, `"protocol_name":"tcp","tcp_flag_names":["fin","syn-ack"],"src_ip_class":"public","dst_ip_class":"private","direction":"ingress"`) {
		t.Errorf("the v5 S3 example lacks its enrichment:\n%s", out)
	}
	// Without --enrich only the record's own fields are written.
	_, plain, _ := runCmd(t, "", "parse", "../../shared/flowlog/testdata/aws-examples.log")
	if strings.Contains(plain, "protocol_name") {
		t.Error("parse without --enrich wrote enrichment fields")
	}
}
