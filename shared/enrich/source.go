package enrich

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ErrNotModified is returned by a Source whose document has not changed
// since the version the caller has.
var ErrNotModified = errors.New("not modified")

// A Source supplies the ip-ranges.json document and says when it changes.
type Source interface {
	// Open returns the document and its version, or ErrNotModified when
	// its version is still version. An empty version always opens.
	Open(ctx context.Context, version string) (io.ReadCloser, string, error)
}

// FileSource reads ip-ranges.json from a local file. Its version is the
// file's modification time and size.
type FileSource struct {
	Path string
}

// Open implements Source.
func (s FileSource) Open(_ context.Context, version string) (io.ReadCloser, string, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, "", fmt.Errorf("open ip-ranges: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, "", fmt.Errorf("stat ip-ranges: %w", err)
	}
	v := strconv.FormatInt(st.ModTime().UnixNano(), 10) + "-" + strconv.FormatInt(st.Size(), 10)
	if v == version {
		f.Close()
		return nil, version, ErrNotModified
	}
	return f, v, nil
}

// String returns the path.
func (s FileSource) String() string { return s.Path }

// getObjectAPI is the S3 method S3Source uses; *s3.Client implements it.
type getObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3Source reads ip-ranges.json from an S3 object. Its version is the
// object's ETag, and Open makes a conditional GET (If-None-Match) so an
// unchanged object costs one small request.
type S3Source struct {
	Client getObjectAPI
	Bucket string
	Key    string
}

// Open implements Source.
func (s S3Source) Open(ctx context.Context, version string) (io.ReadCloser, string, error) {
	in := &s3.GetObjectInput{Bucket: &s.Bucket, Key: &s.Key}
	if version != "" {
		in.IfNoneMatch = &version
	}
	out, err := s.Client.GetObject(ctx, in)
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotModified {
			return nil, version, ErrNotModified
		}
		return nil, "", fmt.Errorf("get s3://%s/%s: %w", s.Bucket, s.Key, err)
	}
	v := ""
	if out.ETag != nil {
		v = *out.ETag
	}
	return out.Body, v, nil
}

// String returns the s3:// URL.
func (s S3Source) String() string { return "s3://" + s.Bucket + "/" + s.Key }

// HTTPSource reads ip-ranges.json from an HTTPS URL, such as AWS's own
// https://ip-ranges.amazonaws.com/ip-ranges.json. Its version is the
// response's ETag, and Open makes a conditional GET (If-None-Match).
type HTTPSource struct {
	Client *http.Client // nil: http.DefaultClient
	URL    string
}

// AWSIPRangesURL is where AWS publishes its address ranges.
const AWSIPRangesURL = "https://ip-ranges.amazonaws.com/ip-ranges.json"

// Open implements Source.
func (s HTTPSource) Open(ctx context.Context, version string) (io.ReadCloser, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("ip-ranges %s: %w", s.URL, err)
	}
	if version != "" {
		req.Header.Set("If-None-Match", version)
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("get ip-ranges: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		v := resp.Header.Get("ETag")
		if v == "" {
			v = resp.Header.Get("Last-Modified")
		}
		return resp.Body, v, nil
	case http.StatusNotModified:
		resp.Body.Close()
		return nil, version, ErrNotModified
	}
	resp.Body.Close()
	return nil, "", fmt.Errorf("get ip-ranges %s: %s", s.URL, resp.Status)
}

// String returns the URL.
func (s HTTPSource) String() string { return s.URL }
