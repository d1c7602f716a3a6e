package lake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"github.com/flowlake/flowlake/integration/stack"
	"io"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// versitygw returns the pinned versitygw binary, installed into the
// repository's .cache/bin when missing. It fails the test if it cannot get
// one: the S3 store is never left untested.
func versitygw(t *testing.T) string {
	t.Helper()
	return stack.Tool(t, stack.VersityGW)
}

// s3Server starts versitygw on loopback with a posix backend in a temporary
// folder and returns a client, a fresh bucket, and the folder that holds
// the bucket's objects as plain files.
func s3Server(t *testing.T) (*s3.Client, string, string) {
	t.Helper()
	exe := versitygw(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	root := t.TempDir()
	const access, secret, region = "flowlake", "flowlake-secret", "us-east-1"
	cmd := exec.Command(exe, "--port", addr, "--region", region, "--access", access, "--secret", secret, "posix", root)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("versitygw output:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	client := s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String("http://" + addr),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(access, secret, ""),
	})
	bucket := "lake"
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return client, bucket, filepath.Join(root, bucket)
}

func TestS3StoreMultipartAndAbort(t *testing.T) {
	client, bucket, _ := s3Server(t)
	ctx := context.Background()
	store := &S3Store{Client: client, Bucket: bucket, PartSize: 5 << 20}

	// 12 MiB: three parts of 5, 5 and 2 MiB.
	data := make([]byte, 12<<20)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(data)
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
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("big/object.parquet")})
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

	// A small object is one PutObject; an aborted one never appears.
	obj, _ = store.Create(ctx, "small.parquet")
	obj.Write([]byte("PAR1"))
	if err := obj.Commit(); err != nil {
		t.Fatal(err)
	}
	obj, _ = store.Create(ctx, "aborted.parquet")
	obj.Write(data[:6<<20])
	obj.Abort()
	keys := listKeys(t, client, bucket)
	if !slices.Equal(keys, []string{"big/object.parquet", "small.parquet"}) {
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
	client, bucket, bucketDir := s3Server(t)
	ctx := context.Background()
	in := corpus(t, 30_000, true)
	src := S3Source("flowlogs", "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/x.log.gz", `"abc"`, "")
	c := Converter{Prefix: "flows", RowGroupRows: 5000}

	local := t.TempDir()
	want, err := c.Convert(ctx, DirStore{Root: local}, src, flowlog.NewReader(bytes.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		sum, err := c.Convert(ctx, &S3Store{Client: client, Bucket: bucket}, src, flowlog.NewReader(bytes.NewReader(in)))
		if err != nil {
			t.Fatal(err)
		}
		keys := listKeys(t, client, bucket)
		if !slices.Equal(keys, want.Keys) || !slices.Equal(sum.Keys, want.Keys) {
			t.Errorf("run %d: keys %v (summary %v); want %v", run, keys, sum.Keys, want.Keys)
		}
		if _, rows := lakeFiles(t, bucketDir); rows != 30_000 || sum.Records != 30_000 {
			t.Errorf("run %d: bucket holds %d rows, summary %d; want 30000", run, rows, sum.Records)
		}
	}
	for _, k := range want.Keys {
		if !strings.HasPrefix(k, "flows/aws_account=123456789012/aws_region=us-east-1/day=") {
			t.Errorf("key %s: want the account and region of the S3 key as partitions", k)
		}
	}
}

// failingPut makes every upload fail, to check that errors come back.
type failingPut struct{ S3API }

func (failingPut) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return nil, errors.New("access denied")
}

func TestConvertS3Error(t *testing.T) {
	_, err := Convert(context.Background(), &S3Store{Client: failingPut{}, Bucket: "b"}, Source{ID: "x"},
		flowlog.NewReader(strings.NewReader("2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n")))
	if err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("Convert with failing PutObject = %v; want access denied", err)
	}
}
