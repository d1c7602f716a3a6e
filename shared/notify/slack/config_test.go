package slack_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify/slack"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	c, err := slack.ConfigFromEnv(env(map[string]string{
		slack.EnvWebhookSecret:    "arn:aws:secretsmanager:us-east-1:111122223333:secret:flowlake/slack-AbCdEf",
		slack.EnvWebhookSecretKey: "webhook_url", slack.EnvSecretTTL: "1h", slack.EnvDigest: "true", slack.EnvDigestMin: "5",
		slack.EnvMinSeverity: "High",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretKey != "webhook_url" || c.SecretTTL != time.Hour || !c.Handler.Digest || c.Handler.DigestMin != 5 || c.Handler.MinSeverity != finding.High {
		t.Errorf("ConfigFromEnv() = %+v", c)
	}
	for name, m := range map[string]map[string]string{
		"missing":      {},
		"bad digest":   {slack.EnvWebhookSecret: "s", slack.EnvDigest: "maybe"},
		"bad severity": {slack.EnvWebhookSecret: "s", slack.EnvMinSeverity: "urgent"},
		"bad ttl":      {slack.EnvWebhookSecret: "s", slack.EnvSecretTTL: "soon"},
	} {
		if _, err := slack.ConfigFromEnv(env(m)); err == nil {
			t.Errorf("ConfigFromEnv(%s) = nil error", name)
		}
	}
}

// TestURLInEnvIsRefused: the webhook URL in the environment is refused,
// and the error does not repeat it.
func TestURLInEnvIsRefused(t *testing.T) {
	_, err := slack.ConfigFromEnv(env(map[string]string{slack.EnvWebhookSecret: "https://hooks.slack.com/services/T0/B0/s3cr3t"}))
	if !errors.Is(err, slack.ErrURLInEnv) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("ConfigFromEnv(url) = %v; want ErrURLInEnv without the URL", err)
	}
}
