package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the part of the S3 client that S3Store uses: PutObject for small
// objects, the multipart calls for large ones. *s3.Client implements it.
type S3API = manager.UploadAPIClient

// S3Store is a Store in an S3 bucket, through the AWS SDK v2. An object is
// streamed as it is written: one PutObject if it ends up smaller than
// PartSize, else a multipart upload of PartSize parts, aborted if the
// object is aborted or fails. Memory per open object is at most
// PartSize × Concurrency.
type S3Store struct {
	Client      S3API
	Bucket      string
	PartSize    int64 // default 8 MiB (S3's minimum is 5 MiB)
	Concurrency int   // parts in flight per object, default 2
}

// ContentType is the media type of the lake's objects.
const ContentType = "application/vnd.apache.parquet"

var errAborted = errors.New("object aborted")

// Create implements Store. The upload runs with ctx until Commit or Abort.
func (s *S3Store) Create(ctx context.Context, key string) (Object, error) {
	up := manager.NewUploader(s.Client, func(u *manager.Uploader) {
		u.PartSize = cmpOr(s.PartSize, 8<<20)
		u.Concurrency = cmpOr(s.Concurrency, 2)
	})
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	o := &s3Object{pw: pw, cancel: cancel, done: make(chan error, 1), where: "s3://" + s.Bucket + "/" + key}
	go func() {
		_, err := up.Upload(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(s.Bucket),
			Key:         aws.String(key),
			Body:        pr,
			ContentType: aws.String(ContentType),
		})
		pr.CloseWithError(err) // unblock a writer if the upload failed
		o.done <- err
	}()
	return o, nil
}

type s3Object struct {
	pw       *io.PipeWriter
	cancel   context.CancelFunc
	done     chan error
	where    string
	finished bool
}

func (o *s3Object) Write(p []byte) (int, error) {
	n, err := o.pw.Write(p)
	if err != nil {
		return n, fmt.Errorf("put %s: %w", o.where, err)
	}
	return n, nil
}

func (o *s3Object) Commit() error {
	o.finished = true
	o.pw.Close()
	err := <-o.done
	o.cancel()
	if err != nil {
		return fmt.Errorf("put %s: %w", o.where, err)
	}
	return nil
}

func (o *s3Object) Abort() {
	if o.finished {
		return
	}
	o.finished = true
	o.pw.CloseWithError(errAborted)
	o.cancel()
	<-o.done
}

// ParseS3URL splits s3://bucket/prefix into the bucket and the prefix,
// without leading or trailing slashes.
func ParseS3URL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok || rest == "" {
		return "", "", fmt.Errorf("%q: not an s3://bucket/prefix URL", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	return bucket, strings.Trim(prefix, "/"), nil
}
