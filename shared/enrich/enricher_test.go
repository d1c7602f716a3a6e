package enrich_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/enrichtest"
	"github.com/flowlake/flowlake/shared/flowlog"

	goldenfile "github.com/flowlake/flowlake/shared/golden"
)

func TestDirection(t *testing.T) {
	srv := enrichtest.NewEC2Server(testENIs()...)
	defer srv.Close()
	e := newENIEnricher(t, srv, newClock())
	const web = "eni-0a1b2c3d4e5f60001" // 10.0.1.45, 10.0.1.46, 54.1.2.3, 2600:1f18::45
	const nat = "eni-0a1b2c3d4e5f60002" // 10.0.0.10
	none, in, out := enrich.DirectionUnknown, enrich.DirectionIngress, enrich.DirectionEgress
	tests := []struct {
		name string
		rec  flowlog.Record
		want enrich.Direction
		peer string
	}{
		{"flow-direction ingress", withDirection(testRecord("8.8.8.8", "10.9.9.9", 53, 40000, 17), "ingress"), in, "8.8.8.8"},
		{"flow-direction egress", withDirection(testRecord("10.9.9.9", "8.8.8.8", 40000, 53, 17), "egress"), out, "8.8.8.8"},
		{"flow-direction wins over addresses", withDirection(withENI(testRecord("10.0.1.45", "10.0.2.90", 1, 2, 6), web), "ingress"), in, "10.0.1.45"},
		{"unknown flow-direction value: inferred", withDirection(withENI(testRecord("10.0.1.45", "10.0.2.90", 1, 2, 6), web), "sideways"), out, "10.0.2.90"},
		{"src is the ENI's primary address", withENI(testRecord("10.0.1.45", "10.0.2.90", 1, 2, 6), web), out, "10.0.2.90"},
		{"src is a secondary address", withENI(testRecord("10.0.1.46", "10.0.2.90", 1, 2, 6), web), out, "10.0.2.90"},
		{"dst is the ENI's address", withENI(testRecord("10.0.2.90", "10.0.1.45", 1, 2, 6), web), in, "10.0.2.90"},
		{"dst is the ENI's public IP", withENI(testRecord("8.8.8.8", "54.1.2.3", 1, 2, 6), web), in, "8.8.8.8"},
		{"src is the ENI's IPv6", withENI(testRecord("2600:1f18::45", "2600:1f18::99", 1, 2, 6), web), out, "2600:1f18::99"},
		{"neither address is the ENI's", withENI(testRecord("10.0.2.90", "8.8.8.8", 1, 2, 6), nat), none, ""},
		{"both addresses are the ENI's", withENI(testRecord("10.0.1.45", "10.0.1.46", 1, 2, 6), web), none, ""},
		{"deleted ENI", withENI(testRecord("10.0.1.45", "10.0.2.90", 1, 2, 6), "eni-gone"), none, ""},
		{"no interface-id", testRecord("10.0.1.45", "10.0.2.90", 1, 2, 6), none, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f enrich.Fields
			e.EnrichRecord(context.Background(), &tt.rec, &f)
			if f.Direction != tt.want || f.Has(enrich.ColDirection) != (tt.want != none) {
				t.Errorf("direction = %q (set %v); want %q", f.Direction, f.Has(enrich.ColDirection), tt.want)
			}
			var peer string
			if f.Has(enrich.ColPeerAddr) {
				peer = f.PeerAddr.String()
			}
			if peer != tt.peer {
				t.Errorf("peer_addr = %q; want %q", peer, tt.peer)
			}
		})
	}
}

