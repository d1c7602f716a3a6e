package secret_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/flowlake/flowlake/shared/notify/secret"
)

// fakeSecretsManager speaks Secrets Manager's JSON protocol
// (X-Amz-Target: secretsmanager.GetSecretValue) on loopback.
func fakeSecretsManager(t *testing.T, secrets map[string]string, calls *atomic.Int32, fail *atomic.Bool) *secretsmanager.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") {
			t.Errorf("request %s %s, target %q, content type %q", r.Method, r.URL, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"))
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
			t.Errorf("unsigned request")
		}
		var in struct{ SecretId string }
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		v, ok := secrets[in.SecretId]
		if fail != nil && fail.Load() {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"AccessDeniedException","message":"not allowed"}`)
			return
		}
		if !ok {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:" + in.SecretId,
			"Name": in.SecretId, "SecretString": v, "VersionId": "v1", "VersionStages": []string{"AWSCURRENT"}})
	}))
	t.Cleanup(srv.Close)
	return secretsmanager.New(secretsmanager.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
	})
}

func TestCacheReadsOnceThroughTheSDK(t *testing.T) {
	var calls atomic.Int32
	client := fakeSecretsManager(t, map[string]string{
		"flowlake/slack":      "https://hooks.slack.test/services/T/B/tok",
		"flowlake/slack-json": `{"webhook_url":"https://hooks.slack.test/services/T/B/json"}`,
	}, &calls, nil)
	c := &secret.Cache{Client: client, ID: "flowlake/slack"}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			v, err := c.Get(context.Background())
			if err != nil || v != "https://hooks.slack.test/services/T/B/tok" {
				t.Errorf("Get() = %q, %v", v, err)
			}
		})
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("%d GetSecretValue calls; want 1", calls.Load())
	}
	j := &secret.Cache{Client: client, ID: "flowlake/slack-json", Key: "webhook_url"}
	if v, err := j.Get(context.Background()); err != nil || !strings.HasSuffix(v, "/json") {
		t.Errorf("Get(key) = %q, %v", v, err)
	}
}

func TestCacheErrors(t *testing.T) {
	var calls atomic.Int32
	var fail atomic.Bool
	client := fakeSecretsManager(t, map[string]string{"s": "https://hooks.slack.test/services/T/B/tok", "obj": `{"other":"x"}`, "bad": "{not json tok"}, &calls, &fail)
	if _, err := (&secret.Cache{Client: client, ID: "missing"}).Get(context.Background()); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("Get(missing) = %v", err)
	}
	if _, err := (&secret.Cache{Client: client, ID: "obj", Key: "webhook_url"}).Get(context.Background()); !errors.Is(err, secret.ErrEmpty) {
		t.Errorf("Get(obj, absent key) = %v; want ErrEmpty", err)
	}
	if _, err := (&secret.Cache{Client: client, ID: "bad", Key: "k"}).Get(context.Background()); err == nil || strings.Contains(err.Error(), "tok") {
		t.Errorf("Get(bad json) = %v; want an error without the value", err)
	}
	// A failure is not cached.
	fail.Store(true)
	c := &secret.Cache{Client: client, ID: "s"}
	if _, err := c.Get(context.Background()); err == nil {
		t.Fatal("Get() while denied = nil")
	}
	fail.Store(false)
	if v, err := c.Get(context.Background()); err != nil || v == "" {
		t.Errorf("Get() after the failure = %q, %v", v, err)
	}
}
