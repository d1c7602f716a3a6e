package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the part of the S3 client that S3Store uses: PutObject for small
// objects, the multipart calls for large ones. *s3.Client implements it.
type S3API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// S3Store is a Store in an S3 bucket, through the AWS SDK v2's transfer
// manager (feature/s3/transfermanager). An object is streamed as it is
// written: one PutObject if it ends up smaller than PartSize, else a
// multipart upload of PartSize parts, aborted if the object is aborted or
// fails. Memory per open object is at most PartSize × (Concurrency + 1).
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
	partSize := cmpOr(s.PartSize, 8<<20)
	tm := transfermanager.New(uploadOnly{s.Client}, func(o *transfermanager.Options) {
		o.PartSizeBytes = partSize
		o.MultipartUploadThreshold = partSize // multipart from the first full part, as before
		o.Concurrency = cmpOr(s.Concurrency, 2)
	})
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	o := &s3Object{pw: pw, cancel: cancel, done: make(chan error, 1), where: "s3://" + s.Bucket + "/" + key}
	go func() {
		_, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
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

// uploadOnly is the client the transfer manager asks for
// (transfermanager.S3APIClient, which also downloads and lists) made of
// the upload calls S3Store has: the manager never makes the others for an
// upload.
type uploadOnly struct{ S3API }

var errNotUpload = errors.New("lake: S3Store only uploads")

func (uploadOnly) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, errNotUpload
}

func (uploadOnly) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return nil, errNotUpload
}

func (uploadOnly) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return nil, errNotUpload
}

var _ transfermanager.S3APIClient = uploadOnly{}

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
