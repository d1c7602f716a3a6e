package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowlog"
)

// LazyEnricher is an Enricher built on first use, so that a Lambda makes
// no network call at init (enrich.New reads ip-ranges.json). If building
// it fails, that call enriches without ip-ranges (those columns are NULL,
// a warning is logged) until it is tried again, a minute later.
type LazyEnricher struct {
	Config enrich.Config
	Log    *slog.Logger // default slog.Default()

	mu       sync.Mutex
	e        *enrich.Enricher
	fallback *enrich.Enricher
	retryAt  time.Time
}

// Enrich implements Enricher.
func (l *LazyEnricher) Enrich(ctx context.Context, recs []flowlog.Record, out []enrich.Fields) enrich.Stats {
	return l.get(ctx).Enrich(ctx, recs, out)
}

func (l *LazyEnricher) get(ctx context.Context) *enrich.Enricher {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.e != nil {
		return l.e
	}
	if l.fallback != nil && time.Now().Before(l.retryAt) {
		return l.fallback
	}
	e, err := enrich.New(ctx, l.Config)
	if err == nil {
		l.e = e
		return e
	}
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log.WarnContext(ctx, "enrichment without ip-ranges for now", "error", err)
	l.retryAt = time.Now().Add(time.Minute)
	if l.fallback == nil {
		cfg := l.Config
		cfg.IPRanges = nil
		if l.fallback, err = enrich.New(ctx, cfg); err != nil {
			cfg.GeoIPPath, cfg.ASNPath = "", ""
			l.fallback, _ = enrich.New(ctx, cfg) // no I/O: cannot fail
		}
	}
	return l.fallback
}
