package notify_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flowlake/flowlake/shared/dedup"
	"github.com/flowlake/flowlake/shared/notify"
)

// TestConfigPublisher checks which publisher each environment gives: none
// without a topic, notify.SNS with dead letters in S3 when a bucket is named, and
// a notify.Notifier with the dedup table around it when a table is named.
func TestConfigPublisher(t *testing.T) {
	cl := notify.Clients{SNS: sns.New(sns.Options{})} // never called here
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr bool
		check   func(t *testing.T, p notify.Publisher)
	}{
		{name: "no topic", env: nil, check: func(t *testing.T, p notify.Publisher) {
			if p != nil {
				t.Errorf("publisher %T; want none", p)
			}
		}},
		{name: "dedup without a topic", env: map[string]string{notify.EnvDedupTable: "t"}, wantErr: true},
		{name: "bad single", env: map[string]string{notify.EnvTopicARN: "arn:t", notify.EnvSNSSingle: "maybe"}, wantErr: true},
		{name: "topic", env: map[string]string{notify.EnvTopicARN: "arn:t", notify.EnvSNSSingle: "true"}, check: func(t *testing.T, p notify.Publisher) {
			s, ok := p.(*notify.SNS)
			if !ok || s.TopicARN != "arn:t" || !s.Single || s.DeadLetter != nil {
				t.Errorf("publisher %#v; want notify.SNS to arn:t, single, no dead letters", p)
			}
		}},
		{name: "everything", env: map[string]string{notify.EnvTopicARN: "arn:t", notify.EnvDedupTable: "d", notify.EnvDeadLetterBucket: "b", notify.EnvDeadLetterPrefix: "/x/y/"},
			check: func(t *testing.T, p notify.Publisher) {
				n, ok := p.(*notify.Notifier)
				if !ok {
					t.Fatalf("publisher %T; want *Notifier", p)
				}
				if st, ok := n.Dedup.(*dedup.Store); !ok || st.Table != "d" {
					t.Errorf("dedup %#v; want the table d", n.Dedup)
				}
				s := n.Publisher.(*notify.SNS)
				if dl, ok := s.DeadLetter.(*notify.S3DeadLetter); !ok || dl.Bucket != "b" || dl.Prefix != "x/y" {
					t.Errorf("dead letters %#v; want s3://b/x/y", s.DeadLetter)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := notify.ConfigFromEnv(func(k string) string { return tc.env[k] })
			if err == nil {
				var p notify.Publisher
				if p, err = cfg.Publisher(withClients(cl, tc.env), nil, nil); err == nil {
					tc.check(t, p)
				}
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v; want error %v", err, tc.wantErr)
			}
		})
	}
}

// withClients gives the clients the environment needs (a nil interface
// for the rest, which notify.Publisher must not need).
func withClients(cl notify.Clients, env map[string]string) notify.Clients {
	if env[notify.EnvDedupTable] != "" {
		cl.DynamoDB = dynamodb.New(dynamodb.Options{})
	}
	if env[notify.EnvDeadLetterBucket] != "" {
		cl.S3 = putFunc(nil)
	}
	return cl
}
