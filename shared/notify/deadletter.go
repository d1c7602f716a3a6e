package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/finding"
)

// Undelivered is a finding that could not be published, as the
// dead-letter store keeps it: with the reason, so it can be looked into
// and published again.
type Undelivered struct {
	Finding  finding.Finding `json:"finding"`
	Reason   string          `json:"reason"`
	TopicARN string          `json:"topic_arn"`
	Attempts int             `json:"attempts"`
	FailedAt time.Time       `json:"failed_at"`
}

// DeadLetter keeps undelivered findings. Put must be durable when it
// returns nil.
type DeadLetter interface {
	Put(ctx context.Context, u Undelivered) error
}

// DeadLetterKey is where an undelivered finding is kept, below a prefix:
// "2026/11/24/<finding id>-<failed_at in Unix nanoseconds>.json". Every
// failure gets its own object, so nothing is overwritten.
func DeadLetterKey(u *Undelivered) string {
	return u.FailedAt.UTC().Format("2006/01/02/") + safeName(u.Finding.ID) + "-" + strconv.FormatInt(u.FailedAt.UnixNano(), 10) + ".json"
}

func safeName(id string) string {
	if id == "" {
		return "no-id"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
}

// PutObjectAPI is the S3 call S3DeadLetter makes.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3DeadLetter keeps undelivered findings as JSON objects at
// s3://Bucket/Prefix/DeadLetterKey. The bucket should be private, with
// server-side encryption (findings name hosts and addresses).
type S3DeadLetter struct {
	Client PutObjectAPI
	Bucket string
	Prefix string // such as "dead-letter/notify"
}

// Put writes u.
func (d *S3DeadLetter) Put(ctx context.Context, u Undelivered) error {
	b, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode dead letter %s: %w", u.Finding.ID, err)
	}
	key := path.Join(d.Prefix, DeadLetterKey(&u))
	_, err = d.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(d.Bucket), Key: aws.String(key), Body: bytes.NewReader(b),
		ContentType: aws.String("application/json"), IfNoneMatch: aws.String("*"),
	})
	if err != nil {
		return fmt.Errorf("put dead letter s3://%s/%s: %w", d.Bucket, key, err)
	}
	return nil
}

// DirDeadLetter keeps undelivered findings as JSON files below Dir, for
// the CLI and local runs.
type DirDeadLetter struct {
	Dir string
}

// Put writes u and syncs it.
func (d *DirDeadLetter) Put(_ context.Context, u Undelivered) error {
	b, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return fmt.Errorf("encode dead letter %s: %w", u.Finding.ID, err)
	}
	p := filepath.Join(d.Dir, filepath.FromSlash(DeadLetterKey(&u)))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("dead letter %s: %w", p, err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("dead letter %s: %w", p, err)
	}
	if _, err = f.Write(append(b, '\n')); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("dead letter %s: %w", p, err)
	}
	return nil
}

// ReadDeadLetters reads the undelivered findings kept below dir by
// DirDeadLetter, oldest first.
func ReadDeadLetters(dir string) ([]Undelivered, error) {
	var out []Undelivered
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var u Undelivered
		if err := json.Unmarshal(b, &u); err != nil {
			return fmt.Errorf("dead letter %s: %w", p, err)
		}
		out = append(out, u)
		return nil
	})
	slices.SortStableFunc(out, func(a, b Undelivered) int { return a.FailedAt.Compare(b.FailedAt) })
	return out, err
}
