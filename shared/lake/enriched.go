package lake

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"unsafe"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/parquet-go/parquet-go"
)

// TableSchema is the whole table: the flow-log columns of DefaultSchema,
// then the enrichment columns. It is what the Glue table, the Athena DDL and
// the DuckDB view describe. Its enrichment accessors read nothing (NULL);
// a conversion that enriches (pipeline.Pipeline) writes with
// EnrichColumns over the enrichment its hook computed instead.
var TableSchema = func() *Schema {
	s, err := DefaultSchema.Extend(EnrichColumns(nil, nil)...)
	if err != nil {
		panic(err)
	}
	return s
}()

// EnrichColumns returns the lake columns of enrichment, in enrich's column
// order, restricted to groups when it is not nil. *fields is the enrichment
// of the group being encoded, by the record's index in it (the hook fills
// it); a nil fields gives columns that are always NULL (for table
// definitions).
func EnrichColumns(fields *[]enrich.Fields, groups []string) []Column {
	var cols []Column
	for _, c := range enrich.Columns() {
		if groups != nil && !slices.Contains(groups, c.Group()) {
			continue
		}
		cols = append(cols, enrichColumn(c, fields))
	}
	return cols
}

// enrichDependsOn is the flow-log field without which a column is NULL, so
// files whose format lacks it leave the column out.
var enrichDependsOn = map[enrich.Column]flowlog.Field{
	enrich.ColProtocolName:  flowlog.FieldProtocol,
	enrich.ColTCPFlagNames:  flowlog.FieldTCPFlags,
	enrich.ColSrcIPClass:    flowlog.FieldSrcAddr,
	enrich.ColDstIPClass:    flowlog.FieldDstAddr,
	enrich.ColSrcAWSService: flowlog.FieldSrcAddr,
	enrich.ColSrcAWSRegion:  flowlog.FieldSrcAddr,
	enrich.ColDstAWSService: flowlog.FieldDstAddr,
	enrich.ColDstAWSRegion:  flowlog.FieldDstAddr,
	enrich.ColSrcCountry:    flowlog.FieldSrcAddr,
	enrich.ColDstCountry:    flowlog.FieldDstAddr,
	enrich.ColSrcASN:        flowlog.FieldSrcAddr,
	enrich.ColDstASN:        flowlog.FieldDstAddr,
	enrich.ColSrcASOrg:      flowlog.FieldSrcAddr,
	enrich.ColDstASOrg:      flowlog.FieldDstAddr,
}

