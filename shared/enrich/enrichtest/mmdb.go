package enrichtest

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Network is one network of a test database. Empty or zero values are left
// out of the record.
type Network struct {
	Prefix  netip.Prefix
	Country string // ISO code, written as country.iso_code
	// CountryCode is an ISO code written as country_code, the layout of
	// ip-location-db's country databases (the one flowlake ships).
	CountryCode string
	ASN         uint32 // autonomous_system_number
	Org         string // autonomous_system_organization
}

// WriteMMDB writes a MaxMind-format database of nets to path, in the layout
// of GeoLite2-Country (country.iso_code) and GeoLite2-ASN
// (autonomous_system_number, autonomous_system_organization) at once.
// Reserved networks (TEST-NET and the like) are allowed.
func WriteMMDB(path string, nets ...Network) error {
	t, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "flowlake-test",
		IncludeReservedNetworks: true,
		RecordSize:              24,
	})
	if err != nil {
		return fmt.Errorf("new mmdb: %w", err)
	}
	for _, n := range nets {
		rec := mmdbtype.Map{}
		if n.Country != "" {
			rec["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(n.Country)}
		}
		if n.CountryCode != "" {
			rec["country_code"] = mmdbtype.String(n.CountryCode)
		}
		if n.ASN != 0 {
			rec["autonomous_system_number"] = mmdbtype.Uint32(n.ASN)
		}
		if n.Org != "" {
			rec["autonomous_system_organization"] = mmdbtype.String(n.Org)
		}
		p := n.Prefix.Masked()
		ipn := &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
		if err := t.Insert(ipn, rec); err != nil {
			return fmt.Errorf("insert %s: %w", p, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write mmdb: %w", err)
	}
	if _, err := t.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write mmdb %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write mmdb %s: %w", path, err)
	}
	return nil
}
