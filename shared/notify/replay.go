package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/finding"
)

// Letter is a dead letter as its store keeps it: where (an S3 key, or a
// path below a DirDeadLetter's folder) and what.
type Letter struct {
	Key string
	Undelivered
}

// DeadLetters is a dead-letter store that can be read back and emptied, for
// replaying: S3DeadLetters and DirDeadLetter.
type DeadLetters interface {
	// List returns every dead letter, oldest first.
	List(ctx context.Context) ([]Letter, error)
	// Remove deletes one, by its Key. Removing one that is gone is not an
	// error.
	Remove(ctx context.Context, key string) error
}

// S3DeadLettersAPI is the part of the S3 client S3DeadLetters uses.
type S3DeadLettersAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// S3DeadLetters reads back the dead letters S3DeadLetter wrote below
// s3://Bucket/Prefix, and removes them once replayed.
type S3DeadLetters struct {
	Client S3DeadLettersAPI
	Bucket string
	Prefix string // such as "dead-letter/notify"
}

// List implements DeadLetters: every .json object below the prefix.
func (d *S3DeadLetters) List(ctx context.Context) ([]Letter, error) {
	prefix := strings.Trim(d.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	var out []Letter
	p := s3.NewListObjectsV2Paginator(d.Client, &s3.ListObjectsV2Input{Bucket: aws.String(d.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", d.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !strings.HasSuffix(key, ".json") {
				continue
			}
			obj, err := d.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(key)})
			if err != nil {
				return nil, fmt.Errorf("get s3://%s/%s: %w", d.Bucket, key, err)
			}
			b, err := io.ReadAll(io.LimitReader(obj.Body, 4<<20)) // one finding: SNS takes 256 KiB
			obj.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("get s3://%s/%s: %w", d.Bucket, key, err)
			}
			l := Letter{Key: key}
			if err := json.Unmarshal(b, &l.Undelivered); err != nil {
				return nil, fmt.Errorf("dead letter s3://%s/%s: %w", d.Bucket, key, err)
			}
			out = append(out, l)
		}
	}
	sortLetters(out)
	return out, nil
}

// Remove implements DeadLetters.
func (d *S3DeadLetters) Remove(ctx context.Context, key string) error {
	if _, err := d.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", d.Bucket, key, err)
	}
	return nil
}

// List implements DeadLetters; the keys are paths relative to Dir.
func (d *DirDeadLetter) List(context.Context) ([]Letter, error) {
	var out []Letter
	err := filepath.WalkDir(d.Dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			if p == d.Dir && errors.Is(err, os.ErrNotExist) {
				return filepath.SkipDir // no dead letters yet
			}
			return err
		}
		if e.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(d.Dir, p)
		l := Letter{Key: filepath.ToSlash(rel)}
		if err := json.Unmarshal(b, &l.Undelivered); err != nil {
			return fmt.Errorf("dead letter %s: %w", p, err)
		}
		out = append(out, l)
		return nil
	})
	sortLetters(out)
	return out, err
}

// Remove implements DeadLetters.
func (d *DirDeadLetter) Remove(_ context.Context, key string) error {
	if !filepath.IsLocal(filepath.FromSlash(key)) {
		return fmt.Errorf("dead letter %s: not below %s", key, d.Dir)
	}
	if err := os.Remove(filepath.Join(d.Dir, filepath.FromSlash(key))); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("dead letter: %w", err)
	}
	return nil
}

func sortLetters(ls []Letter) {
	slices.SortStableFunc(ls, func(a, b Letter) int {
		if c := a.FailedAt.Compare(b.FailedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// ReplayResult is what Replay did.
type ReplayResult struct {
	Letters  int // dead letters read
	Findings int // distinct findings among them
	Settled  int // findings published, or found not to be news, whose letters were removed
	Failed   int // findings that could not be published again: their letters stay
}

// Replay publishes the findings of the dead letters in store through pub,
// oldest first, once per finding ID however many letters hold it (a
// finding dead-lettered on each retry of its trigger), and removes a
// finding's letters once pub returned nil for it. pub should be the
// Notifier with the dedup table, whose decision keeps a finding that a
// retry has published since from being notified twice; and its SNS
// publisher should have no DeadLetter, so that a finding that fails again
// stays where it is instead of being copied. Replaying again then finds
// only what failed. The error joins the failures; a finding whose letters
// could not all be removed counts as failed.
func Replay(ctx context.Context, store DeadLetters, pub Publisher, log *slog.Logger) (ReplayResult, error) {
	letters, err := store.List(ctx)
	if err != nil {
		return ReplayResult{}, err
	}
	res := ReplayResult{Letters: len(letters)}
	byID := map[string][]Letter{}
	var order []string
	for _, l := range letters {
		id := l.Finding.ID
		if byID[id] == nil {
			order = append(order, id)
		}
		byID[id] = append(byID[id], l)
	}
	res.Findings = len(order)
	var errs []error
	for _, id := range order {
		ls := byID[id]
		f := ls[len(ls)-1].Finding // the latest: a retry's finding of the same window
		if err := pub.Publish(ctx, []finding.Finding{f}); err != nil {
			res.Failed++
			errs = append(errs, fmt.Errorf("finding %s: %w", id, err))
			logger(log).ErrorContext(ctx, "replay failed: dead letters kept", "id", id, "letters", len(ls), "error", err)
			continue
		}
		var rerr error
		for _, l := range ls {
			if err := store.Remove(ctx, l.Key); err != nil && rerr == nil {
				rerr = err
			}
		}
		if rerr != nil {
			res.Failed++
			errs = append(errs, fmt.Errorf("finding %s replayed, but: %w", id, rerr))
			continue
		}
		res.Settled++
		logger(log).InfoContext(ctx, "replayed", "id", id, "rule", f.Rule, "letters", len(ls), "keys", keysOf(ls))
	}
	return res, errors.Join(errs...)
}

func keysOf(ls []Letter) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = path.Base(l.Key)
	}
	return out
}
