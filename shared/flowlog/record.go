package flowlog

import (
	"net/netip"
	"strconv"
)

// Action is the verdict of the security groups and network ACLs.
// The zero value means the record carried no action ('-').
type Action uint8

// Actions.
const (
	ActionNone Action = iota
	ActionAccept
	ActionReject
)

// String returns "ACCEPT", "REJECT" or "-".
func (a Action) String() string {
	switch a {
	case ActionAccept:
		return "ACCEPT"
	case ActionReject:
		return "REJECT"
	}
	return "-"
}

// LogStatus says whether the interval was logged. The zero value means the
// record carried no status ('-').
type LogStatus uint8

// Log statuses.
const (
	LogStatusNone LogStatus = iota
	LogStatusOK
	LogStatusNoData
	LogStatusSkipData
)

// String returns "OK", "NODATA", "SKIPDATA" or "-".
func (s LogStatus) String() string {
	switch s {
	case LogStatusOK:
		return "OK"
	case LogStatusNoData:
		return "NODATA"
	case LogStatusSkipData:
		return "SKIPDATA"
	}
	return "-"
}

// Record is one flow-log record. It is a plain value: strings are owned (the
// reader interns repeated values, so holding a Record is safe and reading one
// does not allocate in the common case).
//
// Set holds the fields that carried a value. A field outside Set was either
// absent from the format or '-' in the line; its struct field is the zero
// value. Use Has to tell a null from a real zero.
type Record struct {
	Set FieldSet

	Version     int32
	AccountID   string
	InterfaceID string
	SrcAddr     netip.Addr
	DstAddr     netip.Addr
	SrcPort     uint16
	DstPort     uint16
	Protocol    uint8
	Action      Action
	LogStatus   LogStatus
	Packets     int64
	Bytes       int64
	Start       int64
	End         int64

	VPCID      string
	SubnetID   string
	InstanceID string
	TCPFlags   int32
	Type       string
	PktSrcAddr netip.Addr
	PktDstAddr netip.Addr

	Region          string
	AZID            string
	SublocationType string
	SublocationID   string

	PktSrcAWSService string
	PktDstAWSService string
	FlowDirection    string
	TrafficPath      int32

	ECSClusterARN           string
	ECSClusterName          string
	ECSContainerInstanceARN string
	ECSContainerInstanceID  string
	ECSContainerID          string
	ECSSecondContainerID    string
	ECSServiceName          string
	ECSTaskDefinitionARN    string
	ECSTaskARN              string
	ECSTaskID               string

	RejectReason     string
	ResourceID       string
	EncryptionStatus int32

	ResourceType           string
	TGWID                  string
	TGWAttachmentID        string
	TGWSrcVPCAccountID     string
	TGWDstVPCAccountID     string
	TGWSrcVPCID            string
	TGWDstVPCID            string
	TGWSrcSubnetID         string
	TGWDstSubnetID         string
	TGWSrcENI              string
	TGWDstENI              string
	TGWSrcAZID             string
	TGWDstAZID             string
	TGWPairAttachmentID    string
	PacketsLostNoRoute     int64
	PacketsLostBlackhole   int64
	PacketsLostMTUExceeded int64
	PacketsLostTTLExpired  int64
}

// Has reports whether field f carried a value (it is in the format and was
// not '-').
func (r *Record) Has(f Field) bool { return r.Set.Has(f) }

// Int returns the value of an integer field (any kind but string and
// address), and whether it is set. Action and LogStatus return their enum.
func (r *Record) Int(f Field) (int64, bool) {
	if !r.Set.Has(f) {
		return 0, false
	}
	switch f {
	case FieldVersion:
		return int64(r.Version), true
	case FieldSrcPort:
		return int64(r.SrcPort), true
	case FieldDstPort:
		return int64(r.DstPort), true
	case FieldProtocol:
		return int64(r.Protocol), true
	case FieldPackets:
		return r.Packets, true
	case FieldBytes:
		return r.Bytes, true
	case FieldStart:
		return r.Start, true
	case FieldEnd:
		return r.End, true
	case FieldAction:
		return int64(r.Action), true
	case FieldLogStatus:
		return int64(r.LogStatus), true
	case FieldTCPFlags:
		return int64(r.TCPFlags), true
	case FieldTrafficPath:
		return int64(r.TrafficPath), true
	case FieldEncryptionStatus:
		return int64(r.EncryptionStatus), true
	case FieldPacketsLostNoRoute:
		return r.PacketsLostNoRoute, true
	case FieldPacketsLostBlackhole:
		return r.PacketsLostBlackhole, true
	case FieldPacketsLostMTUExceeded:
		return r.PacketsLostMTUExceeded, true
	case FieldPacketsLostTTLExpired:
		return r.PacketsLostTTLExpired, true
	}
	return 0, false
}

