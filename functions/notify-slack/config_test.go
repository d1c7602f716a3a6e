package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	c, err := configFromEnv(env(map[string]string{
		"SLACK_WEBHOOK_SECRET":     "arn:aws:secretsmanager:us-east-1:111122223333:secret:flowlake/slack-AbCdEf",
		"SLACK_WEBHOOK_SECRET_KEY": "webhook_url", "SECRET_TTL": "1h", "DIGEST": "true", "DIGEST_MIN": "5", "MIN_SEVERITY": "High",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretKey != "webhook_url" || c.SecretTTL != time.Hour || !c.Handler.Digest || c.Handler.DigestMin != 5 || c.Handler.MinSeverity != finding.High {
		t.Errorf("configFromEnv() = %+v", c)
	}
	for name, m := range map[string]map[string]string{
		"missing":      {},
		"bad digest":   {"SLACK_WEBHOOK_SECRET": "s", "DIGEST": "maybe"},
		"bad severity": {"SLACK_WEBHOOK_SECRET": "s", "MIN_SEVERITY": "urgent"},
		"bad ttl":      {"SLACK_WEBHOOK_SECRET": "s", "SECRET_TTL": "soon"},
	} {
		if _, err := configFromEnv(env(m)); err == nil {
			t.Errorf("configFromEnv(%s) = nil error", name)
		}
	}
}

// TestURLInEnvIsRefused: the webhook URL in the environment is refused,
// and the error does not repeat it.
func TestURLInEnvIsRefused(t *testing.T) {
	_, err := configFromEnv(env(map[string]string{"SLACK_WEBHOOK_SECRET": "https://hooks.slack.com/services/T0/B0/s3cr3t"}))
	if !errors.Is(err, errURLInEnv) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("configFromEnv(url) = %v; want errURLInEnv without the URL", err)
	}
}
