package integration_test

// End-to-end test of publishing findings (shared/notify) and of the
// notify-slack function (shared/notify/slack.Handler), with real SDK
// clients against servers on loopback:
//
//   - SNS: goaws v0.4.5 in-process. Its state is global, so this file
//     starts one server for the test binary (notifyGoaws) and uses topic
//     names of its own.
//   - Secrets Manager: an httptest server speaking its JSON protocol
//     (X-Amz-Target: secretsmanager.GetSecretValue).
//   - Slack: an httptest webhook that records payloads and can answer 429
//     or 500.
//
// What goaws does differently from SNS, asserted here as it is (not
// faked):
//   - It ignores MessageStructure=json for HTTP subscribers: the
//     notification's Message is the whole JSON object of per-protocol
//     messages, where SNS would deliver the "default" value (there is no
//     "http" key). The test checks that object and takes "default" (for
//     the HTTP view) and "lambda" (what SNS would hand the function) out
//     of it itself.
//   - It has no PublishBatch: the call gets 400 Bad Request, so the
//     publisher runs with Single (one Publish per finding) against it; the
//     test also shows that without Single the findings are dead-lettered
//     with the reason, not lost.
//   - It ignores filter policies for HTTP subscribers, so severity
//     filtering is checked on the attributes delivered, not on delivery.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goaws "github.com/Admiral-Piett/goaws/app"
	goawsrouter "github.com/Admiral-Piett/goaws/app/router"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/sirupsen/logrus"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/notify/secret"
	"github.com/flowlake/flowlake/shared/notify/slack"
)

var notifyGoaws struct {
	once sync.Once
	url  string
	err  error
}

// notifySNSClient starts goaws once per test binary and returns an SDK
// SNS client for it.
func notifySNSClient(t *testing.T) *sns.Client {
	t.Helper()
	notifyGoaws.once.Do(func() {
		logrus.SetOutput(io.Discard)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			notifyGoaws.err = err
			return
		}
		_, port, _ := net.SplitHostPort(l.Addr().String())
		goaws.CurrentEnvironment.Host = "127.0.0.1"
		goaws.CurrentEnvironment.Port = port
		goaws.CurrentEnvironment.Region = "us-east-1"
		goaws.CurrentEnvironment.AccountID = "111122223333"
		srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: goawsrouter.New()}}
		srv.Start() // left running for the binary: goaws's state is global
		notifyGoaws.url = srv.URL
	})
	if notifyGoaws.err != nil {
		t.Fatalf("start goaws: %v", notifyGoaws.err)
	}
	return sns.New(sns.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(notifyGoaws.url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
	})
}

// notifySubscriber is an HTTP endpoint subscribed to a topic: it keeps
// the SubscriptionConfirmation and every Notification.
type notifySubscriber struct {
	mu            sync.Mutex
	confirmations []map[string]any
	notifications []notifyDelivered
}

// notifyDelivered is an SNS HTTP notification, as SNS documents its JSON.
type notifyDelivered struct {
	Type              string
	MessageId         string
	TopicArn          string
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
	Header            http.Header `json:"-"`
}

func (s *notifySubscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Header.Get("x-amz-sns-message-type") {
	case "SubscriptionConfirmation":
		var m map[string]any
		json.Unmarshal(b, &m)
		s.confirmations = append(s.confirmations, m)
	case "Notification":
		var n notifyDelivered
		if err := json.Unmarshal(b, &n); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		n.Header = r.Header.Clone()
		s.notifications = append(s.notifications, n)
	}
	w.WriteHeader(http.StatusOK)
}

// notifyTopic creates a topic and subscribes a confirmed HTTP subscriber.
func notifyTopic(t *testing.T, ctx context.Context, client *sns.Client, name string) (string, *notifySubscriber) {
	t.Helper()
	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	sub := &notifySubscriber{}
	srv := httptest.NewServer(sub)
	t.Cleanup(srv.Close)
	if _, err := client.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(srv.URL + "/sns")}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	// goaws posts the confirmation before Subscribe returns.
	sub.mu.Lock()
	if len(sub.confirmations) != 1 {
		sub.mu.Unlock()
		t.Fatalf("%d SubscriptionConfirmations; want 1", len(sub.confirmations))
	}
	url, _ := sub.confirmations[0]["SubscribeURL"].(string)
	sub.mu.Unlock()
	resp, err := http.Get(url)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET SubscribeURL: %v, %v", err, resp)
	}
	resp.Body.Close()
	return aws.ToString(topic.TopicArn), sub
}

