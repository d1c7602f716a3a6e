package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify/slack"
)

// settings is what the environment says.
type settings struct {
	SecretID  string
	SecretKey string
	SecretTTL time.Duration
	Handler   slack.Handler
}

// errURLInEnv refuses a webhook URL put in the environment by mistake.
var errURLInEnv = errors.New("SLACK_WEBHOOK_SECRET must name a Secrets Manager secret, not hold the webhook URL")

// configFromEnv reads the configuration through getenv.
func configFromEnv(getenv func(string) string) (settings, error) {
	var c settings
	c.SecretID = strings.TrimSpace(getenv("SLACK_WEBHOOK_SECRET"))
	if c.SecretID == "" {
		return c, errors.New("SLACK_WEBHOOK_SECRET is not set")
	}
	if strings.Contains(c.SecretID, "://") || strings.Contains(c.SecretID, "hooks.slack.com") {
		c.SecretID = ""
		return c, errURLInEnv
	}
	c.SecretKey = strings.TrimSpace(getenv("SLACK_WEBHOOK_SECRET_KEY"))
	if v := getenv("SECRET_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, fmt.Errorf("SECRET_TTL %q: want a duration such as 1h", v)
		}
		c.SecretTTL = d
	}
	if v := getenv("DIGEST"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("DIGEST %q: want true or false", v)
		}
		c.Handler.Digest = b
	}
	if v := getenv("DIGEST_MIN"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("DIGEST_MIN %q: want a positive number", v)
		}
		c.Handler.DigestMin = n
	}
	if v := getenv("MIN_SEVERITY"); v != "" {
		s, err := finding.ParseSeverity(v)
		if err != nil {
			return c, fmt.Errorf("MIN_SEVERITY: %w", err)
		}
		c.Handler.MinSeverity = s
	}
	return c, nil
}
