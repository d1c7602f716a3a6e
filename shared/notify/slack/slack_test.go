package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
	goldenfile "github.com/flowlake/flowlake/shared/golden"
	"github.com/flowlake/flowlake/shared/notify/slack"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got)
}

func indent(t *testing.T, m slack.Message) []byte {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}

// TestGolden renders every rule's sample finding, and a digest of all.
func TestGolden(t *testing.T) {
	samples := detect.Samples()
	for _, f := range samples {
		t.Run(f.Rule, func(t *testing.T) {
			m := slack.Render(&f)
			checkLimits(t, m)
			golden(t, f.Rule+".json.golden", indent(t, m))
		})
	}
	t.Run("digest", func(t *testing.T) {
		m := slack.Digest(samples)
		checkLimits(t, m)
		golden(t, "digest.json.golden", indent(t, m))
	})
}

// checkLimits checks Block Kit's limits and that every code block closes.
func checkLimits(t *testing.T, m slack.Message) {
	t.Helper()
	var blocks []slack.Block
	blocks = append(blocks, m.Blocks...)
	for _, a := range m.Attachments {
		blocks = append(blocks, a.Blocks...)
	}
	if len(blocks) > 50 {
		t.Errorf("%d blocks; Slack takes 50", len(blocks))
	}
	for _, b := range blocks {
		if b.Type == "header" && len([]rune(b.Text.Text)) > 150 {
			t.Errorf("header of %d characters", len([]rune(b.Text.Text)))
		}
		if b.Text != nil && len([]rune(b.Text.Text)) > 3000 {
			t.Errorf("section of %d characters", len([]rune(b.Text.Text)))
		}
		if b.Text != nil && strings.Count(b.Text.Text, "```")%2 != 0 {
			t.Errorf("unbalanced code fence in %q", b.Text.Text)
		}
		if len(b.Fields) > 10 {
			t.Errorf("%d fields; Slack takes 10", len(b.Fields))
		}
	}
}

// hostile is a finding whose data tries every injection.
func hostile() finding.Finding {
	f := detect.Samples()[0]
	f.Title = "<!channel> *urgent*"
	f.Description = "ping <!here> and <@U012ABCDEF> or @channel @Here, see <https://evil.example|the docs> & _this_ ~that~ `code`"
	f.AccountID = "<!everyone>"
	f.InterfaceID = "eni-1 <@W999>"
	f.Src = "1.2.3.4*bold*"
	f.Query = "SELECT 1\n```\n<!channel> escaped the fence\n````"
	f.Evidence.Samples[0].Action = "ACCEPT```<!channel>"
	return f
}

func TestRenderEscapesData(t *testing.T) {
	f := hostile()
	for name, m := range map[string]slack.Message{"render": slack.Render(&f), "digest": slack.Digest([]finding.Finding{f, f, f})} {
		checkLimits(t, m)
		b, _ := json.Marshal(m)
		var all strings.Builder
		all.WriteString(m.Text)
		for _, a := range append([]slack.Attachment{{Blocks: m.Blocks}}, m.Attachments...) {
			for _, bl := range a.Blocks {
				if bl.Text != nil {
					all.WriteString("\n" + bl.Text.Text)
				}
				for _, x := range append(bl.Fields, bl.Elements...) {
					all.WriteString("\n" + x.Text)
				}
			}
		}
		s := all.String()
		for _, bad := range []string{"<!", "<@", "<http", "@channel", "@here", "@Here", "@everyone"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s: %q survives in %s", name, bad, b)
			}
		}
		// Outside code blocks, where Slack formats, no marker survives.
		// (Header text is plain_text, which Slack does not format.)
		outside := regexp.MustCompile("(?s)```.*?```").ReplaceAllString(strings.Replace(s, m.Blocks[0].Text.Text, "", 1), "")
		for _, bad := range []string{"*bold*", "*urgent*", "_this_", "~that~", "`code`"} {
			if strings.Contains(outside, bad) {
				t.Errorf("%s: %q survives outside code in %s", name, bad, b)
			}
		}
		if strings.Contains(s, "&lt;!channel&gt;") == false && name == "render" {
			t.Errorf("%s: <!channel> not shown escaped", name)
		}
		// The only bare ``` are our own fences: an even number per text.
		for _, txt := range strings.Split(s, "\n*") {
			if strings.Count(txt, "```")%2 != 0 {
				t.Errorf("%s: a fence is broken in %q", name, txt)
			}
		}
	}
}

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a & b < c > d", "a &amp; b &lt; c &gt; d"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"hi @channel and @here", "hi @\u200bchannel and @\u200bhere"},
		{"user@example.com", "user@example.com"},
		{"*b* _i_ ~s~ `c`", "\u2217b\u2217 \u02cdi\u02cd \u223cs\u223c \u02cbc\u02cb"},
		{"line\nbreak\u202e", "line break"},
	} {
		if got := slack.Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	if got := slack.EscapeCode("a\n```b````"); strings.Contains(got, "```") || !strings.Contains(got, "a\n") {
		t.Errorf("EscapeCode(...) = %q; want no ``` and the line break kept", got)
	}
}

