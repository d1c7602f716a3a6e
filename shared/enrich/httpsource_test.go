package enrich_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/flowlake/flowlake/shared/enrich"
)

// HTTPSource fetches ip-ranges.json with a conditional GET on its ETag: an
// unchanged document costs a 304 and keeps the table, a changed one loads.
func TestHTTPSource(t *testing.T) {
	var doc atomic.Value
	write := func(service string) {
		var b bytes.Buffer
		enrich.WriteIPRanges(&b, &enrich.IPRanges{SyncToken: service, CreateDate: "2026-11-01-00-00-00",
			Prefixes: []enrich.IPPrefix{{IPPrefix: "52.216.0.0/15", Region: "us-east-1", Service: service}}})
		doc.Store(b.Bytes())
	}
	write("S3")
	var gets, notModified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		body := doc.Load().([]byte)
		etag := `"` + string(rune('a'+len(body)%26)) + `"`
		if r.Header.Get("If-None-Match") == etag {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write(body)
	}))
	defer srv.Close()
	src := enrich.HTTPSource{URL: srv.URL}
	ctx := context.Background()
	rc, v, err := src.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := enrich.ParseIPRanges(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if r := rs.Lookup(netip.MustParseAddr("52.216.1.1")); r == nil || r.Service != "S3" {
		t.Errorf("Lookup = %+v; want S3", r)
	}
	if _, _, err := src.Open(ctx, v); !errors.Is(err, enrich.ErrNotModified) || notModified.Load() != 1 {
		t.Errorf("second Open = %v (304s %d); want ErrNotModified", err, notModified.Load())
	}
	write("AMAZON_CONNECT")
	rc, v2, err := src.Open(ctx, v)
	if err != nil || v2 == v {
		t.Fatalf("Open after a change = %q, %v", v2, err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	if gets.Load() != 3 {
		t.Errorf("%d GETs; want 3", gets.Load())
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	defer gone.Close()
	if _, _, err := (enrich.HTTPSource{URL: gone.URL}).Open(ctx, ""); err == nil {
		t.Error("Open of a 404 succeeded")
	}
}
