package enrich_test

import (
	"net/netip"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// testRecord returns a record with addresses, ports and protocol set.
func testRecord(src, dst string, sport, dport uint16, proto uint8) flowlog.Record {
	r := flowlog.Record{
		SrcAddr:  netip.MustParseAddr(src),
		DstAddr:  netip.MustParseAddr(dst),
		SrcPort:  sport,
		DstPort:  dport,
		Protocol: proto,
	}
	r.Set = r.Set.With(flowlog.FieldSrcAddr).With(flowlog.FieldDstAddr).
		With(flowlog.FieldSrcPort).With(flowlog.FieldDstPort).With(flowlog.FieldProtocol)
	return r
}

func withENI(r flowlog.Record, id string) flowlog.Record {
	r.InterfaceID = id
	r.Set = r.Set.With(flowlog.FieldInterfaceID)
	return r
}

func withDirection(r flowlog.Record, d string) flowlog.Record {
	r.FlowDirection = d
	r.Set = r.Set.With(flowlog.FieldFlowDirection)
	return r
}

func withFlags(r flowlog.Record, v int32) flowlog.Record {
	r.TCPFlags = v
	r.Set = r.Set.With(flowlog.FieldTCPFlags)
	return r
}
