package enrich_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/enrichtest"
	"github.com/flowlake/flowlake/shared/flowlog"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testENIs() []enrich.ENI {
	return []enrich.ENI{
		{
			ID: "eni-0a1b2c3d4e5f60001", InstanceID: "i-0123456789abcdef0", Type: "interface",
			VPCID: "vpc-0aaa", SubnetID: "subnet-0bbb", Description: "web server",
			SecurityGroupIDs: []string{"sg-0001", "sg-0002"},
			Tags:             map[string]string{"Name": "web-1", "env": "prod"},
			Addrs: []netip.Addr{
				netip.MustParseAddr("10.0.1.45"), netip.MustParseAddr("54.1.2.3"),
				netip.MustParseAddr("10.0.1.46"), netip.MustParseAddr("2600:1f18::45"),
			},
		},
		{
			ID: "eni-0a1b2c3d4e5f60002", Type: "natGateway", VPCID: "vpc-0aaa", SubnetID: "subnet-0ccc",
			Description: "Interface for NAT Gateway nat-0123",
			Addrs:       []netip.Addr{netip.MustParseAddr("10.0.0.10")},
		},
		{
			ID: "eni-0a1b2c3d4e5f60003", Type: "lambda", VPCID: "vpc-0aaa", SubnetID: "subnet-0bbb",
			SecurityGroupIDs: []string{"sg-0003"},
			Addrs:            []netip.Addr{netip.MustParseAddr("10.0.2.90")},
		},
	}
}