// Addr returns the value of an address field and whether it is set.
func (r *Record) Addr(f Field) (netip.Addr, bool) {
	if !r.Set.Has(f) {
		return netip.Addr{}, false
	}
	switch f {
	case FieldSrcAddr:
		return r.SrcAddr, true
	case FieldDstAddr:
		return r.DstAddr, true
	case FieldPktSrcAddr:
		return r.PktSrcAddr, true
	case FieldPktDstAddr:
		return r.PktDstAddr, true
	}
	return netip.Addr{}, false
}

// String returns the value of field f as AWS writes it, or "-" when it is
// null. String fields return the string itself without allocating.
func (r *Record) String(f Field) string {
	if !r.Set.Has(f) {
		return "-"
	}
	if p := r.strField(f); p != nil {
		return *p
	}
	return string(r.AppendField(nil, f))
}

// AppendField appends the text form of field f ("-" when null) to dst.
func (r *Record) AppendField(dst []byte, f Field) []byte {
	if !r.Set.Has(f) {
		return append(dst, '-')
	}
	switch f.Kind() {
	case KindString:
		return append(dst, *r.strField(f)...)
	case KindAddr:
		a, _ := r.Addr(f)
		return a.AppendTo(dst)
	case KindAction:
		return append(dst, r.Action.String()...)
	case KindLogStatus:
		return append(dst, r.LogStatus.String()...)
	}
	v, _ := r.Int(f)
	return strconv.AppendInt(dst, v, 10)
}

// AppendText appends the record as one line (without newline) in format fm.
func (r *Record) AppendText(dst []byte, fm *Format) []byte {
	for i, f := range fm.fields {
		if i > 0 {
			dst = append(dst, ' ')
		}
		if f == FieldUnknown {
			dst = append(dst, '-')
			continue
		}
		dst = r.AppendField(dst, f)
	}
	return dst
}

// strField returns a pointer to the string field f, or nil when f is not a
// string field.
func (r *Record) strField(f Field) *string {
	switch f {
	case FieldAccountID:
		return &r.AccountID
	case FieldInterfaceID:
		return &r.InterfaceID
	case FieldVPCID:
		return &r.VPCID
	case FieldSubnetID:
		return &r.SubnetID
	case FieldInstanceID:
		return &r.InstanceID
	case FieldType:
		return &r.Type
	case FieldRegion:
		return &r.Region
	case FieldAZID:
		return &r.AZID
	case FieldSublocationType:
		return &r.SublocationType
	case FieldSublocationID:
		return &r.SublocationID
	case FieldPktSrcAWSService:
		return &r.PktSrcAWSService
	case FieldPktDstAWSService:
		return &r.PktDstAWSService
	case FieldFlowDirection:
		return &r.FlowDirection
	case FieldECSClusterARN:
		return &r.ECSClusterARN
	case FieldECSClusterName:
		return &r.ECSClusterName
	case FieldECSContainerInstanceARN:
		return &r.ECSContainerInstanceARN
	case FieldECSContainerInstanceID:
		return &r.ECSContainerInstanceID
	case FieldECSContainerID:
		return &r.ECSContainerID
	case FieldECSSecondContainerID:
		return &r.ECSSecondContainerID
	case FieldECSServiceName:
		return &r.ECSServiceName
	case FieldECSTaskDefinitionARN:
		return &r.ECSTaskDefinitionARN
	case FieldECSTaskARN:
		return &r.ECSTaskARN
	case FieldECSTaskID:
		return &r.ECSTaskID
	case FieldRejectReason:
		return &r.RejectReason
	case FieldResourceID:
		return &r.ResourceID
	case FieldResourceType:
		return &r.ResourceType
	case FieldTGWID:
		return &r.TGWID
	case FieldTGWAttachmentID:
		return &r.TGWAttachmentID
	case FieldTGWSrcVPCAccountID:
		return &r.TGWSrcVPCAccountID
	case FieldTGWDstVPCAccountID:
		return &r.TGWDstVPCAccountID
	case FieldTGWSrcVPCID:
		return &r.TGWSrcVPCID
	case FieldTGWDstVPCID:
		return &r.TGWDstVPCID
	case FieldTGWSrcSubnetID:
		return &r.TGWSrcSubnetID
	case FieldTGWDstSubnetID:
		return &r.TGWDstSubnetID
	case FieldTGWSrcENI:
		return &r.TGWSrcENI
	case FieldTGWDstENI:
		return &r.TGWDstENI
	case FieldTGWSrcAZID:
		return &r.TGWSrcAZID
	case FieldTGWDstAZID:
		return &r.TGWDstAZID
	case FieldTGWPairAttachmentID:
		return &r.TGWPairAttachmentID
	}
	return nil
}