// hook is a loopback webhook that records payloads and answers with the
// queued statuses, then 200.
type hook struct {
	mu       sync.Mutex
	bodies   []string
	statuses []int
	retry    string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bodies = append(h.bodies, string(b))
	if len(h.statuses) > 0 {
		st := h.statuses[0]
		h.statuses = h.statuses[1:]
		if st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", h.retry)
		}
		w.WriteHeader(st)
		io.WriteString(w, http.StatusText(st))
		return
	}
	io.WriteString(w, "ok")
}

const secretPath = "/services/T000/B000/s3cr3tT0k3n"

func newHook(t *testing.T, h *hook) (*slack.Webhook, *[]time.Duration) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var waits []time.Duration
	return &slack.Webhook{
		URL:      func(context.Context) (string, error) { return srv.URL + secretPath, nil },
		Attempts: 4,
		Backoff:  10 * time.Millisecond,
		Sleep:    func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
	}, &waits
}

func TestWebhookRetries(t *testing.T) {
	h := &hook{statuses: []int{429, 500, 503}, retry: "2"}
	w, waits := newHook(t, h)
	f := detect.Samples()[1]
	if err := w.Post(context.Background(), slack.Render(&f)); err != nil {
		t.Fatalf("Post() = %v; want success on the 4th attempt", err)
	}
	if len(h.bodies) != 4 {
		t.Errorf("%d attempts; want 4", len(h.bodies))
	}
	if want := []time.Duration{2 * time.Second, 20 * time.Millisecond, 40 * time.Millisecond}; !equal(*waits, want) {
		t.Errorf("waits %v; want %v (Retry-After, then backoff)", *waits, want)
	}
	var m slack.Message
	if err := json.Unmarshal([]byte(h.bodies[3]), &m); err != nil || len(m.Attachments) != 1 {
		t.Errorf("payload %s: %v", h.bodies[3], err)
	}
}

func equal(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWebhookGivesUp(t *testing.T) {
	f := detect.Samples()[1]
	t.Run("5xx every time", func(t *testing.T) {
		w, _ := newHook(t, &hook{statuses: []int{500, 502, 503, 504, 500}})
		err := w.Post(context.Background(), slack.Render(&f))
		if !errors.Is(err, slack.ErrUnavailable) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Post() = %v; want ErrUnavailable without the URL's secret", err)
		}
	})
	t.Run("4xx is final", func(t *testing.T) {
		h := &hook{statuses: []int{400}}
		w, _ := newHook(t, h)
		err := w.Post(context.Background(), slack.Render(&f))
		if !errors.Is(err, slack.ErrRejected) || len(h.bodies) != 1 || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Post() = %v after %d attempts; want ErrRejected after 1", err, len(h.bodies))
		}
	})
	t.Run("Retry-After past the deadline", func(t *testing.T) {
		h := &hook{statuses: []int{429}, retry: "30"}
		w, waits := newHook(t, h)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := w.Post(ctx, slack.Render(&f))
		if !errors.Is(err, slack.ErrUnavailable) || len(*waits) != 0 {
			t.Errorf("Post() = %v, waited %v; want ErrUnavailable at once", err, *waits)
		}
	})
	t.Run("network error keeps the URL out", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL + secretPath
		srv.Close()
		w := &slack.Webhook{URL: func(context.Context) (string, error) { return url, nil }, Attempts: 2,
			Sleep: func(context.Context, time.Duration) error { return nil }}
		err := w.Post(context.Background(), slack.Render(&f))
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "/services/") {
			t.Errorf("Post() = %v; want an error without the URL's path", err)
		}
	})
}