// notifyHook is a loopback Slack webhook: it records each payload and
// answers the queued statuses first (429 with Retry-After: 1), then 200.
type notifyHook struct {
	mu       sync.Mutex
	path     string
	statuses []int
	payloads []slack.Message
	attempts int
}

func (h *notifyHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempts++
	if r.URL.Path != h.path {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	if len(h.statuses) > 0 {
		st := h.statuses[0]
		h.statuses = h.statuses[1:]
		if st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, "rate_limited", st)
		return
	}
	var m slack.Message
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	h.payloads = append(h.payloads, m)
	io.WriteString(w, "ok")
}

// notifySecrets is a loopback Secrets Manager holding one secret.
func notifySecrets(t *testing.T, id, value string, calls *atomic.Int32) *secretsmanager.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != id {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:" + id, "Name": id, "SecretString": value})
	}))
	t.Cleanup(srv.Close)
	return secretsmanager.New(secretsmanager.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
	})
}

// TestNotifyEndToEnd publishes sample findings through the SDK to goaws,
// receives them on an HTTP subscriber with their attributes, and runs the
// notify-slack handler on them against a webhook that answers 429 and 500
// first, with the webhook URL read from Secrets Manager.
func TestNotifyEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := notifySNSClient(t)
	topicARN, sub := notifyTopic(t, ctx, client, "flowlake-notify-e2e")

	var fs []finding.Finding
	for _, f := range detect.Samples() {
		switch f.Rule {
		case "host-sweep", "ssh-brute-force", "port-scan":
			fs = append(fs, f)
		}
	}
	dl := t.TempDir()
	pub := &notify.SNS{Client: client, TopicARN: topicARN, Single: true, DeadLetter: &notify.DirDeadLetter{Dir: dl}}
	if err := pub.Publish(ctx, fs); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	// goaws delivers synchronously: the notifications are here.
	sub.mu.Lock()
	got := append([]notifyDelivered(nil), sub.notifications...)
	sub.mu.Unlock()
	if len(got) != len(fs) {
		t.Fatalf("%d notifications; want %d", len(got), len(fs))
	}
	var snsEvents []events.SNSEvent
	for i, n := range got {
		f := fs[i]
		if n.TopicArn != topicARN || n.Header.Get("x-amz-sns-topic-arn") != topicARN {
			t.Errorf("notification %d: topic %q", i, n.TopicArn)
		}
		if !strings.HasPrefix(n.Subject, "["+strings.ToUpper(string(f.Severity))+"] ") {
			t.Errorf("notification %d: subject %q", i, n.Subject)
		}
		for k, want := range map[string]string{"severity": string(f.Severity), "rule": f.Rule, "account_id": f.AccountID} {
			if a := n.MessageAttributes[k]; a.Type != "String" || a.Value != want {
				t.Errorf("notification %d: attribute %s = %+v; want String %q", i, k, a, want)
			}
		}
		if a := n.MessageAttributes["severity_rank"]; a.Type != "Number" || a.Value != map[finding.Severity]string{finding.Low: "1", finding.Medium: "2", finding.High: "3"}[f.Severity] {
			t.Errorf("notification %d: severity_rank = %+v", i, a)
		}
		// The goaws gap: Message is the whole per-protocol object.
		var perProtocol map[string]string
		if err := json.Unmarshal([]byte(n.Message), &perProtocol); err != nil {
			t.Fatalf("notification %d: Message is not the MessageStructure=json object: %v", i, err)
		}
		def, err := finding.Unmarshal([]byte(perProtocol["default"]))
		if err != nil || def.ID != f.ID || def.Query != f.Query {
			t.Errorf("notification %d: default = %v, id %s; want finding %s", i, err, def.ID, f.ID)
		}
		if !strings.Contains(perProtocol["email"], "ATHENA QUERY") || perProtocol["lambda"] != perProtocol["default"] {
			t.Errorf("notification %d: email or lambda key wrong", i)
		}
		// What SNS would hand the Lambda function.
		snsEvents = append(snsEvents, events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", SNS: events.SNSEntity{
			Type: n.Type, MessageID: n.MessageId, TopicArn: n.TopicArn, Subject: n.Subject, Message: perProtocol["lambda"],
		}}}})
	}
	if left, _ := notify.ReadDeadLetters(dl); len(left) != 0 {
		t.Errorf("%d dead letters after a clean publish", len(left))
	}

	// The Slack function: webhook URL from Secrets Manager, a 429 and a 500
	// before the first post goes through.
	hook := &notifyHook{path: "/services/T0FLOW/B0LAKE/n0tInL0gs", statuses: []int{429, 500}}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	var secretCalls atomic.Int32
	sm := notifySecrets(t, "flowlake/slack-webhook", hookSrv.URL+hook.path, &secretCalls)
	h := &slack.Handler{Poster: &slack.Webhook{URL: (&secret.Cache{Client: sm, ID: "flowlake/slack-webhook"}).Get, Backoff: 10 * time.Millisecond}}
	start := time.Now()
	for _, ev := range snsEvents {
		raw, _ := json.Marshal(ev)
		if _, err := h.Handle(ctx, raw); err != nil {
			t.Fatalf("Handle: %v", err)
		}
	}
	if time.Since(start) < time.Second {
		t.Errorf("the 429's Retry-After of 1 s was not waited")
	}
	if secretCalls.Load() != 1 {
		t.Errorf("%d GetSecretValue calls; want 1 (cached)", secretCalls.Load())
	}
	if len(hook.payloads) != len(fs) || hook.attempts != len(fs)+2 {
		t.Fatalf("%d payloads in %d attempts; want %d in %d", len(hook.payloads), hook.attempts, len(fs), len(fs)+2)
	}
	for i, m := range hook.payloads {
		if head := m.Blocks[0].Text.Text; !strings.Contains(head, strings.ToUpper(string(fs[i].Severity))) || !strings.Contains(head, fs[i].Rule) {
			t.Errorf("payload %d header %q", i, head)
		}
		if m.Attachments[0].Color != slack.Styles[fs[i].Severity].Color {
			t.Errorf("payload %d colour %q", i, m.Attachments[0].Color)
		}
	}

	// Slack down for good: the handler returns an error (so SNS retries,
	// then dead-letters), and the error does not carry the webhook's path.
	hook.mu.Lock()
	hook.statuses = []int{500, 500, 500, 500, 500}
	hook.mu.Unlock()
	h.Poster.(*slack.Webhook).Attempts = 3
	raw, _ := json.Marshal(snsEvents[0])
	_, err := h.Handle(ctx, raw)
	if !errors.Is(err, slack.ErrUnavailable) || strings.Contains(err.Error(), "n0tInL0gs") {
		t.Errorf("Handle with Slack down = %v; want ErrUnavailable without the URL path", err)
	}
}

