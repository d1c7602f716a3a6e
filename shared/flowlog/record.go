package flowlog

import (
	"iter"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
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

	InterfaceType        string
	NextHopInterfaceID   string
	NextHopSubnetID      string
	NextHopAZID          string
	NextHopVPCID         string
	NextHopInterfaceType string
	InstanceTag          string
	InterfaceTag         string

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

	// Extra holds the values of the header columns this package does not
	// know (Format.Unknown), so that no column of a newer file is lost: the
	// column's name, a space and its value, for each column that was not
	// '-', in the format's order, separated by spaces (names and values
	// never hold one). It is "" when there are none, and FieldExtra is in
	// Set when it is not. ExtraFields and ExtraValue read it.
	Extra string
}

// Has reports whether field f carried a value (it is in the format and was
// not '-').
func (r *Record) Has(f Field) bool { return r.Set.Has(f) }

// ExtraFields returns the header columns of Extra and their values, in
// order.
func (r *Record) ExtraFields() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for s := r.Extra; s != ""; {
			name, rest, _ := strings.Cut(s, " ")
			value, rest, _ := strings.Cut(rest, " ")
			if !yield(name, value) {
				return
			}
			s = rest
		}
	}
}

// ExtraValue returns the value of the header column name in Extra.
func (r *Record) ExtraValue(name string) (string, bool) {
	for n, v := range r.ExtraFields() {
		if n == name {
			return v, true
		}
	}
	return "", false
}

// Int returns the value of an integer field (any kind but string and
// address), and whether it is set. Action and LogStatus return their enum.
func (r *Record) Int(f Field) (int64, bool) {
	if !r.Set.Has(f) {
		return 0, false
	}
	switch f.Kind() {
	case KindInt32:
		return int64(*field[int32](r, f)), true
	case KindPort:
		return int64(*field[uint16](r, f)), true
	case KindProtocol, KindAction, KindLogStatus:
		return int64(*field[uint8](r, f)), true
	case KindInt64:
		return *field[int64](r, f), true
	}
	return 0, false
}

// Addr returns the value of an address field and whether it is set.
func (r *Record) Addr(f Field) (netip.Addr, bool) {
	if !r.Set.Has(f) || f.Kind() != KindAddr {
		return netip.Addr{}, false
	}
	return *field[netip.Addr](r, f), true
}

// String returns the value of field f as AWS writes it, or "-" when it is
// null. String fields return the string itself without allocating.
func (r *Record) String(f Field) string {
	if !r.Set.Has(f) {
		return "-"
	}
	if f.Kind() == KindString {
		return *field[string](r, f)
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
		return append(dst, *field[string](r, f)...)
	case KindAddr:
		return field[netip.Addr](r, f).AppendTo(dst)
	case KindAction:
		return append(dst, r.Action.String()...)
	case KindLogStatus:
		return append(dst, r.LogStatus.String()...)
	}
	v, _ := r.Int(f)
	return strconv.AppendInt(dst, v, 10)
}

// AppendText appends the record as one line (without newline) in format
// fm. A column fm does not know takes its value from Extra, by name.
func (r *Record) AppendText(dst []byte, fm *Format) []byte {
	for i, f := range fm.fields {
		if i > 0 {
			dst = append(dst, ' ')
		}
		if f == FieldUnknown {
			v, ok := r.ExtraValue(fm.names[i])
			if !ok {
				v = "-"
			}
			dst = append(dst, v...)
			continue
		}
		dst = r.AppendField(dst, f)
	}
	return dst
}

// field returns a pointer to the struct field that holds f, whose Go type
// is T (see fieldAt).
func field[T any](r *Record, f Field) *T {
	return fieldAt[T](r, fieldOffset[f])
}

// fieldOffset maps each Field to the offset of its struct field in Record,
// matched by name ("pkt-src-aws-service" ~ PktSrcAWSService). The init check
// makes a field without its struct field, or of the wrong Go type, a panic
// at start-up rather than a silent bug.
var fieldOffset = func() (off [numFields]uintptr) {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s))
	}
	goKind := map[Kind]reflect.Kind{
		KindString: reflect.String, KindInt32: reflect.Int32, KindPort: reflect.Uint16,
		KindProtocol: reflect.Uint8, KindInt64: reflect.Int64, KindAddr: reflect.Struct,
		KindAction: reflect.Uint8, KindLogStatus: reflect.Uint8,
	}
	t := reflect.TypeFor[Record]()
	byName := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		byName[norm(t.Field(i).Name)] = t.Field(i)
	}
	for f := Field(1); f < numFields; f++ {
		sf, ok := byName[norm(f.String())]
		if !ok || sf.Type.Kind() != goKind[f.Kind()] {
			panic("flowlog: no Record field of the right type for " + f.String())
		}
		off[f] = sf.Offset
	}
	return off
}()