func enrichColumn(c enrich.Column, fields *[]enrich.Fields) Column {
	col := Column{Name: c.Name(), Doc: c.Doc(), Field: enrichDependsOn[c], Hooked: fields != nil}
	if c.Group() == enrich.GroupENI {
		col.Field = flowlog.FieldInterfaceID
	}
	if fields == nil {
		// Always NULL: every row reads the same empty Fields.
		none := make([]enrich.Fields, 1)
		fields = &none
		col := enrichColumn(c, fields)
		col.Hooked = false
		return nullAccessors(col)
	}
	get := func(i int) *enrich.Fields { return &(*fields)[i] }
	switch c.Type() {
	case "string":
		col.Type, col.Encoding = TypeString, EncodingDict
		switch c {
		case enrich.ColPeerAddr:
			col.AppendStr = func(dst []byte, _ *flowlog.Record, i int) ([]byte, bool) {
				f := &(*fields)[i]
				if !f.Has(c) {
					return dst, false
				}
				return f.PeerAddr.AppendTo(dst), true
			}
			// Peers repeat heavily (a few services, NAT gateways, the same
			// clients): their text comes from a small cache of this
			// conversion's recent peers instead of being formatted each time.
			cache := new([peerCacheSlots]struct {
				a netip.Addr
				s string
			})
			col.values = func(vals []parquet.Value, idx []int32) {
				fs := *fields
				for i, k := range idx {
					f := &fs[k]
					if !f.Set.Has(c) {
						vals[i] = parquet.Value{}
						continue
					}
					e := &cache[addrSlot(f.PeerAddr)]
					if e.a != f.PeerAddr || e.s == "" {
						e.a, e.s = f.PeerAddr, f.PeerAddr.String()
					}
					vals[i] = parquet.ByteArrayValue(bytesOf(e.s))
					vals[i].SetDefinitionLevel(1)
				}
			}
		default:
			// One pass per chunk over the group's fields, reading the
			// string (or the enum's name) at its offset in Fields.
			var zero enrich.Fields
			var off uintptr
			var names *[256]string // for the enum columns
			switch c {
			case enrich.ColSrcIPClass, enrich.ColDstIPClass:
				p := &zero.SrcIPClass
				if c == enrich.ColDstIPClass {
					p = &zero.DstIPClass
				}
				off = uintptr(unsafe.Pointer(p)) - uintptr(unsafe.Pointer(&zero))
				names = new([256]string)
				for v := range names {
					names[v] = enrich.IPClass(v).String()
				}
			case enrich.ColDirection:
				off = uintptr(unsafe.Pointer(&zero.Direction)) - uintptr(unsafe.Pointer(&zero))
				names = new([256]string)
				for v := range names {
					names[v] = enrich.Direction(v).String()
				}
			default:
				off = uintptr(unsafe.Pointer(stringField(c)(&zero))) - uintptr(unsafe.Pointer(&zero))
			}
			str := func(f *enrich.Fields) string {
				if names != nil {
					return names[*(*uint8)(unsafe.Add(unsafe.Pointer(f), off))]
				}
				return *(*string)(unsafe.Add(unsafe.Pointer(f), off))
			}
			col.Str = func(_ *flowlog.Record, i int) (string, bool) {
				f := &(*fields)[i]
				return str(f), f.Has(c)
			}
			bit := enrich.ColumnSet(1) << c
			if names != nil {
				col.values = func(vals []parquet.Value, idx []int32) {
					fs := *fields
					vals = vals[:len(idx)]
					for i, k := range idx {
						f := &fs[k]
						if f.Set&bit == 0 {
							vals[i] = parquet.Value{}
							continue
						}
						vals[i] = parquet.ByteArrayValue(bytesOf(names[*(*uint8)(unsafe.Add(unsafe.Pointer(f), off))]))
						vals[i].SetDefinitionLevel(1)
					}
				}
			} else {
				col.values = func(vals []parquet.Value, idx []int32) {
					fs := *fields
					vals = vals[:len(idx)]
					for i, k := range idx {
						f := &fs[k]
						if f.Set&bit == 0 {
							vals[i] = parquet.Value{}
							continue
						}
						vals[i] = parquet.ByteArrayValue(bytesOf(*(*string)(unsafe.Add(unsafe.Pointer(f), off))))
						vals[i].SetDefinitionLevel(1)
					}
				}
			}
		}
	case "bigint":
		col.Type = TypeBigInt
		col.Int = func(_ *flowlog.Record, i int) (int64, bool) {
			f := get(i)
			if c == enrich.ColSrcASN {
				return f.SrcASN, f.Has(c)
			}
			return f.DstASN, f.Has(c)
		}
	case "array<string>":
		col.Type, col.Encoding = TypeArrayString, EncodingDict
		elems := func(f *enrich.Fields) []string {
			if c == enrich.ColTCPFlagNames {
				return f.TCPFlagNames
			}
			return f.ENISecurityGroupIDs
		}
		col.List = func(dst []string, _ *flowlog.Record, i int) ([]string, bool) {
			f := get(i)
			if !f.Has(c) {
				return dst, false
			}
			return append(dst, elems(f)...), true
		}
		// The fast path: a chunk's levelled values in one call.
		col.listValues = func(vals []parquet.Value, idx []int32, li int) []parquet.Value {
			fs := *fields
			null, empty := parquet.NullValue().Level(0, 0, li), parquet.NullValue().Level(0, 1, li)
			for _, k := range idx {
				f := &fs[k]
				switch {
				case !f.Set.Has(c):
					vals = append(vals, null)
				case len(elems(f)) == 0:
					vals = append(vals, empty)
				default:
					for j, s := range elems(f) {
						vals = append(vals, parquet.ByteArrayValue(bytesOf(s)).Level(min(j, 1), 2, li))
					}
				}
			}
			return vals
		}
	case "map<string,string>":
		col.Type, col.Encoding = TypeMapStringString, EncodingDict
		col.Map = func(dst []KV, _ *flowlog.Record, i int) ([]KV, bool) {
			f := get(i)
			if !f.Has(c) {
				return dst, false
			}
			n := len(dst)
			for k, v := range f.ENITags {
				dst = append(dst, KV{k, v})
			}
			slices.SortFunc(dst[n:], func(a, b KV) int { return strings.Compare(a.Key, b.Key) })
			return dst, true
		}
	default:
		panic("lake: enrichment column " + c.Name() + " has unknown type " + c.Type())
	}
	return col
}

