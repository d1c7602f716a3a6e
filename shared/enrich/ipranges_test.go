package enrich_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/enrich"
)

// testRanges is a small ip-ranges.json in AWS's format.
func testRanges() *enrich.IPRanges {
	return &enrich.IPRanges{
		SyncToken:  "1700000000",
		CreateDate: "2026-11-24-00-00-00",
		Prefixes: []enrich.IPPrefix{
			{"52.0.0.0/10", "us-east-1", "AMAZON", "us-east-1"},
			{"52.0.0.0/10", "us-east-1", "EC2", "us-east-1"},
			{"52.216.0.0/15", "us-east-1", "AMAZON", "us-east-1"},
			{"52.216.0.0/15", "us-east-1", "S3", "us-east-1"},
			{"52.217.4.0/24", "us-east-1", "AMAZON", "us-east-1"}, // more specific AMAZON inside S3
			{"13.32.0.0/15", "GLOBAL", "CLOUDFRONT", "GLOBAL"},
			{"13.32.0.0/15", "GLOBAL", "AMAZON", "GLOBAL"}, // AMAZON listed after: named still wins
			{"3.5.140.0/22", "ap-northeast-2", "S3", "ap-northeast-2"},
			{"3.5.140.0/22", "ap-northeast-2", "EC2", "ap-northeast-2"}, // two named: the first wins
			{"15.230.39.0/24", "us-east-2", "AMAZON", "us-east-2"},
			{"0.0.0.0/0", "GLOBAL", "AMAZON", "GLOBAL"}, // a catch-all, to test nesting
		},
		IPv6Prefixes: []enrich.IPv6Prefix{
			{"2600:1f00::/24", "GLOBAL", "AMAZON", "GLOBAL"},
			{"2600:1f18::/33", "us-east-1", "EC2", "us-east-1"},
			{"2600:1f18::/33", "us-east-1", "AMAZON", "us-east-1"},
			{"2600:1fa0:8000::/39", "us-east-1", "S3", "us-east-1"},
			{"2600:9000::/28", "GLOBAL", "CLOUDFRONT", "GLOBAL"},
			{"ffff:ffff::/32", "GLOBAL", "AMAZON", "GLOBAL"}, // reaches the last address
		},
	}
}

func TestRangesLookup(t *testing.T) {
	rs, err := enrich.NewRanges(testRanges())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr, service, region, prefix string
	}{
		{"52.0.0.0", "EC2", "us-east-1", "52.0.0.0/10"},
		{"52.63.255.255", "EC2", "us-east-1", "52.0.0.0/10"},
		{"52.64.0.0", "AMAZON", "GLOBAL", "0.0.0.0/0"},
		{"52.215.255.255", "AMAZON", "GLOBAL", "0.0.0.0/0"},
		{"52.216.0.0", "S3", "us-east-1", "52.216.0.0/15"},
		{"52.217.3.255", "S3", "us-east-1", "52.216.0.0/15"},
		{"52.217.4.0", "AMAZON", "us-east-1", "52.217.4.0/24"},
		{"52.217.4.255", "AMAZON", "us-east-1", "52.217.4.0/24"},
		{"52.217.5.0", "S3", "us-east-1", "52.216.0.0/15"},
		{"52.217.255.255", "S3", "us-east-1", "52.216.0.0/15"},
		{"13.33.1.2", "CLOUDFRONT", "GLOBAL", "13.32.0.0/15"},
		{"3.5.141.1", "S3", "ap-northeast-2", "3.5.140.0/22"},
		{"15.230.39.7", "AMAZON", "us-east-2", "15.230.39.0/24"},
		{"0.0.0.0", "AMAZON", "GLOBAL", "0.0.0.0/0"},
		{"255.255.255.255", "AMAZON", "GLOBAL", "0.0.0.0/0"},
		{"::ffff:52.216.1.1", "S3", "us-east-1", "52.216.0.0/15"},
		{"2600:1f18::1", "EC2", "us-east-1", "2600:1f18::/33"},
		{"2600:1f18:7fff:ffff:ffff:ffff:ffff:ffff", "EC2", "us-east-1", "2600:1f18::/33"},
		{"2600:1f18:8000::", "AMAZON", "GLOBAL", "2600:1f00::/24"},
		{"2600:1fa0:8000::5", "S3", "us-east-1", "2600:1fa0:8000::/39"},
		{"2600:1fff:ffff:ffff:ffff:ffff:ffff:ffff", "AMAZON", "GLOBAL", "2600:1f00::/24"},
		{"2600:9000:1::", "CLOUDFRONT", "GLOBAL", "2600:9000::/28"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "AMAZON", "GLOBAL", "ffff:ffff::/32"},
		{"2600:1eff:ffff:ffff:ffff:ffff:ffff:ffff", "", "", ""},
		{"2001:db8::1", "", "", ""},
	}
	for _, tt := range tests {
		r := rs.Lookup(netip.MustParseAddr(tt.addr))
		if tt.service == "" {
			if r != nil {
				t.Errorf("Lookup(%s) = %+v; want nil", tt.addr, *r)
			}
			continue
		}
		if r == nil || r.Service != tt.service || r.Region != tt.region || r.Prefix.String() != tt.prefix {
			t.Errorf("Lookup(%s) = %+v; want %s %s %s", tt.addr, r, tt.service, tt.region, tt.prefix)
		}
	}
}

