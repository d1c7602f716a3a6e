package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/notify"
)

// Errors from Webhook.Post.
var (
	// ErrRejected: Slack answered 4xx (other than 429); retrying the same
	// payload will not help (a bad payload, a revoked webhook).
	ErrRejected = errors.New("slack rejected the message")
	// ErrUnavailable: 429 or 5xx or a network error on every attempt, or
	// no time left to wait for the next one.
	ErrUnavailable = errors.New("slack webhook unavailable")
)

// Webhook posts messages to a Slack incoming webhook.
//
// The webhook URL is a secret: it is asked of URL on each post (a
// secret.Cache reads it once and caches it), and it never appears in an
// error or a log line; errors name the host only.
type Webhook struct {
	// URL returns the webhook URL.
	URL func(ctx context.Context) (string, error)
	// Client is the HTTP client (nil: one with a 10 s timeout).
	Client *http.Client
	// Attempts is how many posts are made at most (default 5).
	Attempts int
	// Backoff is the wait before the second attempt after a 5xx or a
	// network error, doubled for each further one (default 500 ms, at
	// most 8 s). A 429 waits what its Retry-After says instead.
	Backoff time.Duration
	// Sleep waits (nil: a timer that ctx can cancel); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives a line per retry (nil: slog.Default()).
	Log *slog.Logger
}

var defaultClient = &http.Client{
	Timeout: 10 * time.Second,
	// Slack does not redirect webhooks; following one would send the
	// payload somewhere else.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Post sends m. It retries 429 (after Retry-After) and 5xx and network
// errors (with backoff) while ctx's deadline leaves time for the wait, and
// returns an error wrapping ErrRejected or ErrUnavailable when it gives
// up, so that the caller (and SNS) can retry later.
func (w *Webhook) Post(ctx context.Context, m Message) error {
	body, err := Encode(m)
	if err != nil {
		return err
	}
	raw, err := w.URL(ctx)
	if err != nil {
		return fmt.Errorf("slack webhook url: %w", err)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// url.Parse errors quote the input: say nothing of it.
		return fmt.Errorf("slack webhook url is not an http(s) URL: %w", ErrRejected)
	}
	where := u.Scheme + "://" + u.Host + "/…"
	client := w.Client
	if client == nil {
		client = defaultClient
	}
	attempts := w.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	backoff := w.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	var last error
	for attempt := 1; ; attempt++ {
		wait, err := w.post(ctx, client, raw, where, body)
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrRejected) {
			return err
		}
		last = err
		if attempt >= attempts {
			break
		}
		if wait == 0 {
			wait = min(backoff<<(attempt-1), 8*time.Second)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait+time.Second {
			return fmt.Errorf("post to slack %s: %d attempts, no time left to wait %v: %w: %w", where, attempt, wait, last, ErrUnavailable)
		}
		log := w.Log
		if log == nil {
			log = slog.Default()
		}
		log.WarnContext(ctx, "slack webhook retry", "attempt", attempt, "wait", wait, "error", last)
		if err := w.sleep(ctx, wait); err != nil {
			return fmt.Errorf("post to slack %s: %w: %w", where, last, err)
		}
	}
	return fmt.Errorf("post to slack %s: %d attempts: %w: %w", where, attempts, last, ErrUnavailable)
}

// Encode returns m as the JSON a webhook takes (without HTML escaping:
// Slack's own &amp; &lt; &gt; are already in the text).
func Encode(m Message) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode slack message: %w", err)
	}
	return b.Bytes(), nil
}

// post makes one attempt. On 429 it returns Retry-After as the wait.
func (w *Webhook) post(ctx context.Context, client *http.Client, raw, where string, body []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("slack request to %s: %w", where, ErrRejected)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, scrub(err, where)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	detail := strings.TrimSpace(string(msg))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("slack answered %d %q", resp.StatusCode, detail)
	case resp.StatusCode >= 500:
		return 0, fmt.Errorf("slack answered %d %q", resp.StatusCode, detail)
	}
	return 0, fmt.Errorf("slack answered %d %q: %w", resp.StatusCode, detail, ErrRejected)
}

// retryAfter reads Retry-After in seconds (Slack's form) or as an HTTP
// date; 1 s when absent or unreadable.
func retryAfter(v string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return max(time.Duration(n)*time.Second, 100*time.Millisecond)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 100*time.Millisecond)
	}
	return time.Second
}

// scrub returns err without the webhook URL: a *url.Error keeps its
// operation and cause, with the URL replaced by where (scheme and host).
func scrub(err error, where string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: where, Err: ue.Err}
	}
	return fmt.Errorf("post to slack %s failed", where)
}

func (w *Webhook) sleep(ctx context.Context, d time.Duration) error {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	return notify.SleepContext(ctx, d)
}
