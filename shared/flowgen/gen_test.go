package flowgen

import (
	"bytes"
	"testing"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// The v11 format's records carry version 11 and the version-11 fields,
// and read back as written; the rich corpus of the same seed is the same
// records without them.
func TestV11Format(t *testing.T) {
	var v11, rich bytes.Buffer
	if _, err := Write(&v11, Config{Seed: 3, Records: 3000, Format: V11Format(), Header: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(&rich, Config{Seed: 3, Records: 3000, Format: RichFormat(), Header: true}); err != nil {
		t.Fatal(err)
	}
	r, rr := flowlog.NewReader(&v11), flowlog.NewReader(&rich)
	hops, natTypes := 0, 0
	for i := 0; ; i++ {
		a, err := r.Read()
		b, err2 := rr.Read()
		if err != nil || err2 != nil {
			if err != err2 {
				t.Fatalf("record %d: %v, %v", i, err, err2)
			}
			break
		}
		if a.Version != 11 || !a.Has(flowlog.FieldInterfaceType) {
			t.Fatalf("record %d: version %d, interface-type %q", i, a.Version, a.InterfaceType)
		}
		if a.Has(flowlog.FieldNextHopInterfaceID) {
			hops++
			if a.FlowDirection != "egress" || !a.Has(flowlog.FieldNextHopVPCID) || a.NextHopVPCID != a.VPCID {
				t.Errorf("record %d: next hop %+v", i, a)
			}
		}
		if a.InterfaceType == "nat_gateway" {
			natTypes++
		}
		// The same record but for the version-11 fields.
		a.Version, b.Version = 0, 0
		a.InterfaceType, a.NextHopInterfaceID, a.NextHopSubnetID, a.NextHopAZID, a.NextHopVPCID, a.NextHopInterfaceType = "", "", "", "", "", ""
		for _, f := range []flowlog.Field{flowlog.FieldInterfaceType, flowlog.FieldNextHopInterfaceID, flowlog.FieldNextHopSubnetID,
			flowlog.FieldNextHopAZID, flowlog.FieldNextHopVPCID, flowlog.FieldNextHopInterfaceType} {
			a.Set = a.Set.Without(f)
		}
		if a != b {
			t.Fatalf("record %d differs from the rich corpus's:\n%+v\n%+v", i, a, b)
		}
	}
	if hops == 0 || natTypes == 0 {
		t.Errorf("%d records with a next hop, %d recorded by a NAT gateway; want some of each", hops, natTypes)
	}
}
