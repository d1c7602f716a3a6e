package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	goaws "github.com/Admiral-Piett/goaws/app"
	goawsrouter "github.com/Admiral-Piett/goaws/app/router"
	"github.com/sirupsen/logrus"

	"github.com/flowlake/flowlake/integration/stack"
)

// snsDown, while set, makes the SNS server answer every Publish with a
// 500, as SNS does when it is unavailable.
var snsDown atomic.Bool

// startGoaws runs goaws in-process on loopback (its state is global: one
// per test binary, which this package is) and returns its URL. While
// snsDown is set, Publish fails.
func startGoaws(t *testing.T) string {
	t.Helper()
	logrus.SetOutput(io.Discard)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	goaws.CurrentEnvironment.Host = "127.0.0.1"
	goaws.CurrentEnvironment.Port = port
	goaws.CurrentEnvironment.Region = stack.Region
	goaws.CurrentEnvironment.AccountID = "111122223333"
	router := goawsrouter.New()
	faulty := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if snsDown.Load() {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			if bytes.Contains(b, []byte("Action=Publish")) {
				http.Error(w, "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>unavailable</Message></Error></ErrorResponse>", http.StatusInternalServerError)
				return
			}
		}
		router.ServeHTTP(w, r)
	})
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: faulty}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// subscriber is the topic's HTTP subscriber: it confirms the subscription
// and keeps every notification.
type subscriber struct {
	mu            sync.Mutex
	notifications []delivered
}

// delivered is an SNS HTTP notification, as SNS documents its JSON.
type delivered struct {
	Type, MessageId, TopicArn, Subject, Message string
	MessageAttributes                           map[string]struct{ Type, Value string }
}

func (s *subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	switch r.Header.Get("x-amz-sns-message-type") {
	case "SubscriptionConfirmation":
		var m struct{ SubscribeURL string }
		json.Unmarshal(b, &m)
		go func() { // confirm as a subscriber does, after answering
			if resp, err := http.Get(m.SubscribeURL); err == nil {
				resp.Body.Close()
			}
		}()
	case "Notification":
		var n delivered
		if err := json.Unmarshal(b, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.notifications = append(s.notifications, n)
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (s *subscriber) all() []delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notifications)
}
