package lakesql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

// edgeInput covers NULLs, IPv6, counters above 2^32, NODATA, and a second
// header switching to a format with the v7 ECS fields, reject-reason,
// resource-id, encryption-status and the transit-gateway fields, and one
// with the version-11 fields and columns no version defines (extra).
const edgeInput = `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status region
2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK us-east-1
2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA us-east-1
2 123456789010 eni-1235b8ca123456789 10.0.0.1 10.0.0.2 0 0 1 9223372036854775807 4294967296000 1432917027 1432917142 REJECT OK -
2 unknown eni-1235b8ca123456789 10.0.0.1 10.0.0.2 0 0 1 4294967297 5000000000 1432917027 1432917142 REJECT OK -
version account-id interface-id srcaddr dstaddr protocol packets bytes start end action log-status ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id reject-reason resource-id encryption-status tcp-flags traffic-path flow-direction
8 123456789010 eni-2 10.0.0.5 52.95.128.179 6 3 300 1700000000 1700000059 REJECT OK arn:aws:ecs:us-east-1:123456789010:cluster/c1 c1 - - 0123abcd - svc arn:aws:ecs:us-east-1:123456789010:task-definition/t:1 arn:aws:ecs:us-east-1:123456789010:task/c1/abc abc BPA eni-2 3 19 8 egress
version resource-type tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr packets bytes start end log-status packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired
6 TransitGateway tgw-1 tgw-attach-1 111111111111 222222222222 vpc-a vpc-b subnet-a subnet-b eni-a eni-b use1-az1 use1-az2 tgw-attach-2 10.1.0.1 10.2.0.1 10 1000 1700003600 1700003660 OK 1 2 3 4
version account-id interface-id srcaddr start end log-status interface-type next-hop-interface-id next-hop-subnet-id next-hop-az-id next-hop-vpc-id next-hop-interface-type instance-tag interface-tag asg-tag future-field
11 123456789010 eni-3 10.0.0.7 1700007200 1700007260 OK interface eni-4 subnet-c use1-az3 vpc-c regional_nat_gateway payments web web-asg 42
11 123456789010 eni-3 10.0.0.7 1700007200 1700007260 OK - - - - - - - - - 7
`

// render returns one row as text: the AWS text form of each field ("∅" for
// NULL), start_time and end_time in RFC 3339, extra, then the partition.
func renderRecord(r *flowlog.Record, src lake.Source) string {
	var b strings.Builder
	for _, f := range flowlog.Fields() {
		if r.Has(f) {
			b.WriteString(r.String(f))
		} else {
			b.WriteString("∅")
		}
		b.WriteByte('|')
	}
	for _, f := range []flowlog.Field{flowlog.FieldStart, flowlog.FieldEnd} {
		if v, ok := r.Int(f); ok {
			b.WriteString(time.Unix(v, 0).UTC().Format(time.RFC3339))
		} else {
			b.WriteString("∅")
		}
		b.WriteByte('|')
	}
	if r.Has(flowlog.FieldExtra) { // extra, as DuckDB casts a map to text
		var kvs []string
		for k, v := range r.ExtraFields() {
			kvs = append(kvs, k+"="+v)
		}
		fmt.Fprintf(&b, "{%s}", strings.Join(kvs, ", "))
	} else {
		b.WriteString("∅")
	}
	b.WriteByte('|')
	acct, region := src.Account, src.Region
	if acct == "" {
		acct = "unknown"
		if r.Has(flowlog.FieldAccountID) {
			acct = r.AccountID
		}
	}
	if region == "" {
		region = "unknown"
		if r.Has(flowlog.FieldRegion) {
			region = r.Region
		}
	}
	t := time.Unix(r.Start, 0).UTC()
	fmt.Fprintf(&b, "%s|%s|%s|%s", acct, region, t.Format(time.DateOnly), t.Format("15"))
	return b.String()
}

func renderValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "∅"
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

func readAll(t *testing.T, in []byte) []flowlog.Record {
	t.Helper()
	rd := flowlog.NewReader(bytes.NewReader(in))
	var recs []flowlog.Record
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

// TestRoundTrip writes a lake and reads it back with DuckDB through the
// flows view, comparing every column of every row with the reader's records.
func TestRoundTrip(t *testing.T) {
	var gen bytes.Buffer
	if _, err := flowgen.Write(&gen, flowgen.Config{Seed: 3, Records: 20_000, Format: flowgen.RichFormat(), Header: true, Gzip: true, Span: 2 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	var want []string
	for i, in := range [][]byte{[]byte(edgeInput), gen.Bytes()} {
		src := lake.Source{ID: fmt.Sprint("input-", i)}
		c := lake.Converter{RowGroupRows: 3000}
		sum, err := c.Convert(ctx, lake.DirStore{Root: dir}, src, flowlog.NewReader(bytes.NewReader(in)))
		if err != nil {
			t.Fatal(err)
		}
		if sum.Rejected != 0 {
			t.Fatalf("input %d: rejects %v", i, sum.Rejects)
		}
		for _, r := range readAll(t, in) {
			want = append(want, renderRecord(&r, src))
		}
	}

	db, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names []string
	for _, c := range lake.DefaultSchema.Columns() {
		if c.Type == lake.TypeMapStringString {
			names = append(names, `CAST("`+c.Name+`" AS VARCHAR)`)
			continue
		}
		names = append(names, `"`+c.Name+`"`)
	}
	names = append(names, lake.PartitionKeys()...)
	rows, err := db.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+" FROM flows")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = renderValue(v)
		}
		got = append(got, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if len(got) != len(want) {
		t.Fatalf("DuckDB returned %d rows; want %d", len(got), len(want))
	}
	bad := 0
	for i := range got {
		if got[i] != want[i] {
			if bad++; bad <= 5 {
				t.Errorf("row %d:\n got %s\nwant %s", i, got[i], want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d rows differ", bad, len(got))
	}

	// Types as Athena has them: partition keys stay strings.
	var typ string
	if err := db.QueryRowContext(ctx, `SELECT typeof("end") || ',' || typeof(srcport) || ',' || typeof(start_time) || ',' || typeof(hour) FROM flows LIMIT 1`).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if typ != "BIGINT,INTEGER,TIMESTAMP,VARCHAR" {
		t.Errorf("types = %s; want BIGINT,INTEGER,TIMESTAMP,VARCHAR", typ)
	}
}

func TestOpenEmptyLake(t *testing.T) {
	_, err := Open(context.Background(), t.TempDir(), nil)
	if !errors.Is(err, ErrEmptyLake) {
		t.Errorf("Open(empty) = %v; want ErrEmptyLake", err)
	}
}
