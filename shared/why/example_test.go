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
		if !strings.Contains(sql, "is_pair") {
			return nil // no other interface of subnet-0b saw 10.0.0.10
		}
		// Each interface's records by log-status, action and whose side
		// they are on; the pair's also by direction, protocol and flags.
		row := func(eni, subnet string, kv ...string) detect.Row {
			r := detect.Row{"interface_id": eni, "subnet": subnet, "region": "us-east-1", "log_status": "OK"}
			for i := 0; i < len(kv); i += 2 {
				r[kv[i]] = kv[i+1]
			}
			return r
		}
		pair := func(eni, subnet, dir, action string) detect.Row {
			return row(eni, subnet, "action", action, "side", "request", "flow_dir", dir, "pair_protocol", "6", "pair_flags", "2",
				"records", "6", "packets", "18", "bytes", "1080", "first_start", "1795510830", "last_end", "1795511322")
		}
		return []detect.Row{
			row("eni-0a1", "subnet-0a", "action", "ACCEPT", "mine", "src", "records", "358"),
			row("eni-0a1", "subnet-0a", "action", "REJECT", "mine", "src", "records", "78"),
			pair("eni-0a1", "subnet-0a", "egress", "ACCEPT"),
			row("eni-0b2", "subnet-0b", "action", "ACCEPT", "mine", "dst", "records", "358"),
			row("eni-0b2", "subnet-0b", "action", "REJECT", "mine", "dst", "records", "88"),
			pair("eni-0b2", "subnet-0b", "ingress", "REJECT"),
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
