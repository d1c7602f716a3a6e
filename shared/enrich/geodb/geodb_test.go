package geodb_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/enrichtest"
	"github.com/flowlake/flowlake/shared/enrich/geodb"
	"github.com/flowlake/flowlake/shared/flowlog"
)

// fakeNodeModules lays out the two packages as npm installs them, with a
// few rows of each.
func fakeNodeModules(t *testing.T) string {
	t.Helper()
	nm := t.TempDir()
	write := func(pkg, name, text string) {
		dir := filepath.Join(nm, filepath.FromSlash(pkg))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(geodb.CountryPackage, "package.json", `{"name": "`+geodb.CountryPackage+`", "version": "2.3.2026061719"}`)
	write(geodb.CountryPackage, "NRO_LICENSE", "The statistics data provided by NRO ...")
	country := filepath.Join(nm, filepath.FromSlash(geodb.CountryPackage), "geo-whois-asn-country.mmdb")
	if err := enrichtest.WriteMMDB(country,
		enrichtest.Network{Prefix: netip.MustParsePrefix("1.1.1.0/24"), CountryCode: "AU"},
		enrichtest.Network{Prefix: netip.MustParsePrefix("140.82.112.0/20"), CountryCode: "US"},
		enrichtest.Network{Prefix: netip.MustParsePrefix("2606:4700::/32"), CountryCode: "US"},
	); err != nil {
		t.Fatal(err)
	}
	write(geodb.ASNPackage, "package.json", `{"name": "`+geodb.ASNPackage+`", "version": "2.3.2026061719"}`)
	for _, name := range []string{"ROUTEVIEWS-LICENSE", "DBIP-LICENSE", "NRO_LICENSE", "MODIFICATIONS"} {
		write(geodb.ASNPackage, name, name+" text")
	}
	write(geodb.ASNPackage, "asn-ipv4.csv", "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"+
		"140.82.112.0,140.82.127.255,36459,\"GitHub, Inc.\"\n"+
		"185.220.100.0,185.220.101.255,60729,Stiftung Erneuerbare Freiheit\n")
	write(geodb.ASNPackage, "asn-ipv6.csv", "2001::,2001::ffff:ffff:ffff:ffff:ffff:ffff,6939,Hurricane Electric LLC\n"+
		"2606:4700::,2606:4700:ffff:ffff:ffff:ffff:ffff:ffff,13335,\"Cloudflare, Inc.\"\n")
	return nm
}

// The databases Build writes are the ones the enricher reads: country from
// ip-location-db's layout, ASN from the CSV ranges, inclusive, IPv4 and
// IPv6.
func TestBuild(t *testing.T) {
	nm := fakeNodeModules(t)
	d, err := geodb.Build(nm, filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 6, 17, 19, 0, 0, 0, time.UTC); !d.DataTime().Equal(want) {
		t.Errorf("DataTime = %v; want %v", d.DataTime(), want)
	}
	e, err := enrich.NewFromPaths(context.Background(), enrich.Paths{GeoIP: d.GeoIP, ASN: d.ASN})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, tc := range []struct {
		addr, country string
		asn           int64
		org           string
	}{
		{"140.82.112.3", "US", 36459, "GitHub, Inc."},
		{"140.82.127.255", "US", 36459, "GitHub, Inc."},
		{"1.0.0.255", "", 13335, "Cloudflare, Inc."},
		{"185.220.101.4", "", 60729, "Stiftung Erneuerbare Freiheit"},
		{"2606:4700::6810:85e5", "US", 13335, "Cloudflare, Inc."},
		{"2001::1", "", 6939, "Hurricane Electric LLC"},
		{"140.82.128.0", "", 0, ""},
	} {
		rec := flowlog.Record{SrcAddr: netip.MustParseAddr(tc.addr), DstAddr: netip.MustParseAddr("10.0.0.1")}
		rec.Set = rec.Set.With(flowlog.FieldSrcAddr).With(flowlog.FieldDstAddr)
		var f enrich.Fields
		e.EnrichRecord(context.Background(), &rec, &f)
		if f.SrcCountry != tc.country || f.SrcASN != tc.asn || f.SrcASOrg != tc.org {
			t.Errorf("%s: %q %d %q; want %q %d %q", tc.addr, f.SrcCountry, f.SrcASN, f.SrcASOrg, tc.country, tc.asn, tc.org)
		}
	}
	notice, err := os.ReadFile(d.Notice)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"CC BY 4.0", "routeviews.org", "db-ip.com", "nro.net", "DBIP-LICENSE text", geodb.CountryPackage + " 2.3.2026061719"} {
		if !strings.Contains(string(notice), s) {
			t.Errorf("notice lacks %q", s)
		}
	}

	// The same packages give the same bytes: an asset hash changes with the data only.
	again, err := geodb.Build(nm, filepath.Join(t.TempDir(), "again"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{d.GeoIP, again.GeoIP}, {d.ASN, again.ASN}, {d.Notice, again.Notice}} {
		a, _ := os.ReadFile(pair[0])
		b, _ := os.ReadFile(pair[1])
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds", filepath.Base(pair[0]))
		}
	}
}

func TestCached(t *testing.T) {
	nm := fakeNodeModules(t)
	cache := t.TempDir()
	d, err := geodb.Cached(nm, cache)
	if err != nil {
		t.Fatal(err)
	}
	if d.Dir != filepath.Join(cache, "2.3.2026061719") {
		t.Errorf("Dir = %s", d.Dir)
	}
	st, _ := os.Stat(d.ASN)
	// A second call uses the build that is there.
	if err := os.Remove(filepath.Join(nm, filepath.FromSlash(geodb.ASNPackage), "asn-ipv4.csv")); err != nil {
		t.Fatal(err)
	}
	d2, err := geodb.Cached(nm, cache)
	if err != nil || d2 != d {
		t.Fatalf("Cached again = %+v, %v", d2, err)
	}
	if st2, _ := os.Stat(d2.ASN); !os.SameFile(st, st2) {
		t.Error("the cached build was rebuilt")
	}
}

func TestNotInstalled(t *testing.T) {
	_, err := geodb.Build(t.TempDir(), t.TempDir())
	if !errors.Is(err, geodb.ErrNotInstalled) || !strings.Contains(err.Error(), geodb.CountryPackage) {
		t.Errorf("Build without the packages = %v; want ErrNotInstalled naming %s", err, geodb.CountryPackage)
	}
}

// A malformed row fails the build with its file and line.
func TestBadCSV(t *testing.T) {
	nm := fakeNodeModules(t)
	path := filepath.Join(nm, filepath.FromSlash(geodb.ASNPackage), "asn-ipv6.csv")
	if err := os.WriteFile(path, []byte("2001::,2001::ffff,6939,HE\n2001:1::,1.2.3.4,1,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := geodb.Build(nm, t.TempDir()); err == nil || !strings.Contains(err.Error(), "asn-ipv6.csv:2") {
		t.Errorf("Build = %v; want an error at asn-ipv6.csv:2", err)
	}
}
