package faults

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"

	goaws "github.com/Admiral-Piett/goaws/app"
	goawsrouter "github.com/Admiral-Piett/goaws/app/router"
	"github.com/sirupsen/logrus"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/finding"
)

// goawsServer is goaws in-process on a fixed loopback address, which a
// case can stop (the listener and every connection closed: calls are
// refused) and start again; its state (topics, subscriptions) is global
// and outlives a stop, as SNS's does.
type goawsServer struct {
	URL  string
	addr string
	h    http.Handler

	mu  sync.Mutex
	srv *http.Server
}

func startGoaws(t *testing.T) *goawsServer {
	t.Helper()
	logrus.SetOutput(io.Discard)
	addr := stack.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	goaws.CurrentEnvironment.Host = "127.0.0.1"
	goaws.CurrentEnvironment.Port = port
	goaws.CurrentEnvironment.Region = stack.Region
	goaws.CurrentEnvironment.AccountID = "111122223333"
	g := &goawsServer{URL: "http://" + addr, addr: addr, h: goawsrouter.New()}
	g.Start(t)
	t.Cleanup(g.Stop)
	return g
}

// Start serves again on the same address.
func (g *goawsServer) Start(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", g.addr)
	if err != nil {
		t.Fatalf("goaws: listen %s: %v", g.addr, err)
	}
	srv := &http.Server{Handler: g.h}
	go srv.Serve(l)
	g.mu.Lock()
	g.srv = srv
	g.mu.Unlock()
}

// Stop closes the listener and every connection.
func (g *goawsServer) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.srv != nil {
		g.srv.Close()
		g.srv = nil
	}
}

// subscriber is the topic's HTTP subscriber: it confirms the subscription
// and keeps every finding delivered. onDeliver, if set, runs before it
// answers (goaws delivers during the Publish call).
type subscriber struct {
	mu        sync.Mutex
	delivered []delivery
	onDeliver func(f finding.Finding)
}

// delivery is one SNS HTTP notification of a finding.
type delivery struct {
	Finding finding.Finding
	Event   []byte // the SNS Lambda event SNS would give notify-slack for it
}

func (s *subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	switch r.Header.Get("x-amz-sns-message-type") {
	case "SubscriptionConfirmation":
		var m struct{ SubscribeURL string }
		json.Unmarshal(b, &m)
		go func() {
			if resp, err := http.Get(m.SubscribeURL); err == nil {
				resp.Body.Close()
			}
		}()
	case "Notification":
		var n struct{ Type, MessageId, TopicArn, Subject, Message string }
		if err := json.Unmarshal(b, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// goaws delivers the whole MessageStructure=json object where SNS
		// would deliver its "default".
		var perProtocol map[string]string
		json.Unmarshal([]byte(n.Message), &perProtocol)
		f, err := finding.Unmarshal([]byte(perProtocol["default"]))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ev, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
			"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": n.TopicArn + ":faults",
			"Sns": map[string]any{"Type": n.Type, "MessageId": n.MessageId, "TopicArn": n.TopicArn, "Subject": n.Subject,
				"Message": perProtocol["lambda"], "Timestamp": "2026-11-24T00:00:00.000Z"},
		}}})
		s.mu.Lock()
		s.delivered = append(s.delivered, delivery{f, ev})
		on := s.onDeliver
		s.mu.Unlock()
		if on != nil {
			on(f)
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (s *subscriber) all() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered)
}

func (s *subscriber) setOnDeliver(f func(finding.Finding)) {
	s.mu.Lock()
	s.onDeliver = f
	s.mu.Unlock()
}

var errKilled = errors.New("the function was killed during the invocation")

func itoa(n int) string { return strconv.Itoa(n) }
