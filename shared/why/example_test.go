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
		switch {
		case strings.Contains(sql, "AS side"): // the pair's records
			return []detect.Row{
				{"interface_id": "eni-0a1", "side": "request", "flow_dir": "egress", "action": "ACCEPT", "protocol": "6", "subnet": "subnet-0a",
					"records": "6", "packets": "18", "bytes": "1080", "first_start": "1795510830", "last_end": "1795511322", "flagged": "6", "syn": "1"},
				{"interface_id": "eni-0b2", "side": "request", "flow_dir": "ingress", "action": "REJECT", "protocol": "6", "subnet": "subnet-0b",
					"records": "6", "packets": "18", "bytes": "1080", "first_start": "1795510830", "last_end": "1795511318", "flagged": "6", "syn": "1"},
			}
		case strings.Contains(sql, "own_src"): // the interfaces of either address
			return []detect.Row{
				{"interface_id": "eni-0a1", "subnet": "subnet-0a", "region": "us-east-1", "ok": "448", "accepted": "370", "rejected": "78", "own_src": "210"},
				{"interface_id": "eni-0b2", "subnet": "subnet-0b", "region": "us-east-1", "ok": "452", "accepted": "358", "rejected": "94", "own_dst": "230"},
			}
		}
		return nil // no other interface of subnet-0b saw 10.0.0.10
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