// TestRangesRandom checks the flattened table against a naive search over
// random nested prefixes.
func TestRangesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		doc := &enrich.IPRanges{}
		services := []string{"AMAZON", "EC2", "S3", "ROUTE53"}
		type ent struct {
			p   netip.Prefix
			svc string
			ord int
		}
		var ents []ent
		base := []byte{52, byte(rng.IntN(4)), 0, 0}
		for i := range 200 {
			b := append([]byte(nil), base...)
			b[1] = byte(rng.IntN(4))
			b[2], b[3] = byte(rng.IntN(256)), byte(rng.IntN(256))
			bits := 8 + rng.IntN(25)
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte(b)), bits).Masked()
			svc := services[rng.IntN(len(services))]
			doc.Prefixes = append(doc.Prefixes, enrich.IPPrefix{p.String(), "r", svc, "r"})
			ents = append(ents, ent{p, svc, i})
			v6 := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x26, 0x00, b[1], b[2], b[3]}), 8+rng.IntN(120)).Masked()
			doc.IPv6Prefixes = append(doc.IPv6Prefixes, enrich.IPv6Prefix{v6.String(), "r", svc, "r"})
			ents = append(ents, ent{v6, svc, i})
		}
		rs, err := enrich.NewRanges(doc)
		if err != nil {
			t.Fatal(err)
		}
		naive := func(a netip.Addr) (best *ent) {
			for i := range ents {
				e := &ents[i]
				if !e.p.Contains(a) {
					continue
				}
				switch {
				case best == nil, e.p.Bits() > best.p.Bits():
					best = e
				case e.p.Bits() == best.p.Bits() && best.svc == "AMAZON" && e.svc != "AMAZON":
					best = e
				case e.p.Bits() == best.p.Bits() && (best.svc == "AMAZON") == (e.svc == "AMAZON") && e.ord < best.ord && e.p.Addr().Is4() == best.p.Addr().Is4():
					best = e
				}
			}
			return best
		}
		for range 3000 {
			var a netip.Addr
			if rng.IntN(2) == 0 {
				a = netip.AddrFrom4([4]byte{52, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			} else {
				a = netip.AddrFrom16([16]byte{0x26, 0x00, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), 15: byte(rng.IntN(256))})
			}
			// Also probe the exact ends of a random prefix.
			if rng.IntN(3) == 0 {
				e := ents[rng.IntN(len(ents))]
				a = e.p.Addr()
			}
			want := naive(a)
			got := rs.Lookup(a)
			switch {
			case want == nil && got == nil:
			case want == nil || got == nil:
				t.Fatalf("round %d: Lookup(%s) = %v; want %v", round, a, got, want)
			case got.Prefix != want.p || got.Service != want.svc:
				t.Fatalf("round %d: Lookup(%s) = %s %s; want %s %s", round, a, got.Prefix, got.Service, want.p, want.svc)
			}
		}
	}
}

func TestParseIPRangesErrors(t *testing.T) {
	for _, doc := range []string{
		`{`,
		`{"prefixes":[{"ip_prefix":"52.0.0.0/33","service":"S3"}]}`,
		`{"prefixes":[{"ip_prefix":"2600::/32","service":"S3"}]}`,
		`{"ipv6_prefixes":[{"ipv6_prefix":"52.0.0.0/8","service":"S3"}]}`,
	} {
		if _, err := enrich.ParseIPRanges(strings.NewReader(doc)); !errors.Is(err, enrich.ErrIPRanges) {
			t.Errorf("ParseIPRanges(%s) error = %v; want ErrIPRanges", doc, err)
		}
	}
}

func TestWriteIPRangesRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ip-ranges.json")
	if err := enrich.WriteIPRangesFile(path, testRanges()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"syncToken"`, `"createDate"`, `"prefixes"`, `"ip_prefix"`, `"network_border_group"`, `"ipv6_prefixes"`, `"ipv6_prefix"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("written ip-ranges.json lacks %s", key)
		}
	}
	rs, err := enrich.LoadIPRanges(path)
	if err != nil {
		t.Fatal(err)
	}
	if rs.SyncToken != "1700000000" || rs.Len() != 12 {
		t.Errorf("loaded SyncToken %q, %d prefixes; want 1700000000, 12", rs.SyncToken, rs.Len())
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func dstService(t *testing.T, e *enrich.Enricher, dst string) string {
	t.Helper()
	rec := testRecord("10.0.1.45", dst, 40000, 443, 6)
	var f enrich.Fields
	e.EnrichRecord(context.Background(), &rec, &f)
	return f.DstAWSService
}

func TestFileSourceRefresh(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ip-ranges.json")
	doc := testRanges()
	if err := enrich.WriteIPRangesFile(path, doc); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	e, err := enrich.New(ctx, enrich.Config{IPRanges: enrich.FileSource{Path: path}, Now: clk.Now, RangesRefresh: time.Minute, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if got := dstService(t, e, "52.216.1.1"); got != "S3" {
		t.Fatalf("dst_aws_service = %q; want S3", got)
	}
	// Unchanged file: a check, no reload.
	clk.Advance(2 * time.Minute)
	if changed, err := e.RefreshRanges(ctx); err != nil || changed {
		t.Fatalf("RefreshRanges (unchanged) = %v, %v; want false, nil", changed, err)
	}
	// Rewrite it: 52.216/15 becomes DYNAMODB.
	doc.SyncToken = "1700000001"
	doc.Prefixes[3].Service = "DYNAMODB"
	if err := enrich.WriteIPRangesFile(path, doc); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	// Not yet time to check.
	if got := dstService(t, e, "52.216.1.1"); got != "S3" {
		t.Fatalf("before refresh interval: dst_aws_service = %q; want S3", got)
	}
	clk.Advance(2 * time.Minute)
	rec := testRecord("10.0.1.45", "52.216.1.1", 40000, 443, 6)
	var f enrich.Fields
	st := e.EnrichRecord(ctx, &rec, &f)
	if f.DstAWSService != "DYNAMODB" || st.RangesRefreshed != 1 {
		t.Fatalf("after refresh: dst_aws_service = %q, RangesRefreshed %d; want DYNAMODB, 1", f.DstAWSService, st.RangesRefreshed)
	}
	// A broken file keeps the previous table and counts a warning.
	if err := os.WriteFile(path, []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	st = e.EnrichRecord(ctx, &rec, &f)
	if f.DstAWSService != "DYNAMODB" || st.RangesErrors != 1 {
		t.Fatalf("broken file: dst_aws_service = %q, RangesErrors %d; want DYNAMODB, 1", f.DstAWSService, st.RangesErrors)
	}
	if _, err := enrich.New(ctx, enrich.Config{IPRanges: enrich.FileSource{Path: path + ".missing"}}); err == nil {
		t.Error("New with a missing ip-ranges file: no error")
	}
}

// s3Server speaks enough S3 for GetObject with If-None-Match.
type s3Server struct {
	mu      sync.Mutex
	objects map[string][]byte // "/bucket/key" → body
	gets    int
	n304    int
}

func (s *s3Server) put(path string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[path] = body
}

func (s *s3Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodGet {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	s.gets++
	body, ok := s.objects[r.URL.Path]
	if !ok {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
		return
	}
	sum := md5.Sum(body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	if r.Header.Get("If-None-Match") == etag {
		s.n304++
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
	w.Write(body)
}

func TestS3Source(t *testing.T) {
	ctx := context.Background()
	var buf strings.Builder
	if err := enrich.WriteIPRanges(&buf, testRanges()); err != nil {
		t.Fatal(err)
	}
	srv := &s3Server{objects: map[string][]byte{"/cfg/ip-ranges.json": []byte(buf.String())}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := s3.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(hs.URL)
		o.UsePathStyle = true
	})
	src := enrich.S3Source{Client: client, Bucket: "cfg", Key: "ip-ranges.json"}

	body, etag, err := src.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(body)
	body.Close()
	if etag == "" || string(b) != buf.String() {
		t.Fatalf("Open: etag %q, %d bytes; want an ETag and the object", etag, len(b))
	}
	if _, v, err := src.Open(ctx, etag); !errors.Is(err, enrich.ErrNotModified) || v != etag {
		t.Fatalf("Open(etag) = %q, %v; want ErrNotModified", v, err)
	}

	clk := newClock()
	e, err := enrich.New(ctx, enrich.Config{IPRanges: src, Now: clk.Now, RangesRefresh: time.Minute, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if got := dstService(t, e, "13.32.0.1"); got != "CLOUDFRONT" {
		t.Fatalf("dst_aws_service = %q; want CLOUDFRONT", got)
	}
	clk.Advance(time.Minute)
	dstService(t, e, "13.32.0.1") // conditional GET, 304
	doc := testRanges()
	doc.Prefixes[5].Service = "CLOUDFRONT_ORIGIN_FACING"
	buf.Reset()
	enrich.WriteIPRanges(&buf, doc)
	srv.put("/cfg/ip-ranges.json", []byte(buf.String()))
	clk.Advance(time.Minute)
	if got := dstService(t, e, "13.32.0.1"); got != "CLOUDFRONT_ORIGIN_FACING" {
		t.Fatalf("after the object changed: dst_aws_service = %q; want CLOUDFRONT_ORIGIN_FACING", got)
	}
	srv.mu.Lock()
	gets, n304 := srv.gets, srv.n304
	srv.mu.Unlock()
	// 2 direct Opens, then New, a 304, and the reload.
	if gets != 5 || n304 != 2 {
		t.Errorf("S3 saw %d GETs, %d answered 304; want 5 and 2", gets, n304)
	}

	missing := enrich.S3Source{Client: client, Bucket: "cfg", Key: "nope.json"}
	if _, _, err := missing.Open(ctx, ""); err == nil || errors.Is(err, enrich.ErrNotModified) {
		t.Errorf("Open(missing) error = %v; want a NoSuchKey error", err)
	}
}