func TestRecordColumns(t *testing.T) {
	e, err := enrich.New(context.Background(), enrich.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := withFlags(testRecord("10.0.1.45", "52.216.1.1", 40000, 443, 6), 19)
	var f enrich.Fields
	e.EnrichRecord(context.Background(), &rec, &f)
	if f.ProtocolName != "tcp" || f.DstService != "https" || f.SrcService != "" || f.SrcIPClass != enrich.IPClassPrivate ||
		f.DstIPClass != enrich.IPClassPublic || len(f.TCPFlagNames) != 2 || f.TCPFlagNames[1] != "syn-ack" {
		t.Errorf("fields = %+v", f)
	}
	// Without ip-ranges, GeoIP or EC2 those columns are NULL.
	for _, c := range enrich.Columns() {
		if c.Group() != enrich.GroupRecord && f.Has(c) {
			t.Errorf("%s set without its source", c)
		}
	}
	// A record of nulls ('-' everywhere) gives no columns.
	var empty flowlog.Record
	e.EnrichRecord(context.Background(), &empty, &f)
	if f.Set != 0 {
		t.Errorf("empty record: Set = %b; want 0", f.Set)
	}
	// tcp-flags 0 is an empty list, not NULL.
	rec = withFlags(testRecord("10.0.1.45", "10.0.0.1", 40000, 22, 6), 0)
	e.EnrichRecord(context.Background(), &rec, &f)
	if !f.Has(enrich.ColTCPFlagNames) || f.TCPFlagNames == nil || len(f.TCPFlagNames) != 0 || f.DstService != "ssh" {
		t.Errorf("tcp-flags 0: %#v", f.TCPFlagNames)
	}
}

func writeGeo(t testing.TB) (country, asn string) {
	t.Helper()
	dir := t.TempDir()
	country, asn = filepath.Join(dir, "country.mmdb"), filepath.Join(dir, "asn.mmdb")
	p := netip.MustParsePrefix
	if err := enrichtest.WriteMMDB(country,
		enrichtest.Network{Prefix: p("8.8.8.0/24"), Country: "US"},
		enrichtest.Network{Prefix: p("81.2.69.0/24"), Country: "GB"},
		enrichtest.Network{Prefix: p("2a02:ff0::/32"), Country: "DE"},
		enrichtest.Network{Prefix: p("10.0.0.0/8"), Country: "ZZ"}, // never asked: private
	); err != nil {
		t.Fatal(err)
	}
	if err := enrichtest.WriteMMDB(asn,
		enrichtest.Network{Prefix: p("8.8.8.0/24"), ASN: 15169, Org: "GOOGLE"},
		enrichtest.Network{Prefix: p("2a02:ff0::/32"), ASN: 64500, Org: "EXAMPLE-V6"},
		enrichtest.Network{Prefix: p("10.0.0.0/8"), ASN: 64512, Org: "PRIVATE"},
	); err != nil {
		t.Fatal(err)
	}
	return country, asn
}

func TestGeoIP(t *testing.T) {
	ctx := context.Background()
	country, asn := writeGeo(t)
	e, err := enrich.NewFromPaths(ctx, enrich.Paths{GeoIP: country, ASN: asn})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tests := []struct {
		src, dst               string
		srcCountry, dstCountry string
		srcASN, dstASN         int64
		srcOrg, dstOrg         string
	}{
		{"10.0.1.45", "8.8.8.8", "", "US", 0, 15169, "", "GOOGLE"},
		{"81.2.69.160", "10.0.1.45", "GB", "", 0, 0, "", ""},
		{"2a02:ff0::1", "fd00::1", "DE", "", 64500, 0, "EXAMPLE-V6", ""},
		{"9.9.9.9", "192.0.2.1", "", "", 0, 0, "", ""},
	}
	for range 2 { // the second pass is served from the cache
		for _, tt := range tests {
			rec := testRecord(tt.src, tt.dst, 40000, 443, 6)
			var f enrich.Fields
			e.EnrichRecord(ctx, &rec, &f)
			if f.SrcCountry != tt.srcCountry || f.DstCountry != tt.dstCountry || f.SrcASN != tt.srcASN || f.DstASN != tt.dstASN ||
				f.SrcASOrg != tt.srcOrg || f.DstASOrg != tt.dstOrg {
				t.Errorf("%s → %s: %s/%s %d/%d %q/%q", tt.src, tt.dst, f.SrcCountry, f.DstCountry, f.SrcASN, f.DstASN, f.SrcASOrg, f.DstASOrg)
			}
			if f.Has(enrich.ColSrcCountry) != (tt.srcCountry != "") || f.Has(enrich.ColDstASN) != (tt.dstASN != 0) {
				t.Errorf("%s → %s: Set %b disagrees with the values", tt.src, tt.dst, f.Set)
			}
		}
	}
	if _, err := enrich.NewFromPaths(ctx, enrich.Paths{GeoIP: country + ".missing"}); err == nil {
		t.Error("NewFromPaths with a missing GeoIP file: no error")
	}
}

// The country database flowlake ships is ip-location-db's, whose records
// hold country_code rather than MaxMind's country.iso_code.
func TestGeoIPCountryCodeLayout(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "country.mmdb")
	if err := enrichtest.WriteMMDB(path,
		enrichtest.Network{Prefix: netip.MustParsePrefix("81.2.69.0/24"), CountryCode: "GB"},
		enrichtest.Network{Prefix: netip.MustParsePrefix("2606:4700::/32"), CountryCode: "US"},
	); err != nil {
		t.Fatal(err)
	}
	e, err := enrich.NewFromPaths(ctx, enrich.Paths{GeoIP: path})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, tc := range []struct{ src, dst, want string }{{"81.2.69.160", "10.0.0.1", "GB"}, {"2606:4700::6810:85e5", "fd00::1", "US"}} {
		rec := testRecord(tc.src, tc.dst, 443, 40000, 6)
		var f enrich.Fields
		e.EnrichRecord(ctx, &rec, &f)
		if f.SrcCountry != tc.want || !f.Has(enrich.ColSrcCountry) {
			t.Errorf("%s: src_country %q; want %q", tc.src, f.SrcCountry, tc.want)
		}
	}
}

