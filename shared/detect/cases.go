package detect

import (
	"net/netip"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/threatlist"
)

// Case is one of a rule's own examples: flows, and whether the rule must
// fire on them (and at which severity).
type Case struct {
	Name     string
	Fire     bool
	Severity finding.Severity // when Fire: the severity it must have ("" to not check)
	Flows    []F
	// Lists are the threat lists the case runs with: Config.ThreatLists
	// for the batch engine, the lake's threat_lists table for the lake
	// engine; nil for none.
	Lists []*threatlist.List
}

// CaseStart is the time the flows of every case are relative to.
var CaseStart = time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)

// Case account and interface defaults.
const (
	CaseAccount = "111122223333"
	CaseRegion  = "us-east-1"
	CaseENI     = "eni-0c0ffee0000000001"
)

// F is a flow of a case, written compactly; zero fields take defaults.
type F struct {
	Src, Dst         string
	SrcPort, DstPort int
	Proto            int    // 0: TCP
	Action           string // "": ACCEPT
	Packets, Bytes   int64  // 0: 10 packets of 100 bytes
	At               time.Duration
	Dir              string // flow_direction; "": NULL (a v2 record)
	ENI              string // "": CaseENI
	SkipData         bool   // a SKIPDATA record: no addresses, ports or counts
}

// Record returns the flow as a flow-log record.
func (f F) Record() flowlog.Record {
	start := CaseStart.Add(f.At).Unix()
	r := flowlog.Record{
		Version: 2, AccountID: CaseAccount, InterfaceID: f.ENI, Start: start, End: start + 30,
		Region: CaseRegion, LogStatus: flowlog.LogStatusOK,
	}
	if r.InterfaceID == "" {
		r.InterfaceID = CaseENI
	}
	var set flowlog.FieldSet
	for _, fl := range []flowlog.Field{flowlog.FieldVersion, flowlog.FieldAccountID, flowlog.FieldInterfaceID,
		flowlog.FieldStart, flowlog.FieldEnd, flowlog.FieldLogStatus, flowlog.FieldRegion} {
		set = set.With(fl)
	}
	if f.SkipData {
		r.LogStatus = flowlog.LogStatusSkipData
		r.Set = set
		return r
	}
	r.SrcAddr, r.DstAddr = netip.MustParseAddr(f.Src), netip.MustParseAddr(f.Dst)
	r.SrcPort, r.DstPort = uint16(f.SrcPort), uint16(f.DstPort)
	if r.SrcPort == 0 && f.Proto != 1 {
		r.SrcPort = 40000
	}
	r.Protocol = 6
	if f.Proto != 0 {
		r.Protocol = uint8(f.Proto)
	}
	r.Action = flowlog.ActionAccept
	if f.Action == "REJECT" {
		r.Action = flowlog.ActionReject
	}
	r.Packets, r.Bytes = f.Packets, f.Bytes
	if r.Packets == 0 {
		r.Packets = 10
	}
	if r.Bytes == 0 {
		r.Bytes = r.Packets * 100
	}
	for _, fl := range []flowlog.Field{flowlog.FieldSrcAddr, flowlog.FieldDstAddr, flowlog.FieldSrcPort,
		flowlog.FieldDstPort, flowlog.FieldProtocol, flowlog.FieldPackets, flowlog.FieldBytes, flowlog.FieldAction} {
		set = set.With(fl)
	}
	if f.Dir != "" {
		r.Version = 5
		r.FlowDirection = f.Dir
		set = set.With(flowlog.FieldFlowDirection)
	}
	r.Set = set
	return r
}

// Records returns the flows of a case as records.
func (c *Case) Records() []flowlog.Record {
	out := make([]flowlog.Record, len(c.Flows))
	for i, f := range c.Flows {
		out[i] = f.Record()
	}
	return out
}

// repeat returns n flows made by fn.
func repeat(n int, fn func(i int) F) []F {
	out := make([]F, n)
	for i := range out {
		out[i] = fn(i)
	}
	return out
}

// cat concatenates flow lists.
func cat(lists ...[]F) []F {
	var out []F
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
