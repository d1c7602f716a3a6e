package compact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/flowlake/flowlake/shared/lake"
)

// Bucket is the lake's store as the compactor uses it: besides writing
// objects (lake.Store), it lists, reads and deletes them. Dir is a local
// folder, S3 a bucket. Keys are slash-separated, as lake.Store's.
type Bucket interface {
	lake.Store
	// Prefixes returns the common prefixes one level below prefix (which
	// ends in '/'), each ending in '/', sorted.
	Prefixes(ctx context.Context, prefix string) ([]string, error)
	// List returns every object under prefix (which ends in '/'), at any
	// depth, sorted by key. Objects being written are not listed.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Fetch makes the object at key a local file: a Dir's own file, an
	// S3 object's download into a temporary file. done removes what
	// Fetch made; the file must not be written.
	Fetch(ctx context.Context, key string) (path string, done func(), err error)
	// Delete deletes the objects at keys; a key with no object is not an
	// error.
	Delete(ctx context.Context, keys []string) error
}

// Object is an object a Bucket lists.
type Object struct {
	Key  string
	Size int64
	// Tag changes whenever the object is written again: S3's ETag; a
	// Dir's file size and modification time.
	Tag string
}

// Dir is a Bucket in a local folder, laid out as lake.DirStore writes it.
type Dir struct {
	Root string
}

func (d Dir) path(key string) string { return filepath.Join(d.Root, filepath.FromSlash(key)) }

// Create implements lake.Store (lake.DirStore: a hidden temporary file,
// renamed into place on Commit).
func (d Dir) Create(ctx context.Context, key string) (lake.Object, error) {
	return lake.DirStore{Root: d.Root}.Create(ctx, key)
}

// Prefixes implements Bucket.
func (d Dir) Prefixes(_ context.Context, prefix string) ([]string, error) {
	entries, err := os.ReadDir(d.path(prefix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, prefix+e.Name()+"/")
		}
	}
	return out, nil
}

// List implements Bucket. Hidden files (a DirStore object being written
// is a hidden temporary file) are not objects.
func (d Dir) List(_ context.Context, prefix string) ([]Object, error) {
	root := d.path(prefix)
	var out []Object
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return fs.SkipAll
			}
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while listing
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(d.Root, path)
		if err != nil {
			return err
		}
		out = append(out, Object{Key: filepath.ToSlash(rel), Size: fi.Size(),
			Tag: strconv.FormatInt(fi.Size(), 10) + "-" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Fetch implements Bucket: the object's own file.
func (d Dir) Fetch(_ context.Context, key string) (string, func(), error) {
	p := d.path(key)
	if _, err := os.Stat(p); err != nil {
		return "", nil, fmt.Errorf("fetch %s: %w", key, err)
	}
	return p, func() {}, nil
}

// Delete implements Bucket.
func (d Dir) Delete(_ context.Context, keys []string) error {
	for _, k := range keys {
		if err := os.Remove(d.path(k)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return nil
}

// S3API is the part of the S3 client the S3 bucket uses: lake.S3API's
// writes, and listing, reading and deleting. *s3.Client implements it.
type S3API interface {
	lake.S3API
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// S3 is a Bucket in an S3 bucket. Objects are written by lake.S3Store;
// an object fetched is downloaded whole into a temporary file under
// TempDir, so that memory does not grow with what a run reads.
type S3 struct {
	Client S3API
	Bucket string
	// TempDir holds the downloads ("": os.TempDir(), /tmp on Lambda).
	TempDir string
}

func (b *S3) where(key string) string { return "s3://" + b.Bucket + "/" + key }

// Create implements lake.Store.
func (b *S3) Create(ctx context.Context, key string) (lake.Object, error) {
	return (&lake.S3Store{Client: b.Client, Bucket: b.Bucket}).Create(ctx, key)
}

// Prefixes implements Bucket.
func (b *S3) Prefixes(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.Bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", b.where(prefix), err)
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, aws.ToString(cp.Prefix))
		}
	}
	slices.Sort(out)
	return out, nil
}

// List implements Bucket.
func (b *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	p := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{Bucket: aws.String(b.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", b.where(prefix), err)
		}
		for _, o := range page.Contents {
			out = append(out, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), Tag: strings.Trim(aws.ToString(o.ETag), `"`)})
		}
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Fetch implements Bucket: a download into a temporary file.
func (b *S3) Fetch(ctx context.Context, key string) (string, func(), error) {
	out, err := b.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(key)})
	if err != nil {
		return "", nil, fmt.Errorf("get %s: %w", b.where(key), err)
	}
	defer out.Body.Close()
	f, err := os.CreateTemp(b.TempDir, "flowlake-compact-*")
	if err != nil {
		return "", nil, fmt.Errorf("get %s: %w", b.where(key), err)
	}
	done := func() { os.Remove(f.Name()) }
	_, err = io.Copy(f, out.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		done()
		return "", nil, fmt.Errorf("get %s: %w", b.where(key), err)
	}
	return f.Name(), done, nil
}

// Delete implements Bucket, in DeleteObjects requests of up to 1,000 keys.
func (b *S3) Delete(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 1000)]
		keys = keys[len(batch):]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := b.Client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(b.Bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("delete %d objects of s3://%s: %w", len(batch), b.Bucket, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete %s: %s: %s (and %d more errors)", b.where(aws.ToString(e.Key)),
				aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1)
		}
	}
	return nil
}
