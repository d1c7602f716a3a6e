package versitygw

import (
	"bytes"
	"context"
	"errors"
	"github.com/flowlake/flowlake/integration/stack"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/enrich"
)

// TestS3SourceVersityGW reads ip-ranges.json through enrich.S3Source from a
// real S3 implementation: ETags, conditional GET and 304 as S3 does them.
func TestS3SourceVersityGW(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := stack.StartS3(t)
	srv.Bucket(t, "cfg")
	client := srv.Client
	put := func(doc *enrich.IPRanges) {
		var buf bytes.Buffer
		enrich.WriteIPRanges(&buf, doc)
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cfg"), Key: aws.String("ip-ranges.json"), Body: bytes.NewReader(buf.Bytes())}); err != nil {
			t.Fatal(err)
		}
	}
	put(ranges())
	src := enrich.S3Source{Client: client, Bucket: "cfg", Key: "ip-ranges.json"}
	body, etag, err := src.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := enrich.ParseIPRanges(body)
	body.Close()
	if err != nil || etag == "" || rs.Len() != 3 {
		t.Fatalf("Open: etag %q, ranges %v, %v", etag, rs, err)
	}
	if _, _, err := src.Open(ctx, etag); !errors.Is(err, enrich.ErrNotModified) {
		t.Fatalf("Open(etag) error = %v; want ErrNotModified", err)
	}
	doc := ranges()
	doc.SyncToken = "2"
	put(doc)
	body, etag2, err := src.Open(ctx, etag)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, body)
	body.Close()
	if etag2 == etag {
		t.Errorf("ETag unchanged after a new PutObject: %s", etag2)
	}
}

// ranges is a small ip-ranges.json document of three ranges.
func ranges() *enrich.IPRanges {
	return &enrich.IPRanges{
		SyncToken: "1", CreateDate: "2026-11-24-00-00-00",
		Prefixes: []enrich.IPPrefix{
			{IPPrefix: "52.216.0.0/15", Region: "us-east-1", Service: "S3", NetworkBorderGroup: "us-east-1"},
			{IPPrefix: "13.32.0.0/15", Region: "GLOBAL", Service: "CLOUDFRONT", NetworkBorderGroup: "GLOBAL"},
		},
		IPv6Prefixes: []enrich.IPv6Prefix{{IPv6Prefix: "2600:1f18::/33", Region: "us-east-1", Service: "EC2", NetworkBorderGroup: "us-east-1"}},
	}
}
