package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// DirObjects returns a GetObjectAPI that serves s3://bucket/key from the
// file dir/bucket/key, for running the S3 handler on a laptop. A missing
// file is S3's NoSuchKey; the object has no ETag (the event's is used).
func DirObjects(dir string) GetObjectFunc {
	return func(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
		bucket, key := aws.ToString(in.Bucket), aws.ToString(in.Key)
		if bucket == "" || strings.Contains(bucket, "/") || bucket == ".." || !filepath.IsLocal(filepath.FromSlash(key)) {
			return nil, fmt.Errorf("get s3://%s/%s: not a local path", bucket, key)
		}
		f, err := os.Open(filepath.Join(dir, bucket, filepath.FromSlash(key)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, &types.NoSuchKey{Message: aws.String(err.Error())})
		}
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		return &s3.GetObjectOutput{Body: f, ContentLength: aws.Int64(fi.Size())}, nil
	}
}
