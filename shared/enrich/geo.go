package enrich

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"

	"github.com/oschwald/maxminddb-golang/v2"
)

// geoCacheMax bounds the per-address cache; it is cleared when full.
const geoCacheMax = 1 << 16

// geoDB looks up country and ASN in MaxMind-format databases, caching
// results per address and decoded records per data offset.
type geoDB struct {
	country *maxminddb.Reader // nil: no country database
	asn     *maxminddb.Reader // nil: no ASN database

	mu        sync.Mutex
	addrs4    map[uint32]geoEntry // IPv4 addresses, as integers: cheaper to hash
	addrs     map[netip.Addr]geoEntry
	countries map[uintptr]string
	asns      map[uintptr]asnEntry
	intern    map[string]string
}

type geoEntry struct {
	country string
	asn     asnEntry
}

type asnEntry struct {
	number int64
	org    string
}

// countryRecord reads the country of either layout: MaxMind's
// (GeoLite2-Country or -City: country.iso_code, else
// registered_country.iso_code) or ip-location-db's (country_code), the
// database flowlake ships.
type countryRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	CountryCode string `maxminddb:"country_code"`
}

type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

func openGeo(countryPath, asnPath string) (*geoDB, error) {
	g := &geoDB{
		addrs4:    make(map[uint32]geoEntry),
		addrs:     make(map[netip.Addr]geoEntry),
		countries: make(map[uintptr]string),
		asns:      make(map[uintptr]asnEntry),
		intern:    make(map[string]string),
	}
	var err error
	if countryPath != "" {
		if g.country, err = maxminddb.Open(countryPath); err != nil {
			return nil, fmt.Errorf("open geoip database %s: %w", countryPath, err)
		}
	}
	if asnPath != "" {
		if g.asn, err = maxminddb.Open(asnPath); err != nil {
			g.close()
			return nil, fmt.Errorf("open asn database %s: %w", asnPath, err)
		}
	}
	return g, nil
}

func (g *geoDB) close() error {
	var err error
	if g.country != nil {
		err = g.country.Close()
	}
	if g.asn != nil {
		if e := g.asn.Close(); err == nil {
			err = e
		}
	}
	return err
}

// lookup returns the country and ASN of a. A broken record reads as
// unknown: GeoIP is best effort.
func (g *geoDB) lookup(a netip.Addr) geoEntry {
	a = a.Unmap()
	var k4 uint32
	g.mu.Lock()
	defer g.mu.Unlock()
	if a.Is4() {
		b := a.As4()
		k4 = binary.BigEndian.Uint32(b[:])
		if e, ok := g.addrs4[k4]; ok {
			return e
		}
	} else if e, ok := g.addrs[a]; ok {
		return e
	}
	var e geoEntry
	if g.country != nil {
		if r := g.country.Lookup(a); r.Found() {
			off := r.Offset()
			c, ok := g.countries[off]
			if !ok {
				var rec countryRecord
				if r.Decode(&rec) == nil {
					c = cmp.Or(rec.Country.ISOCode, rec.RegisteredCountry.ISOCode, rec.CountryCode)
					c = g.in(c)
				}
				g.countries[off] = c
			}
			e.country = c
		}
	}
	if g.asn != nil {
		if r := g.asn.Lookup(a); r.Found() {
			off := r.Offset()
			n, ok := g.asns[off]
			if !ok {
				var rec asnRecord
				if r.Decode(&rec) == nil {
					n = asnEntry{int64(rec.Number), g.in(rec.Org)}
				}
				g.asns[off] = n
			}
			e.asn = n
		}
	}
	if a.Is4() {
		if len(g.addrs4) >= geoCacheMax {
			clear(g.addrs4)
		}
		g.addrs4[k4] = e
	} else {
		if len(g.addrs) >= geoCacheMax {
			clear(g.addrs)
		}
		g.addrs[a] = e
	}
	return e
}

func (g *geoDB) in(s string) string {
	if v, ok := g.intern[s]; ok {
		return v
	}
	g.intern[s] = s
	return s
}