// TestNotifyPublishBatchOnGoawsDeadLetters: goaws has no PublishBatch;
// the publisher's batches get 400, which is not retried, and every finding
// lands in the dead-letter folder with the reason.
func TestNotifyPublishBatchOnGoawsDeadLetters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := notifySNSClient(t)
	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("flowlake-notify-batch")})
	if err != nil {
		t.Fatal(err)
	}
	fs := detect.Samples()[:3]
	dl := t.TempDir()
	pub := &notify.SNS{Client: client, TopicARN: aws.ToString(topic.TopicArn), DeadLetter: &notify.DirDeadLetter{Dir: dl}}
	err = pub.Publish(ctx, fs)
	if !errors.Is(err, notify.ErrDeadLettered) {
		t.Fatalf("Publish (batch) on goaws = %v; want ErrDeadLettered", err)
	}
	left, err := notify.ReadDeadLetters(dl)
	if err != nil || len(left) != len(fs) {
		t.Fatalf("ReadDeadLetters = %d, %v; want %d", len(left), err, len(fs))
	}
	for _, u := range left {
		if !strings.Contains(u.Reason, "400") || u.TopicARN != aws.ToString(topic.TopicArn) {
			t.Errorf("dead letter %s: reason %q", u.Finding.ID, u.Reason)
		}
	}
}
