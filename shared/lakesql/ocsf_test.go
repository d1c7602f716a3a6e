package lakesql

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/ocsf"
)

// ocsfInputs are flow-log files of every record version, each with its
// header: AWS's documentation examples (VPC-EX in the shared facts) and
// records written for the mapping's conditions (packet addresses that
// differ from the interface's, every traffic path, both flow directions
// and none, NODATA and SKIPDATA, IPv6).
var ocsfInputs = []struct{ name, text string }{
	{"v2 default", `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK
2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA
2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA
2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK
`},
	{"v3 tcp flags, NAT and transit gateway", `version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status
3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK
3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 - eni-1235b8ca123456788 123456789010 IPv4 10.0.1.5 10.0.0.220 40000 443 10.0.1.5 203.0.113.5 6 1200 9 1566848875 1566848933 ACCEPT 19 OK
3 vpc-abcdefab012345678 subnet-11111111aaaaaaaaa - eni-11111111111111111 123456789010 IPv4 10.40.1.175 10.40.2.236 39812 80 10.20.33.164 10.40.2.236 6 300 3 1566848875 1566848933 REJECT 3 OK
3 vpc-abcdefab012345678 subnet-11111111aaaaaaaaa - eni-11111111111111111 123456789010 IPv6 2001:db8::1 2001:db8::2 39812 80 2001:db8::9 2001:db8::8 6 300 3 1566848875 1566848933 ACCEPT - OK
`},
	{"v4 region and sublocation", `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status region az-id sublocation-type sublocation-id
4 123456789010 eni-4 10.0.0.5 10.0.0.6 1025 53 17 2 120 1616729292 1616729349 ACCEPT OK us-west-2 usw2-az1 outpost op-0123456789abcdef0
4 123456789010 eni-4 10.0.0.5 10.0.0.7 1025 53 17 2 120 1616729292 1616729349 REJECT OK us-west-2 usw2-az1 - -
`},
	{"v5 directions and traffic paths", `version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status
5 52.95.128.179 10.0.0.71 80 34210 6 1616729292 1616729349 IPv4 14 15044 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 19 52.95.128.179 10.0.0.71 S3 - - ingress OK
5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK
5 10.0.0.9 10.0.0.8 5000 22 6 1616729292 1616729349 IPv4 3 180 123456789012 vpc-1 subnet-1 i-1 eni-1 ap-southeast-2 apse2-az3 - - REJECT 2 10.0.5.5 10.0.0.8 - - 1 egress OK
5 10.0.0.9 10.0.0.8 5000 22 6 1616729292 1616729349 IPv4 3 180 123456789012 vpc-1 subnet-1 i-1 eni-1 ap-southeast-2 apse2-az3 - - ACCEPT 2 10.0.0.9 10.0.0.8 - - 2 egress OK
5 10.0.0.9 10.0.0.8 5000 22 6 1616729292 1616729349 IPv4 3 180 123456789012 vpc-1 subnet-1 i-1 eni-1 ap-southeast-2 apse2-az3 - - ACCEPT 2 10.0.0.9 10.0.0.8 - - 3 egress OK
5 10.0.0.9 10.0.0.8 5000 22 6 1616729292 1616729349 IPv4 3 180 123456789012 vpc-1 subnet-1 i-1 eni-1 ap-southeast-2 apse2-az3 - - ACCEPT 2 10.0.0.9 10.0.0.8 - - 4 egress OK
5 10.0.0.9 10.0.0.8 5000 22 6 1616729292 1616729349 IPv4 3 180 123456789012 vpc-1 subnet-1 i-1 eni-1 ap-southeast-2 apse2-az3 - - ACCEPT 2 10.0.0.9 10.0.0.8 - - 5 egress OK
5 10.0.0.9 10.0.0.8 5000 22 6 1616729292 1616729349 IPv4 3 180 123456789012 vpc-1 subnet-1 i-1 eni-1 ap-southeast-2 apse2-az3 - - ACCEPT 2 10.0.0.9 10.0.0.8 - - 6 egress OK
5 10.0.0.9 10.0.0.8 5000 22 6 1616729292 1616729349 IPv4 3 180 123456789012 vpc-1 subnet-1 i-1 eni-1 ap-southeast-2 apse2-az3 - - ACCEPT 2 10.0.0.9 10.0.0.8 - - 7 egress OK
5 10.0.0.9 10.0.0.8 5000 22 6 1616729292 1616729349 IPv4 3 180 123456789012 vpc-1 subnet-1 i-1 eni-1 ap-southeast-2 apse2-az3 - - ACCEPT 2 10.0.0.9 10.0.0.8 - - 9 egress OK
5 198.51.100.7 10.0.0.8 443 5000 6 1616729292 1616729349 IPv4 3 180 123456789012 vpc-1 subnet-1 i-1 eni-1 ap-southeast-2 apse2-az3 wavelength wl-1 ACCEPT 18 198.51.100.7 10.0.7.7 - - - ingress OK
`},
	{"v6 transit gateway", `version resource-type tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr packets bytes start end log-status packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired
6 TransitGateway tgw-1 tgw-attach-1 111111111111 222222222222 vpc-a vpc-b subnet-a subnet-b eni-a eni-b use1-az1 use1-az2 tgw-attach-2 10.1.0.1 10.2.0.1 10 1000 1700003600 1700003660 OK 1 2 3 4
`},
	{"v7 ECS", `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id
7 123456789010 eni-7 10.0.0.5 10.0.0.6 40000 8080 6 5 500 1700000000 1700000059 ACCEPT OK ingress arn:aws:ecs:us-east-1:123456789010:cluster/c1 c1 arn:aws:ecs:us-east-1:123456789010:container-instance/c1/ci ci 0123abcd 4567efgh svc arn:aws:ecs:us-east-1:123456789010:task-definition/t:1 arn:aws:ecs:us-east-1:123456789010:task/c1/abc abc
`},
	{"v8 reject reason", `version account-id interface-id srcaddr dstaddr protocol packets bytes start end action log-status reject-reason resource-id encryption-status tcp-flags traffic-path flow-direction
8 123456789010 eni-2 10.0.0.5 52.95.128.179 6 3 300 1700000000 1700000059 REJECT OK BPA eni-2 3 19 8 egress
`},
	{"v11 next hop and tags", `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status interface-type next-hop-interface-id next-hop-subnet-id next-hop-az-id next-hop-vpc-id next-hop-interface-type instance-tag interface-tag flow-direction vpc-id subnet-id instance-id
11 123456789010 eni-3 10.0.0.7 203.0.113.9 40001 443 6 4 400 1700007200 1700007260 ACCEPT OK interface eni-4 subnet-c use1-az3 vpc-c regional_nat_gateway payments web egress vpc-3 subnet-3 i-3
11 123456789010 eni-3 10.0.0.7 203.0.113.9 40001 443 6 4 400 1700007200 1700007260 ACCEPT OK - - - - - - - - - - - -
`},
}