// fullEnricher has every source: ip-ranges, GeoIP, ASN and EC2.
func fullEnricher(t testing.TB) (*enrich.Enricher, func()) {
	t.Helper()
	dir := t.TempDir()
	ranges := filepath.Join(dir, "ip-ranges.json")
	doc := testRanges()
	doc.Prefixes = doc.Prefixes[:len(doc.Prefixes)-1] // no 0.0.0.0/0 catch-all
	if err := enrich.WriteIPRangesFile(ranges, doc); err != nil {
		t.Fatal(err)
	}
	country, asn := writeGeo(t)
	srv := enrichtest.NewEC2Server(testENIs()...)
	cfg := enrich.Paths{IPRanges: ranges, GeoIP: country, ASN: asn}.Config()
	cfg.EC2, cfg.Logger = srv.Client(), quiet
	e, err := enrich.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, func() { e.Close(); srv.Close() }
}

func TestPairsGolden(t *testing.T) {
	e, done := fullEnricher(t)
	defer done()
	recs := []flowlog.Record{
		withFlags(withENI(testRecord("10.0.1.45", "8.8.8.8", 40000, 53, 17), "eni-0a1b2c3d4e5f60001"), 0),
		withFlags(withENI(testRecord("52.217.4.10", "10.0.1.45", 443, 40000, 6), "eni-0a1b2c3d4e5f60001"), 19),
		withDirection(withENI(testRecord("2600:1f18::45", "2a02:ff0::1", 51000, 22, 6), "eni-0a1b2c3d4e5f60003"), "egress"),
		withENI(testRecord("10.0.2.90", "10.0.1.45", 0, 0, 1), "eni-gone"),
	}
	out := make([]enrich.Fields, len(recs))
	e.Enrich(context.Background(), recs, out)
	var buf bytes.Buffer
	for i := range out {
		buf.Write(pairsJSON(t, out[i].AppendPairs(nil)))
		buf.WriteByte('\n')
	}
	goldenfile.Check(t, "pairs.golden", buf.Bytes())
}

// pairsJSON renders pairs as one JSON object, in order, as the CLI would.
func pairsJSON(t *testing.T, pairs []enrich.Pair) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.Name)
		v, err := json.Marshal(p.Value)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func TestEnrichAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	ctx := context.Background()
	recs := benchRecords(1024)
	out := make([]enrich.Fields, len(recs))

	// The no-I/O path: record-derived columns and ip-ranges.
	path := filepath.Join(t.TempDir(), "ip-ranges.json")
	if err := enrich.WriteIPRangesFile(path, benchRanges()); err != nil {
		t.Fatal(err)
	}
	e, err := enrich.New(ctx, enrich.Config{IPRanges: enrich.FileSource{Path: path}, RangesRefresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { e.Enrich(ctx, recs, out) }); n != 0 {
		t.Errorf("Enrich (record + ip-ranges) of %d records: %v allocations; want 0", len(recs), n)
	}

	// Everything, with warm ENI and GeoIP caches.
	full, done := fullEnricher(t)
	defer done()
	full.Enrich(ctx, recs, out) // warm
	if n := testing.AllocsPerRun(20, func() { full.Enrich(ctx, recs, out) }); n != 0 {
		t.Errorf("Enrich (all sources, warm caches) of %d records: %v allocations; want 0", len(recs), n)
	}
}
