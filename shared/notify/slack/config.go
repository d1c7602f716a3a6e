package slack

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
)

// Environment variables of the notify-slack function, read by
// ConfigFromEnv. The CDK app sets them from these constants.
const (
	EnvWebhookSecret    = "SLACK_WEBHOOK_SECRET"     // required: name or ARN of the Secrets Manager secret holding the webhook URL
	EnvWebhookSecretKey = "SLACK_WEBHOOK_SECRET_KEY" // the JSON field of the secret holding the URL; default the whole string
	EnvSecretTTL        = "SECRET_TTL"               // re-read the secret after this long (a Go duration); default never
	EnvDigest           = "DIGEST"                   // "true": Handler.Digest
	EnvDigestMin        = "DIGEST_MIN"               // Handler.DigestMin; default 3
	EnvMinSeverity      = "MIN_SEVERITY"             // Handler.MinSeverity (low, medium, high, critical); default every finding
)

// Config is the notify-slack function's configuration, from its
// environment.
type Config struct {
	SecretID  string        // the secret holding the webhook URL
	SecretKey string        // its JSON field ("": the whole string)
	SecretTTL time.Duration // 0: read once per container
	// Handler carries Digest, DigestMin and MinSeverity; the caller sets
	// its Poster.
	Handler Handler
}

// ErrURLInEnv refuses a webhook URL put in the environment by mistake in
// place of a secret's name. The error does not repeat the URL.
var ErrURLInEnv = errors.New(EnvWebhookSecret + " must name a Secrets Manager secret, not hold the webhook URL")

// ConfigFromEnv reads the configuration with getenv (os.Getenv). It makes
// no network call.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	c.SecretID = strings.TrimSpace(getenv(EnvWebhookSecret))
	if c.SecretID == "" {
		return c, errors.New(EnvWebhookSecret + " is not set")
	}
	if strings.Contains(c.SecretID, "://") || strings.Contains(c.SecretID, "hooks.slack.com") {
		c.SecretID = ""
		return c, ErrURLInEnv
	}
	c.SecretKey = strings.TrimSpace(getenv(EnvWebhookSecretKey))
	if v := getenv(EnvSecretTTL); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, fmt.Errorf("%s %q: want a duration such as 1h", EnvSecretTTL, v)
		}
		c.SecretTTL = d
	}
	if v := getenv(EnvDigest); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("%s %q: want true or false", EnvDigest, v)
		}
		c.Handler.Digest = b
	}
	if v := getenv(EnvDigestMin); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("%s %q: want a positive number", EnvDigestMin, v)
		}
		c.Handler.DigestMin = n
	}
	if v := getenv(EnvMinSeverity); v != "" {
		s, err := finding.ParseSeverity(v)
		if err != nil {
			return c, fmt.Errorf("%s: %w", EnvMinSeverity, err)
		}
		c.Handler.MinSeverity = s
	}
	return c, nil
}