// ocsfWant is the OCSF event of one record as the published mapping
// describes it (ocsf.Dossier, ocsf.Pipeline, ocsf.Sample), computed here
// in Go, independently of the view's SQL: the JSON DuckDB's to_json
// writes of the view's row, with every field, NULL as nil.
func ocsfWant(r *flowlog.Record) map[string]any {
	col := map[string]flowlog.Field{}
	for _, f := range flowlog.Fields() {
		col[f.Column()] = f
	}
	str := func(name string) any {
		if f := col[name]; r.Has(f) {
			return r.String(f)
		}
		return nil
	}
	num := func(name string) any {
		if v, ok := r.Int(col[name]); ok {
			return v
		}
		return nil
	}
	ms := func(name string) any {
		if v, ok := r.Int(col[name]); ok {
			return v * 1000
		}
		return nil
	}
	dt := func(name string) any {
		if v, ok := r.Int(col[name]); ok {
			return time.Unix(v, 0).UTC().Format(time.DateTime)
		}
		return nil
	}
	action := str("action")
	pick := func(accept, reject, other any) any {
		switch action {
		case "ACCEPT":
			return accept
		case "REJECT":
			return reject
		}
		return other
	}
	dir := str("flow_direction")
	// "if pkt_srcaddr equals srcaddr": srcaddr; else pkt_srcaddr, and
	// srcaddr is the intermediate address.
	ep := func(side, svc, onDir string) map[string]any {
		ip, pkt := str(side+"addr"), str("pkt_"+side+"addr")
		var inter any
		if ip == nil {
			ip = pkt
		} else if pkt != nil && pkt != ip {
			ip, inter = pkt, []any{ip}
		}
		m := map[string]any{"ip": ip, "port": num(side + "port"), "svc_name": str(svc), "intermediate_ips": inter}
		for k, c := range map[string]string{"interface_uid": "interface_id", "vpc_uid": "vpc_id", "instance_uid": "instance_id", "subnet_uid": "subnet_id"} {
			m[k] = nil
			if dir == onDir {
				m[k] = str(c)
			}
		}
		return m
	}
	var boundaryID, boundary any
	if tp, ok := num("traffic_path").(int64); ok {
		captions := []string{"Same VPC", "Internet/VPC Gateway", "Virtual Private Gateway", "Intra-region VPC", "Inter-region VPC",
			"Local Gateway", "Gateway VPC", "Internet Gateway"}
		if tp >= 1 && tp <= 8 {
			boundaryID, boundary = tp+3, captions[tp-1]
		} else {
			boundaryID, boundary = int64(99), fmt.Sprint(tp)
		}
	}
	directionID, direction := int64(0), "Unknown"
	switch dir {
	case "ingress":
		directionID, direction = 1, "Inbound"
	case "egress":
		directionID, direction = 2, "Outbound"
	}
	unmapped := map[string]any{}
	for _, c := range ocsf.Unmapped {
		if v := str(c); v != nil {
			unmapped[c] = v
		}
	}
	if dir != "ingress" && dir != "egress" {
		for _, c := range []string{"interface_id", "vpc_id", "instance_id", "subnet_id"} {
			if v := str(c); v != nil {
				unmapped[c] = v
			}
		}
	}
	var productVersion any
	if v, ok := num("version").(int64); ok {
		productVersion = fmt.Sprint(v)
	}
	return map[string]any{
		"activity_id": pick(6, 5, 0), "activity_name": pick("Traffic", "Refuse", "Unknown"),
		"category_uid": 4, "category_name": "Network Activity", "class_uid": 4001, "class_name": "Network Activity",
		"type_uid": pick(400106, 400105, 400100), "type_name": "Network Activity: " + pick("Traffic", "Refuse", "Unknown").(string),
		"severity_id": 1, "severity": "Informational",
		"action_id": pick(1, 2, 0), "action": pick("Allowed", "Denied", "Unknown"),
		"disposition_id": pick(1, 2, 0), "disposition": pick("Allowed", "Blocked", "Unknown"),
		"status_id": pick(1, 2, 0), "status": pick("Success", "Failure", "Unknown"),
		"status_code": str("log_status"),
		"time":        ms("start"), "time_dt": dt("start"),
		"start_time": ms("start"), "start_time_dt": dt("start"),
		"end_time": ms("end"), "end_time_dt": dt("end"),
		"metadata": map[string]any{
			"product":  map[string]any{"name": "Amazon VPC", "vendor_name": "AWS", "version": productVersion, "feature": map[string]any{"name": "Flowlogs"}},
			"profiles": []any{"cloud", "security_control", "datetime"}, "version": "1.1.0",
		},
		"cloud":        map[string]any{"account": map[string]any{"uid": str("account_id")}, "provider": "AWS", "region": str("region"), "zone": str("az_id")},
		"src_endpoint": ep("src", "pkt_src_aws_service", "egress"),
		"dst_endpoint": ep("dst", "pkt_dst_aws_service", "ingress"),
		"connection_info": map[string]any{
			"protocol_num": num("protocol"), "protocol_ver": str("type"), "tcp_flags": num("tcp_flags"),
			"boundary_id": boundaryID, "boundary": boundary, "direction_id": directionID, "direction": direction,
		},
		"traffic":  map[string]any{"bytes": num("bytes"), "packets": num("packets")},
		"unmapped": unmapped,
	}
}

