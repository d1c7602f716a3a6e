package lake

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Store is where the lake's objects go: a local folder (DirStore) or an S3
// bucket (S3Store), with the same keys.
type Store interface {
	// Create starts the object at key. Its content is what is written to
	// the returned Object; it becomes visible, replacing any object at the
	// same key, only when Commit succeeds.
	Create(ctx context.Context, key string) (Object, error)
}

// Object is an object being written.
type Object interface {
	io.Writer
	// Commit finishes the object and makes it visible.
	Commit() error
	// Abort discards the object. It is a no-op after Commit.
	Abort()
}

// DirStore is a Store in a local folder: key a/b/c.parquet is the file
// Root/a/b/c.parquet. Objects are written to a hidden temporary file in the
// same folder and renamed into place on Commit, so readers never see half a
// file.
type DirStore struct {
	Root string
}

// Create implements Store.
func (d DirStore) Create(_ context.Context, key string) (Object, error) {
	path := filepath.Join(d.Root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	return &fileObject{f: f, path: path}, nil
}

type fileObject struct {
	f    *os.File
	path string
	done bool
}

func (o *fileObject) Write(p []byte) (int, error) { return o.f.Write(p) }

func (o *fileObject) Commit() error {
	o.done = true
	if err := o.f.Close(); err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	if err := os.Rename(o.f.Name(), o.path); err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}

func (o *fileObject) Abort() {
	if o.done {
		return
	}
	o.done = true
	o.f.Close()
	os.Remove(o.f.Name())
}
