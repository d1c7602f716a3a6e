package enrich_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/flowlake/flowlake/integration/stack"
	"io"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/enrich"
)

// versitygw returns the pinned versitygw binary, installing it into the
// repository's .cache/bin when missing (the test fails if it cannot).
func versitygw(t *testing.T) string {
	t.Helper()
	return stack.Tool(t, stack.VersityGW)
}

// TestS3SourceVersityGW reads ip-ranges.json through S3Source from a real
// S3 implementation: ETags, conditional GET and 304 as S3 does them.
func TestS3SourceVersityGW(t *testing.T) {
	bin := versitygw(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--port", addr, "--region", "us-east-1", "--access", "AKIDTEST", "--secret", "SECRETTEST", "posix", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatalf("versitygw did not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	client := s3.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://" + addr)
		o.UsePathStyle = true
	})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cfg")}); err != nil {
		t.Fatal(err)
	}
	put := func(doc *enrich.IPRanges) {
		var buf bytes.Buffer
		enrich.WriteIPRanges(&buf, doc)
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cfg"), Key: aws.String("ip-ranges.json"), Body: bytes.NewReader(buf.Bytes())}); err != nil {
			t.Fatal(err)
		}
	}
	put(testRanges())
	src := enrich.S3Source{Client: client, Bucket: "cfg", Key: "ip-ranges.json"}
	body, etag, err := src.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := enrich.ParseIPRanges(body)
	body.Close()
	if err != nil || etag == "" || rs.Len() != 12 {
		t.Fatalf("Open: etag %q, ranges %v, %v", etag, rs, err)
	}
	if _, _, err := src.Open(ctx, etag); !errors.Is(err, enrich.ErrNotModified) {
		t.Fatalf("Open(etag) error = %v; want ErrNotModified", err)
	}
	doc := testRanges()
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