// canonical returns v as JSON with sorted keys and numbers as written.
func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOCSFView writes a lake from records of every version and checks
// each row of flows_ocsf, field by field, against what the published
// mapping makes of the record it came from (ocsfWant), then that the
// records cover what the mapping's conditions tell apart.
func TestOCSFView(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var want []string
	versions := map[int64]bool{}
	seen := map[string]bool{}
	for i, in := range ocsfInputs {
		c := lake.Converter{}
		sum, err := c.Convert(ctx, lake.DirStore{Root: dir}, lake.Source{ID: fmt.Sprint("ocsf-", i)}, flowlog.NewReader(strings.NewReader(in.text)))
		if err != nil {
			t.Fatalf("%s: %v", in.name, err)
		}
		if sum.Rejected != 0 {
			t.Fatalf("%s: rejects %v", in.name, sum.Rejects)
		}
		for _, r := range readAll(t, []byte(in.text)) {
			v, _ := r.Int(flowlog.FieldVersion)
			versions[v] = true
			w := ocsfWant(&r)
			src, dst := w["src_endpoint"].(map[string]any), w["dst_endpoint"].(map[string]any)
			ci := w["connection_info"].(map[string]any)
			for cond, ok := range map[string]bool{
				"src intermediate":   src["intermediate_ips"] != nil,
				"dst intermediate":   dst["intermediate_ips"] != nil,
				"src interface":      src["interface_uid"] != nil,
				"dst interface":      dst["interface_uid"] != nil,
				"interface unmapped": w["unmapped"].(map[string]any)["interface_id"] != nil,
				"boundary 99":        ci["boundary_id"] == int64(99),
				"activity 6":         w["activity_id"] == 6,
				"activity 5":         w["activity_id"] == 5,
				"activity 0":         w["activity_id"] == 0,
				"no direction":       ci["direction_id"] == int64(0),
			} {
				seen[cond] = seen[cond] || ok
			}
			want = append(want, canonical(t, w))
		}
	}
	for _, v := range []int64{2, 3, 4, 5, 6, 7, 8, 11} {
		if !versions[v] {
			t.Errorf("no record of version %d", v)
		}
	}
	for cond, ok := range seen {
		if !ok {
			t.Errorf("no record where %s", cond)
		}
	}

	db, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Every column of the view but the partition keys, which are the
	// flows' (checked below).
	var cols []string
	for _, f := range ocsf.Fields() {
		if !slices.Contains(lake.PartitionKeys(), f.Name) {
			cols = append(cols, `"`+f.Name+`"`)
		}
	}
	rows, err := db.QueryContext(ctx, "SELECT CAST(to_json(struct_pack("+strings.Join(func() []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = c + " := " + c
		}
		return out
	}(), ", ")+")) AS VARCHAR) FROM flows_ocsf")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		var m any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		got = append(got, canonical(t, m))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if len(got) != len(want) {
		t.Fatalf("flows_ocsf has %d rows; want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}

	// The partition keys are the flows': the view prunes as the table does.
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (
		SELECT aws_account, aws_region, day, hour, "start" * 1000 AS t FROM flows
		EXCEPT ALL SELECT aws_account, aws_region, day, hour, "time" FROM flows_ocsf)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows of flows have no row of flows_ocsf with their partition keys", n)
	}
}

