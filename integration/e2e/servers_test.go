package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	goaws "github.com/Admiral-Piett/goaws/app"
	goawsrouter "github.com/Admiral-Piett/goaws/app/router"
	"github.com/sirupsen/logrus"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/pipeline"
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

// loopback is what a central stack's functions reach, on loopback: S3
// (versitygw) with the raw and lake buckets, SNS (goaws) with the findings
// topic and an HTTP subscriber, and the dedup table (dynalite).
type loopback struct {
	s3                *stack.S3
	lakeRoot, lakeDir string // the lake bucket's folder, and its flows/
	snsURL, ddbURL    string
	creds             aws.CredentialsProvider
	ddb               *dynamodb.Client
	topicARN          string
	sub               *subscriber
}

// startLoopback starts the servers, creates the buckets, the dedup table
// and the topic named topic, and subscribes an HTTP subscriber to it.
func startLoopback(ctx context.Context, t *testing.T, raw, topic string) *loopback {
	t.Helper()
	l := &loopback{s3: stack.StartS3(t), sub: &subscriber{}}
	l.s3.Bucket(t, raw)
	l.lakeRoot = l.s3.Bucket(t, lakeBucket)
	l.lakeDir = filepath.Join(l.lakeRoot, pipeline.DefaultLakePrefix)
	l.snsURL = startGoaws(t)
	l.ddbURL = stack.StartDynamoDBServer(t, "").URL
	l.creds = credentials.NewStaticCredentialsProvider(stack.AccessKey, stack.SecretKey, "")
	snsClient := sns.New(sns.Options{Region: stack.Region, BaseEndpoint: aws.String(l.snsURL), Credentials: l.creds, RetryMaxAttempts: 1})
	l.ddb = dynamodb.New(dynamodb.Options{Region: stack.Region, BaseEndpoint: aws.String(l.ddbURL), Credentials: l.creds})
	if err := dedup.EnsureTable(ctx, l.ddb, dedupTable); err != nil {
		t.Fatal(err)
	}
	out, err := snsClient.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(topic)})
	if err != nil {
		t.Fatal(err)
	}
	l.topicARN = aws.ToString(out.TopicArn)
	subSrv := httptest.NewServer(l.sub)
	t.Cleanup(subSrv.Close)
	if _, err := snsClient.Subscribe(ctx, &sns.SubscribeInput{TopicArn: out.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(subSrv.URL + "/sns")}); err != nil {
		t.Fatal(err)
	}
	return l
}

// start runs the bootstrap of f with env (the template's environment) and,
// for the plumbing only, the loopback endpoints and credentials, the
// Lambda runtime's variables and extra.
func (l *loopback) start(t *testing.T, f stack.FunctionDef, env []string, extra ...string) *stack.Function {
	t.Helper()
	env = append(env, l.s3.Env()...)
	env = append(env,
		"AWS_LAMBDA_FUNCTION_NAME="+stackName+"-"+f.Name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(f.MemoryMB),
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(f.TimeoutS),
		"AWS_ENDPOINT_URL_SNS="+l.snsURL, "AWS_ENDPOINT_URL_DYNAMODB="+l.ddbURL,
		// goaws has no PublishBatch: one Publish per finding.
		notify.EnvSNSSingle+"=true")
	return stack.StartFunction(t, f.Bootstrap, append(env, extra...)...)
}
