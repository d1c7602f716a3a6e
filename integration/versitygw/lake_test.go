package versitygw

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/lakesql"
)

// TestS3StoreMultipartAndAbort: a 12 MiB object goes up in three parts
// (versitygw returns the multipart ETag), a small one in one PutObject,
// and an aborted one never appears.
func TestS3StoreMultipartAndAbort(t *testing.T) {
	srv := stack.StartS3(t)
	srv.Bucket(t, "lake")
	client := srv.Client
	ctx := context.Background()
	store := &lake.S3Store{Client: client, Bucket: "lake", PartSize: 5 << 20}

	data := make([]byte, 12<<20)
	rand.NewChaCha8([32]byte{1}).Read(data)
	obj, err := store.Create(ctx, "big/object.parquet")
	if err != nil {
		t.Fatal(err)
	}
	for p := data; len(p) > 0; p = p[min(len(p), 100_000):] { // written in pieces, as the writer does
		if _, err := obj.Write(p[:min(len(p), 100_000)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := obj.Commit(); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("big/object.parquet")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Errorf("object content differs (%d bytes; want %d)", len(got), len(data))
	}
	if etag := aws.ToString(out.ETag); !strings.HasSuffix(strings.Trim(etag, `"`), "-3") {
		t.Errorf("ETag %s; want a multipart ETag of 3 parts", etag)
	}
	obj, _ = store.Create(ctx, "small.parquet")
	obj.Write([]byte("PAR1"))
	if err := obj.Commit(); err != nil {
		t.Fatal(err)
	}
	obj, _ = store.Create(ctx, "aborted.parquet")
	obj.Write(data[:6<<20])
	obj.Abort()
	if keys := listKeys(t, client, "lake"); !slices.Equal(keys, []string{"big/object.parquet", "small.parquet"}) {
		t.Errorf("keys = %v; want big/object.parquet small.parquet", keys)
	}
}

func listKeys(t *testing.T, client *s3.Client, bucket string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys
}

// TestConvertS3 converts the same source twice into a bucket: the keys are
// those of the local store, and the second run leaves the same objects and
// rows.
func TestConvertS3(t *testing.T) {
	srv := stack.StartS3(t)
	bucketDir := srv.Bucket(t, "lake")
	ctx := context.Background()
	var in bytes.Buffer
	if _, err := flowgen.Write(&in, flowgen.Config{Seed: 3, Records: 30_000, Header: true}); err != nil {
		t.Fatal(err)
	}
	src := lake.S3Source("flowlogs", "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/x.log.gz", `"abc"`, "")
	c := lake.Converter{Prefix: "flows", RowGroupRows: 5000}
	want, err := c.Convert(ctx, lake.DirStore{Root: t.TempDir()}, src, flowlog.NewReader(bytes.NewReader(in.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		sum, err := c.Convert(ctx, &lake.S3Store{Client: srv.Client, Bucket: "lake"}, src, flowlog.NewReader(bytes.NewReader(in.Bytes())))
		if err != nil {
			t.Fatal(err)
		}
		if keys := listKeys(t, srv.Client, "lake"); !slices.Equal(keys, want.Keys) || !slices.Equal(sum.Keys, want.Keys) {
			t.Errorf("run %d: keys %v (summary %v); want %v", run, keys, sum.Keys, want.Keys)
		}
		db, err := lakesql.Open(ctx, filepath.Join(bucketDir, "flows"), nil)
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM flows").Scan(&rows)
		db.Close()
		if err != nil || rows != 30_000 || sum.Records != 30_000 {
			t.Errorf("run %d: bucket holds %d rows (%v), summary %d; want 30000", run, rows, err, sum.Records)
		}
	}
	for _, k := range want.Keys {
		if !strings.HasPrefix(k, "flows/aws_account=123456789012/aws_region=us-east-1/day=") {
			t.Errorf("key %s: want the account and region of the S3 key as partitions", k)
		}
	}
}
