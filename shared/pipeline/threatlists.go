package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/threatlist"
)

// ThreatListsAPI is the part of the S3 client the threat lists are read
// with. *s3.Client implements it.
type ThreatListsAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObjectAPI
}

// maxThreatListBytes bounds one list's source object.
const maxThreatListBytes = 64 << 20

// S3ThreatLists reads the threat lists of the batch engine at ingest: each
// object NAME.txt under Prefix in Bucket is the list NAME, as flowlake
// threat-list import keeps its source beside the lake's table
// (lake.ThreatListSourceKey).
type S3ThreatLists struct {
	Client ThreatListsAPI
	Bucket string
	Prefix string // ending in '/'
	Log    *slog.Logger
}

// Load reads every list. A bad line of a list is logged and skipped, as
// flowlake threat-list import skips it; an object that cannot be listed or
// read fails the load.
func (t S3ThreatLists) Load(ctx context.Context) ([]*threatlist.List, error) {
	var lists []*threatlist.List
	p := s3.NewListObjectsV2Paginator(t.Client, &s3.ListObjectsV2Input{Bucket: aws.String(t.Bucket), Prefix: aws.String(t.Prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", t.Bucket, t.Prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			name, ok := strings.CutSuffix(path.Base(key), ".txt")
			if !ok || path.Dir(key)+"/" != strings.TrimSuffix(t.Prefix, "/")+"/" {
				continue
			}
			l, err := t.load(ctx, name, key)
			if err != nil {
				return nil, err
			}
			lists = append(lists, l)
		}
	}
	return lists, nil
}

func (t S3ThreatLists) load(ctx context.Context, name, key string) (*threatlist.List, error) {
	url := "s3://" + t.Bucket + "/" + key
	out, err := t.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer out.Body.Close()
	body := &limitedReader{r: out.Body, n: maxThreatListBytes}
	l, bad, err := threatlist.Parse(name, url, body)
	if err == nil && body.over {
		err = fmt.Errorf("over %d bytes", maxThreatListBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	for _, e := range bad {
		t.logger().WarnContext(ctx, "threat list line skipped", "list", name, "error", e.Error())
	}
	t.logger().InfoContext(ctx, "loaded threat list", "list", name, "entries", l.Len(), "skipped", len(bad))
	return l, nil
}

func (t S3ThreatLists) logger() *slog.Logger {
	if t.Log == nil {
		return slog.Default()
	}
	return t.Log
}

// limitedReader reads at most n bytes and notes whether there was more.
type limitedReader struct {
	r    io.Reader
	n    int64
	over bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		if k, _ := l.r.Read(one[:]); k > 0 {
			l.over = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// LazyBatchDetectors is BatchDetectors with the threat lists that load
// reads, read once, on the first source a function sees (a cold start
// makes no network call before its first event), and kept while it stays
// warm: lists imported later reach the lake engine at once, and the batch
// engine of new instances. If loading fails, that source runs without
// lists (the failure logged) and the next one tries again, so a broken
// list never stops ingest.
func LazyBatchDetectors(cfg detect.Config, load func(ctx context.Context) ([]*threatlist.List, error), log *slog.Logger) (func() Detector, error) {
	if _, err := detect.Compile(cfg); err != nil {
		return nil, err
	}
	s := &lazySet{cfg: cfg, load: load, log: log}
	return func() Detector { return &lazyBatchDetector{sets: s} }, nil
}

type lazySet struct {
	cfg  detect.Config
	load func(ctx context.Context) ([]*threatlist.List, error)
	log  *slog.Logger

	mu  sync.Mutex
	set *detect.Set // once the lists loaded
}

func (s *lazySet) get(ctx context.Context) *detect.Set {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set != nil {
		return s.set
	}
	lists, err := s.load(ctx)
	if err == nil {
		cfg := s.cfg
		cfg.ThreatLists = lists
		if s.set, err = detect.Compile(cfg); err == nil {
			return s.set
		}
	}
	if s.log != nil {
		s.log.ErrorContext(ctx, "threat lists not loaded: detecting without them", "error", err.Error())
	}
	return detect.MustCompile(s.cfg) // LazyBatchDetectors compiled it
}

type lazyBatchDetector struct {
	sets *lazySet
	b    *detect.Batch
}

// Detect implements Detector.
func (d *lazyBatchDetector) Detect(ctx context.Context, recs []flowlog.Record, enr []enrich.Fields) ([]finding.Finding, error) {
	if d.b == nil {
		d.b = d.sets.get(ctx).NewBatch()
	}
	d.b.Observe(recs, enr)
	return nil, nil
}

// Flush implements Flusher.
func (d *lazyBatchDetector) Flush(context.Context) ([]finding.Finding, error) {
	if d.b == nil {
		return nil, nil
	}
	return d.b.Findings(), nil
}