func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandleSNS(t *testing.T) {
	var ev events.SNSEvent
	if err := json.Unmarshal(event(t, "sns.json"), &ev); err != nil {
		t.Fatal(err)
	}
	var got []slack.Message
	h := &slack.Handler{Poster: slack.PostFunc(func(_ context.Context, m slack.Message) error { got = append(got, m); return nil })}
	if err := h.HandleSNS(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0].Text, "HIGH") {
		t.Errorf("posted %+v; want one HIGH message", got)
	}

	fail := &slack.Handler{Poster: slack.PostFunc(func(context.Context, slack.Message) error { return slack.ErrUnavailable })}
	if err := fail.HandleSNS(context.Background(), ev); !errors.Is(err, slack.ErrUnavailable) {
		t.Errorf("HandleSNS() = %v; want the post's error, so SNS retries", err)
	}
	ev.Records[0].SNS.Message = `{"hello":"world"}`
	if err := h.HandleSNS(context.Background(), ev); !errors.Is(err, slack.ErrNotFinding) {
		t.Errorf("HandleSNS(not a finding) = %v; want ErrNotFinding", err)
	}
}

func TestHandleSQS(t *testing.T) {
	var ev events.SQSEvent
	if err := json.Unmarshal(event(t, "sqs.json"), &ev); err != nil {
		t.Fatal(err)
	}
	// sqs.json: m1 raw, m2 in an SNS envelope, m3 not a finding, m4 raw.
	var posted []string
	h := &slack.Handler{Poster: slack.PostFunc(func(_ context.Context, m slack.Message) error {
		if strings.Contains(m.Text, "RDP") {
			return slack.ErrUnavailable
		}
		posted = append(posted, m.Text)
		return nil
	})}
	resp, err := h.HandleSQS(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if strings.Join(failed, ",") != "m3,m4" || len(posted) != 2 {
		t.Errorf("failures %v, posted %d; want m3,m4 failed and 2 posted", failed, len(posted))
	}

	var digests []slack.Message
	d := &slack.Handler{Digest: true, DigestMin: 2, Poster: slack.PostFunc(func(_ context.Context, m slack.Message) error { digests = append(digests, m); return nil })}
	resp, err = d.HandleSQS(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("digest: %v, %+v", err, resp)
	}
	if len(digests) != 1 || !regexp.MustCompile(`^:red_circle: 3 findings: 2 high, 1 medium$`).MatchString(digests[0].Text) {
		t.Errorf("digest posted %d messages, text %q", len(digests), digests[0].Text)
	}
}

func TestHandleDispatches(t *testing.T) {
	posts := 0
	h := &slack.Handler{Poster: slack.PostFunc(func(context.Context, slack.Message) error { posts++; return nil })}
	resp, err := h.Handle(context.Background(), event(t, "sns.json"))
	if err != nil || resp != nil || posts != 1 {
		t.Errorf("Handle(sns) = %v, %v, %d posts", resp, err, posts)
	}
	resp, err = h.Handle(context.Background(), event(t, "sqs.json"))
	if err != nil || resp == nil || len(resp.BatchItemFailures) != 1 || posts != 4 {
		t.Errorf("Handle(sqs) = %+v, %v, %d posts", resp, err, posts)
	}
	if _, err := h.Handle(context.Background(), []byte(`{"Records":[{"eventSource":"aws:s3"}]}`)); err == nil {
		t.Errorf("Handle(s3) = nil; want an error")
	}
}