// TestOCSFSample checks the view against the published sample: the
// dossier's raw record (ocsf/examples,
// mappings/dataprepper/AWS/v1.1.0/VPC Flow/samples/vpcflowlog.raw, as a
// v5 line) and the values of its OCSF event (ocsf.Sample). The sample's
// boundary_id 99 with boundary "-" for traffic_path "-", and its
// svc_name and unmapped values of "-", are the raw text: the lake reads
// "-" as NULL, so the view leaves them NULL.
func TestOCSFSample(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := `version account-id action az-id bytes dstaddr dstport end flow-direction instance-id interface-id log-status packets pkt-dst-aws-service pkt-dstaddr pkt-src-aws-service pkt-srcaddr protocol region srcaddr srcport start sublocation-type sublocation-id subnet-id tcp-flags traffic-path type vpc-id
5 123456789012 REJECT use1-az1 40 172.31.2.52 39938 1649721788 ingress i-000000000000000000 eni-000000000000000000 OK 1 - 172.31.2.52 - 1.2.3.4 6 us-east-1 1.2.3.4 56858 1649721732 - - subnet-000000000000000000 2 - IPv4 vpc-00000000
`
	if _, err := (&lake.Converter{}).Convert(ctx, lake.DirStore{Root: dir}, lake.Source{ID: "sample"}, flowlog.NewReader(strings.NewReader(in))); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct{ expr, want string }{
		{"metadata.product.version", "5"},
		{"metadata.product.name", "Amazon VPC"},
		{"metadata.product.feature.name", "Flowlogs"},
		{"metadata.product.vendor_name", "AWS"},
		{"cloud.account.uid", "123456789012"},
		{"cloud.region", "us-east-1"},
		{"cloud.zone", "use1-az1"},
		{"cloud.provider", "AWS"},
		{"src_endpoint.port", "56858"},
		{"src_endpoint.ip", "1.2.3.4"},
		{"dst_endpoint.port", "39938"},
		{"dst_endpoint.ip", "172.31.2.52"},
		{"dst_endpoint.interface_uid", "eni-000000000000000000"},
		{"dst_endpoint.vpc_uid", "vpc-00000000"},
		{"dst_endpoint.instance_uid", "i-000000000000000000"},
		{"dst_endpoint.subnet_uid", "subnet-000000000000000000"},
		{"connection_info.protocol_num", "6"},
		{"connection_info.tcp_flags", "2"},
		{"connection_info.protocol_ver", "IPv4"},
		{"connection_info.direction_id", "1"},
		{"connection_info.direction", "Inbound"},
		{"traffic.packets", "1"},
		{"traffic.bytes", "40"},
		{"time", "1649721732000"},
		{"start_time", "1649721732000"},
		{"end_time", "1649721788000"},
		{"status_code", "OK"},
		{"severity_id", "1"},
		{"severity", "Informational"},
		{"class_name", "Network Activity"},
		{"class_uid", "4001"},
		{"category_name", "Network Activity"},
		{"category_uid", "4"},
		{"activity_name", "Refuse"},
		{"activity_id", "5"},
		{"disposition", "Blocked"},
		{"disposition_id", "2"},
		{"type_uid", "400105"},
		{"type_name", "Network Activity: Refuse"},
		{"metadata.version", "1.1.0"},
	} {
		var got string
		if err := db.QueryRowContext(ctx, "SELECT CAST("+tc.expr+" AS VARCHAR) FROM flows_ocsf").Scan(&got); err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got != tc.want {
			t.Errorf("%s = %q; want %q (the published sample)", tc.expr, got, tc.want)
		}
	}
}
