package enrich_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowlog"
)

// benchRanges is testRanges plus about 9,000 IPv4 and 3,000 IPv6 synthetic
// prefixes, the size of AWS's real file.
func benchRanges() *enrich.IPRanges {
	doc := testRanges()
	doc.Prefixes = doc.Prefixes[:len(doc.Prefixes)-1] // drop the 0.0.0.0/0 catch-all
	rng := rand.New(rand.NewPCG(7, 7))
	services := []string{"AMAZON", "EC2", "S3", "CLOUDFRONT", "ROUTE53", "DYNAMODB"}
	for range 9000 {
		a := netip.AddrFrom4([4]byte{byte(3 + rng.IntN(60)), byte(rng.IntN(256)), byte(rng.IntN(256)), 0})
		p := netip.PrefixFrom(a, 16+rng.IntN(13)).Masked()
		doc.Prefixes = append(doc.Prefixes, enrich.IPPrefix{p.String(), "us-east-1", services[rng.IntN(len(services))], "us-east-1"})
	}
	for range 3000 {
		a := netip.AddrFrom16([16]byte{0x26, 0x00, byte(0x1f + rng.IntN(2)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		p := netip.PrefixFrom(a, 40+rng.IntN(25)).Masked()
		doc.IPv6Prefixes = append(doc.IPv6Prefixes, enrich.IPv6Prefix{p.String(), "us-east-1", services[rng.IntN(len(services))], "us-east-1"})
	}
	return doc
}

// benchRecords makes n records shaped like a VPC's traffic: mostly private
// east-west, a third to public peers (AWS services and the internet), some
// IPv6; a few ENIs, one of them deleted; flow-direction on half.
func benchRecords(n int) []flowlog.Record {
	rng := rand.New(rand.NewPCG(1, 1))
	enis := []string{"eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002", "eni-0a1b2c3d4e5f60003", "eni-gone"}
	ports := []uint16{443, 443, 443, 53, 22, 5432, 80, 3306, 8080, 6379}
	publics := []string{"8.8.8.8", "81.2.69.160", "52.216.1.1", "52.217.4.10", "13.32.7.7", "3.5.141.1", "9.9.9.9", "15.230.39.7"}
	recs := make([]flowlog.Record, 0, n)
	for i := range n {
		src := fmt.Sprintf("10.0.%d.%d", rng.IntN(4), 1+rng.IntN(250))
		var dst string
		switch k := rng.IntN(10); {
		case k < 6:
			dst = fmt.Sprintf("10.0.%d.%d", rng.IntN(4), 1+rng.IntN(250))
		case k < 9:
			dst = publics[rng.IntN(len(publics))]
		default:
			src, dst = "2600:1f18::45", fmt.Sprintf("2600:1f18::%x", rng.IntN(4096))
		}
		proto := uint8(6)
		if rng.IntN(5) == 0 {
			proto = 17
		}
		sport, dport := uint16(32768+rng.IntN(28000)), ports[rng.IntN(len(ports))]
		if rng.IntN(2) == 0 {
			src, dst, sport, dport = dst, src, dport, sport
		}
		r := withENI(testRecord(src, dst, sport, dport, proto), enis[(i/16)%len(enis)])
		if proto == 6 {
			r = withFlags(r, []int32{2, 18, 19, 3, 1, 4}[rng.IntN(6)])
		}
		if rng.IntN(2) == 0 {
			r = withDirection(r, []string{"ingress", "egress"}[rng.IntN(2)])
		}
		recs = append(recs, r)
	}
	return recs
}

// BenchmarkEnrich measures one batch of 4096 records; ns/record is the
// per-record cost.
func BenchmarkEnrich(b *testing.B) {
	ctx := context.Background()
	recs := benchRecords(4096)
	out := make([]enrich.Fields, len(recs))
	path := filepath.Join(b.TempDir(), "ip-ranges.json")
	if err := enrich.WriteIPRangesFile(path, benchRanges()); err != nil {
		b.Fatal(err)
	}
	country, asn := writeGeo(b)
	full, done := fullEnricher(b)
	defer done()
	// fullEnricher uses the small test ranges; swap in the big table.
	fullBig, err := enrich.New(ctx, enrich.Config{IPRanges: enrich.FileSource{Path: path}, GeoIPPath: country, ASNPath: asn, RangesRefresh: -1})
	if err != nil {
		b.Fatal(err)
	}
	_ = full
	cases := []struct {
		name string
		cfg  enrich.Config
		e    *enrich.Enricher
	}{
		{name: "record", cfg: enrich.Config{}},
		{name: "record+ranges", cfg: enrich.Config{IPRanges: enrich.FileSource{Path: path}, RangesRefresh: -1}},
		{name: "record+ranges+geoip", e: fullBig},
		{name: "all-warm", e: full},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e := c.e
			if e == nil {
				var err error
				if e, err = enrich.New(ctx, c.cfg); err != nil {
					b.Fatal(err)
				}
			}
			e.Enrich(ctx, recs, out) // warm the caches
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				e.Enrich(ctx, recs, out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
		})
	}
}

func BenchmarkClassifyIP(b *testing.B) {
	addrs := []netip.Addr{netip.MustParseAddr("10.0.1.45"), netip.MustParseAddr("52.216.1.1"), netip.MustParseAddr("2600:1f18::45"), netip.MustParseAddr("192.168.1.1")}
	b.ReportAllocs()
	var sink enrich.IPClass
	for i := 0; b.Loop(); i++ {
		sink += enrich.ClassifyIP(addrs[i&3])
	}
	_ = sink
}

func BenchmarkRangesLookup(b *testing.B) {
	rs, err := enrich.NewRanges(benchRanges())
	if err != nil {
		b.Fatal(err)
	}
	addrs := []netip.Addr{netip.MustParseAddr("52.216.1.1"), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2600:1f18::45"), netip.MustParseAddr("13.32.7.7")}
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if rs.Lookup(addrs[i&3]) != nil {
			n++
		}
	}
	_ = n
}