func newENIEnricher(t *testing.T, srv *enrichtest.EC2Server, clk *fakeClock) *enrich.Enricher {
	t.Helper()
	e, err := enrich.New(context.Background(), enrich.Config{
		EC2: srv.Client(), Now: clk.Now, Logger: quiet,
		ENITTL: 10 * time.Minute, ENINegativeTTL: 5 * time.Minute, ENIErrorTTL: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestENIMetadata(t *testing.T) {
	srv := enrichtest.NewEC2Server(testENIs()...)
	defer srv.Close()
	e := newENIEnricher(t, srv, newClock())
	recs := []flowlog.Record{
		withENI(testRecord("10.0.1.45", "10.0.2.90", 40000, 5432, 6), "eni-0a1b2c3d4e5f60001"),
		withENI(testRecord("10.0.2.90", "10.0.0.10", 40000, 443, 6), "eni-0a1b2c3d4e5f60002"),
		withENI(testRecord("10.0.2.90", "10.0.1.45", 5432, 40000, 6), "eni-0a1b2c3d4e5f60003"),
	}
	out := make([]enrich.Fields, len(recs))
	st := e.Enrich(context.Background(), recs, out)
	if st.ENICalls != 1 || srv.Calls() != 1 || st.Warnings() != 0 {
		t.Fatalf("stats %+v, server calls %d; want 1 call, no warnings", st, srv.Calls())
	}
	f := out[0]
	if f.ENIInstanceID != "i-0123456789abcdef0" || f.ENIType != "interface" || f.ENIVPCID != "vpc-0aaa" ||
		f.ENISubnetID != "subnet-0bbb" || f.ENIDescription != "web server" ||
		!slices.Equal(f.ENISecurityGroupIDs, []string{"sg-0001", "sg-0002"}) ||
		f.ENITags["Name"] != "web-1" || f.ENITags["env"] != "prod" || len(f.ENITags) != 2 {
		t.Errorf("eni columns of record 0 = %+v", f)
	}
	for _, c := range []enrich.Column{enrich.ColENIInstanceID, enrich.ColENIType, enrich.ColENIVPCID, enrich.ColENISubnetID,
		enrich.ColENISecurityGroupIDs, enrich.ColENIDescription, enrich.ColENITags} {
		if !f.Has(c) {
			t.Errorf("record 0: %s not set", c)
		}
	}
	// NAT gateway: no instance, no groups, no tags → those are NULL.
	f = out[1]
	if f.ENIType != "natGateway" || f.Has(enrich.ColENIInstanceID) || f.Has(enrich.ColENISecurityGroupIDs) || f.Has(enrich.ColENITags) {
		t.Errorf("eni columns of record 1 = %+v", f)
	}
	// Direction inferred from the ENIs' own addresses (no flow-direction).
	if out[0].Direction != enrich.DirectionEgress || out[0].PeerAddr != netip.MustParseAddr("10.0.2.90") {
		t.Errorf("record 0: direction %v peer %v; want egress 10.0.2.90", out[0].Direction, out[0].PeerAddr)
	}
	if out[1].Direction != enrich.DirectionIngress || out[1].PeerAddr != netip.MustParseAddr("10.0.2.90") {
		t.Errorf("record 1: direction %v peer %v; want ingress 10.0.2.90", out[1].Direction, out[1].PeerAddr)
	}
}

func TestENICache(t *testing.T) {
	ctx := context.Background()
	srv := enrichtest.NewEC2Server(testENIs()...)
	defer srv.Close()
	clk := newClock()
	e := newENIEnricher(t, srv, clk)
	batch := func(ids ...string) []flowlog.Record {
		var recs []flowlog.Record
		for i := range 50 {
			recs = append(recs, withENI(testRecord("10.0.1.45", "8.8.8.8", 40000, 53, 17), ids[i%len(ids)]))
		}
		return recs
	}
	run := func(recs []flowlog.Record) enrich.Stats {
		return e.Enrich(ctx, recs, make([]enrich.Fields, len(recs)))
	}
	// First batch: 2 known ENIs and one deleted one, all in one request.
	st := run(batch("eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002", "eni-deleted"))
	if st.ENICalls != 1 || st.ENINotFound != 1 || srv.Calls() != 1 {
		t.Fatalf("batch 1: %+v, server calls %d; want 1 call, 1 not found", st, srv.Calls())
	}
	if got := srv.Asked()[0]; !slices.Equal(got, []string{"eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002", "eni-deleted"}) {
		t.Errorf("batch 1 asked for %v", got)
	}
	// Second batch with the same ENIs (deleted one included): no call.
	st = run(batch("eni-0a1b2c3d4e5f60002", "eni-deleted", "eni-0a1b2c3d4e5f60001"))
	if st.ENICalls != 0 || srv.Calls() != 1 {
		t.Fatalf("batch 2: %+v, server calls %d; want no call", st, srv.Calls())
	}
	// A new ENI: one call, for it alone.
	run(batch("eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60003"))
	if srv.Calls() != 2 || !slices.Equal(srv.Asked()[1], []string{"eni-0a1b2c3d4e5f60003"}) {
		t.Fatalf("batch 3: server calls %d, asked %v; want 2, [eni-…0003]", srv.Calls(), srv.Asked())
	}
	// Past the negative TTL (5m), only the deleted id is asked again.
	clk.Advance(6 * time.Minute)
	run(batch("eni-0a1b2c3d4e5f60001", "eni-deleted"))
	if srv.Calls() != 3 || !slices.Equal(srv.Asked()[2], []string{"eni-deleted"}) {
		t.Fatalf("after negative TTL: server calls %d, asked %v", srv.Calls(), srv.Asked())
	}
	// Past the TTL (10m), the known ones are asked again, together.
	clk.Advance(5 * time.Minute)
	run(batch("eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002"))
	if srv.Calls() != 4 || !slices.Equal(srv.Asked()[3], []string{"eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002"}) {
		t.Fatalf("after TTL: server calls %d, asked %v", srv.Calls(), srv.Asked())
	}
}

func TestENIPaginationAndChunks(t *testing.T) {
	var enis []enrich.ENI
	var recs []flowlog.Record
	for i := range 450 {
		id := fmt.Sprintf("eni-%017d", i)
		enis = append(enis, enrich.ENI{ID: id, Type: "interface", VPCID: "vpc-1"})
		recs = append(recs, withENI(testRecord("10.0.0.1", "10.0.0.2", 1, 2, 6), id))
	}
	srv := enrichtest.NewEC2Server(enis...)
	defer srv.Close()
	srv.SetPageSize(150)
	e := newENIEnricher(t, srv, newClock())
	out := make([]enrich.Fields, len(recs))
	st := e.Enrich(context.Background(), recs, out)
	// Chunks of 200, 200, 50 ids; pages of 150: 2 + 2 + 1 requests.
	if st.ENICalls != 5 || srv.Calls() != 5 || st.ENINotFound != 0 {
		t.Fatalf("stats %+v, server calls %d; want 5 requests", st, srv.Calls())
	}
	for _, ids := range srv.Asked() {
		if len(ids) > 200 {
			t.Errorf("a request asked for %d ids; want ≤ 200", len(ids))
		}
	}
	for i := range out {
		if out[i].ENIVPCID != "vpc-1" {
			t.Fatalf("record %d: eni_vpc_id %q; want vpc-1", i, out[i].ENIVPCID)
		}
	}
}

func TestENIThrottled(t *testing.T) {
	srv := enrichtest.NewEC2Server(testENIs()...)
	defer srv.Close()
	srv.FailNext(2, 503, "RequestLimitExceeded")
	e := newENIEnricher(t, srv, newClock())
	recs := []flowlog.Record{withENI(testRecord("10.0.1.45", "10.0.2.90", 1, 2, 6), "eni-0a1b2c3d4e5f60001")}
	out := make([]enrich.Fields, 1)
	st := e.Enrich(context.Background(), recs, out)
	if srv.Calls() != 3 || st.ENIErrors != 0 || st.ENIUnavailable != 0 || out[0].ENIInstanceID != "i-0123456789abcdef0" {
		t.Fatalf("throttled twice: server calls %d, stats %+v, instance %q; want 3 calls (2 retries), metadata", srv.Calls(), st, out[0].ENIInstanceID)
	}
}

func TestENIUnavailable(t *testing.T) {
	ctx := context.Background()
	srv := enrichtest.NewEC2Server(testENIs()...)
	defer srv.Close()
	srv.FailNext(100, 500, "InternalError")
	clk := newClock()
	e := newENIEnricher(t, srv, clk)
	recs := []flowlog.Record{
		withENI(testRecord("10.0.1.45", "10.0.2.90", 40000, 443, 6), "eni-0a1b2c3d4e5f60001"),
		withENI(testRecord("10.0.2.90", "10.0.1.45", 443, 40000, 6), "eni-0a1b2c3d4e5f60001"),
		withDirection(withENI(testRecord("10.0.0.10", "8.8.8.8", 40000, 53, 17), "eni-0a1b2c3d4e5f60002"), "egress"),
	}
	out := make([]enrich.Fields, len(recs))
	st := e.Enrich(ctx, recs, out)
	if st.ENIErrors != 1 || st.ENIUnavailable != 3 || st.Warnings() != 1 {
		t.Fatalf("stats %+v; want 1 error, 3 records unavailable", st)
	}
	calls := srv.Calls()
	if calls != 3 { // the SDK's 3 attempts
		t.Errorf("server calls %d; want 3 attempts", calls)
	}
	for i, f := range out {
		for _, c := range enrich.Columns() {
			if c.Group() == enrich.GroupENI && f.Has(c) {
				t.Errorf("record %d: %s set while EC2 is down", i, c)
			}
		}
		if !f.Has(enrich.ColProtocolName) || !f.Has(enrich.ColSrcIPClass) {
			t.Errorf("record %d: record-derived columns missing: %+v", i, f)
		}
	}
	// Without metadata, direction is NULL unless flow-direction says.
	if out[0].Has(enrich.ColDirection) || out[0].Has(enrich.ColPeerAddr) || out[2].Direction != enrich.DirectionEgress {
		t.Errorf("direction without metadata: %v %v %v", out[0].Direction, out[1].Direction, out[2].Direction)
	}
	// Within the error TTL no new call; after it, EC2 is asked again.
	e.Enrich(ctx, recs, out)
	if srv.Calls() != calls {
		t.Errorf("within error TTL: server calls %d; want %d", srv.Calls(), calls)
	}
}

func TestENIRecovers(t *testing.T) {
	ctx := context.Background()
	srv := enrichtest.NewEC2Server(testENIs()...)
	defer srv.Close()
	clk := newClock()
	e := newENIEnricher(t, srv, clk)
	recs := []flowlog.Record{withENI(testRecord("10.0.1.45", "10.0.2.90", 1, 2, 6), "eni-0a1b2c3d4e5f60001")}
	out := make([]enrich.Fields, 1)
	// Fails 3 times (all attempts): NULL.
	srv.FailNext(3, 500, "InternalError")
	if st := e.Enrich(ctx, recs, out); st.ENIUnavailable != 1 || out[0].Has(enrich.ColENIInstanceID) {
		t.Fatalf("EC2 down: %+v", st)
	}
	// After the error TTL it is asked again and succeeds.
	clk.Advance(2 * time.Minute)
	if st := e.Enrich(ctx, recs, out); st.ENIUnavailable != 0 || out[0].ENIInstanceID != "i-0123456789abcdef0" {
		t.Fatalf("EC2 back: %+v, %+v", st, out[0])
	}
	// Expired metadata whose refresh fails is served stale, not NULL.
	clk.Advance(11 * time.Minute)
	srv.FailNext(3, 500, "InternalError")
	if st := e.Enrich(ctx, recs, out); st.ENIErrors != 1 || st.ENIUnavailable != 0 || out[0].ENIInstanceID != "i-0123456789abcdef0" {
		t.Fatalf("refresh failed: %+v, instance %q; want stale metadata", st, out[0].ENIInstanceID)
	}
}

func TestENIConcurrentCallersShareOneCall(t *testing.T) {
	srv := enrichtest.NewEC2Server(testENIs()...)
	defer srv.Close()
	srv.SetDelay(100 * time.Millisecond)
	e := newENIEnricher(t, srv, newClock())
	recs := []flowlog.Record{
		withENI(testRecord("10.0.1.45", "10.0.2.90", 1, 2, 6), "eni-0a1b2c3d4e5f60001"),
		withENI(testRecord("10.0.1.45", "10.0.2.90", 1, 2, 6), "eni-0a1b2c3d4e5f60002"),
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			out := make([]enrich.Fields, len(recs))
			e.Enrich(context.Background(), recs, out)
			if out[0].ENIInstanceID != "i-0123456789abcdef0" || out[1].ENIType != "natGateway" {
				errs <- fmt.Sprintf("%+v", out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("a caller got %s", s)
	}
	if srv.Calls() != 1 {
		t.Errorf("8 concurrent callers made %d calls; want 1", srv.Calls())
	}
}