const peerCacheSlots = 1024

// addrSlot hashes an address to a slot of a peer cache.
func addrSlot(a netip.Addr) int {
	b := a.As16()
	h := binary.LittleEndian.Uint64(b[:8]) ^ binary.LittleEndian.Uint64(b[8:])*0x9E3779B97F4A7C15
	return int((h * 0xC2B2AE3D27D4EB4F) >> (64 - 10))
}

// nullAccessors wraps the accessors of c so that every row reads index 0.
func nullAccessors(c Column) Column {
	c.values, c.listValues = nil, nil
	if str := c.Str; str != nil {
		c.Str = func(r *flowlog.Record, _ int) (string, bool) { return str(r, 0) }
	}
	if app := c.AppendStr; app != nil {
		c.AppendStr = func(dst []byte, r *flowlog.Record, _ int) ([]byte, bool) { return app(dst, r, 0) }
	}
	if in := c.Int; in != nil {
		c.Int = func(r *flowlog.Record, _ int) (int64, bool) { return in(r, 0) }
	}
	if list := c.List; list != nil {
		c.List = func(dst []string, r *flowlog.Record, _ int) ([]string, bool) { return list(dst, r, 0) }
	}
	if m := c.Map; m != nil {
		c.Map = func(dst []KV, r *flowlog.Record, _ int) ([]KV, bool) { return m(dst, r, 0) }
	}
	return c
}

// stringField returns the accessor of a plain string enrichment column.
func stringField(c enrich.Column) func(f *enrich.Fields) *string {
	switch c {
	case enrich.ColProtocolName:
		return func(f *enrich.Fields) *string { return &f.ProtocolName }
	case enrich.ColSrcService:
		return func(f *enrich.Fields) *string { return &f.SrcService }
	case enrich.ColDstService:
		return func(f *enrich.Fields) *string { return &f.DstService }
	case enrich.ColSrcAWSService:
		return func(f *enrich.Fields) *string { return &f.SrcAWSService }
	case enrich.ColSrcAWSRegion:
		return func(f *enrich.Fields) *string { return &f.SrcAWSRegion }
	case enrich.ColDstAWSService:
		return func(f *enrich.Fields) *string { return &f.DstAWSService }
	case enrich.ColDstAWSRegion:
		return func(f *enrich.Fields) *string { return &f.DstAWSRegion }
	case enrich.ColSrcCountry:
		return func(f *enrich.Fields) *string { return &f.SrcCountry }
	case enrich.ColDstCountry:
		return func(f *enrich.Fields) *string { return &f.DstCountry }
	case enrich.ColSrcASOrg:
		return func(f *enrich.Fields) *string { return &f.SrcASOrg }
	case enrich.ColDstASOrg:
		return func(f *enrich.Fields) *string { return &f.DstASOrg }
	case enrich.ColENIInstanceID:
		return func(f *enrich.Fields) *string { return &f.ENIInstanceID }
	case enrich.ColENIType:
		return func(f *enrich.Fields) *string { return &f.ENIType }
	case enrich.ColENIVPCID:
		return func(f *enrich.Fields) *string { return &f.ENIVPCID }
	case enrich.ColENISubnetID:
		return func(f *enrich.Fields) *string { return &f.ENISubnetID }
	case enrich.ColENIDescription:
		return func(f *enrich.Fields) *string { return &f.ENIDescription }
	}
	panic("lake: no string accessor for enrichment column " + c.Name())
}
