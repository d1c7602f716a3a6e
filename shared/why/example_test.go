package why_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/why"
)

// lakeFunc is a detect.Querier made of a function, for the example: in
// the CLI it is DuckDB over a local lake (detect/duck), in AWS Athena
// (detect/athena).
type lakeFunc func(sql string) []detect.Row

func (f lakeFunc) Query(_ context.Context, sql string) ([]detect.Row, error) { return f(sql), nil }

func ExampleAsk() {
	lake := lakeFunc(func(sql string) []detect.Row {
		if !strings.Contains(sql, "per_interface") {
			return nil // no other interface of subnet-0b saw 10.0.0.10
		}
		// Each interface's other records, and the pair's records by
		// direction, interface and action.
		src := detect.Row{"interface_id": "eni-0a1", "subnet": "subnet-0a", "region": "us-east-1"}
		dst := detect.Row{"interface_id": "eni-0b2", "subnet": "subnet-0b", "region": "us-east-1"}
		row := func(base detect.Row, kv ...string) detect.Row {
			r := detect.Row{}
			for k, v := range base {
				r[k] = v
			}
			for i := 0; i < len(kv); i += 2 {
				r[kv[i]] = kv[i+1]
			}
			return r
		}
		pair := []string{"side", "request", "pair_protocol", "6", "records", "6", "packets", "18", "bytes", "1080",
			"first_start", "1795510830", "last_end", "1795511322", "flagged", "6", "syn", "1", "ok", "6"}
		return []detect.Row{
			row(src, "ok", "442", "accepted", "364", "rejected", "78", "own_src", "204"),
			row(src, append(pair, "flow_dir", "egress", "pair_action", "ACCEPT", "accepted", "6", "own_src", "6")...),
			row(dst, "ok", "446", "accepted", "358", "rejected", "88", "own_dst", "224"),
			row(dst, append(pair, "flow_dir", "ingress", "pair_action", "REJECT", "rejected", "6", "own_dst", "6")...),
		}
	})
	a, err := why.Ask(context.Background(), lake, why.Question{
		Src: netip.MustParseAddr("10.0.0.10"), Dst: netip.MustParseAddr("10.0.1.11"), Port: 5432, Protocol: 6,
		Since: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Verdict, a.Likely)
	fmt.Println(a.Summary)
	fmt.Println(a.Next[1])
	// Output:
	// blocked-inbound either
	// 10.0.1.11's interface eni-0b2 rejected the requests from 10.0.0.10 as they entered (6 records): a security group or the subnet's network ACL.
	// aws ec2 describe-network-acls --filters Name=association.subnet-id,Values=subnet-0b --query 'NetworkAcls[].Entries[?Egress==`false`]' --region us-east-1
}
