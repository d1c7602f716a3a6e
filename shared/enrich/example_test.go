package enrich_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowlog"
)

func ExampleEnricher_Enrich() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "enrich-example")
	defer os.RemoveAll(dir)
	ranges := filepath.Join(dir, "ip-ranges.json")
	_ = enrich.WriteIPRangesFile(ranges, &enrich.IPRanges{
		SyncToken: "1", CreateDate: "2026-11-24-00-00-00",
		Prefixes: []enrich.IPPrefix{{IPPrefix: "52.216.0.0/15", Region: "us-east-1", Service: "S3", NetworkBorderGroup: "us-east-1"}},
	})

	e, err := enrich.NewFromPaths(ctx, enrich.Paths{IPRanges: ranges})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	rec := flowlog.Record{
		SrcAddr: netip.MustParseAddr("10.0.1.45"), DstAddr: netip.MustParseAddr("52.216.8.9"),
		SrcPort: 49152, DstPort: 443, Protocol: 6, TCPFlags: 19, FlowDirection: "egress",
	}
	for _, f := range []flowlog.Field{flowlog.FieldSrcAddr, flowlog.FieldDstAddr, flowlog.FieldSrcPort,
		flowlog.FieldDstPort, flowlog.FieldProtocol, flowlog.FieldTCPFlags, flowlog.FieldFlowDirection} {
		rec.Set = rec.Set.With(f)
	}
	recs := []flowlog.Record{rec}
	out := make([]enrich.Fields, len(recs))
	e.Enrich(ctx, recs, out)
	for _, p := range out[0].AppendPairs(nil) {
		fmt.Printf("%s=%v\n", p.Name, p.Value)
	}
	// Output:
	// protocol_name=tcp
	// tcp_flag_names=[fin syn-ack]
	// src_ip_class=private
	// dst_ip_class=public
	// direction=egress
	// dst_service=https
	// peer_addr=52.216.8.9
	// dst_aws_service=S3
	// dst_aws_region=us-east-1
}

func ExampleColumns() {
	for _, c := range enrich.Columns()[:4] {
		fmt.Printf("%s %s\n", c.Name(), c.Type())
	}
	// Output:
	// protocol_name string
	// tcp_flag_names array<string>
	// src_ip_class string
	// dst_ip_class string
}
