package secret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// API is the Secrets Manager call Cache makes.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ErrEmpty is returned for a secret with no string value (or no value
// under Key).
var ErrEmpty = errors.New("secret has no value")

// Cache holds one secret's value once read. It is safe for concurrent
// use; a failed read is not cached, so the next Get tries again.
type Cache struct {
	Client API
	// ID is the secret's name or ARN.
	ID string
	// Key, when set, reads the secret as a JSON object and takes this
	// field ({"webhook_url": "..."}); otherwise the whole SecretString.
	Key string
	// TTL is how long a value is kept (0: for the life of the process).
	// A rotated secret is picked up after it.
	TTL time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	mu    sync.Mutex
	value string
	read  time.Time
}

// Get returns the secret's value, reading it on first use.
func (c *Cache) Get(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if c.value != "" && (c.TTL <= 0 || now().Sub(c.read) < c.TTL) {
		return c.value, nil
	}
	out, err := c.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.ID)})
	if err != nil {
		return "", fmt.Errorf("get secret %s: %w", c.ID, err)
	}
	v := strings.TrimSpace(aws.ToString(out.SecretString))
	if c.Key != "" && v != "" {
		var m map[string]string
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			// The JSON error could quote the value: say only what failed.
			return "", fmt.Errorf("secret %s is not a JSON object of strings", c.ID)
		}
		v = strings.TrimSpace(m[c.Key])
	}
	if v == "" {
		return "", fmt.Errorf("secret %s (key %q): %w", c.ID, c.Key, ErrEmpty)
	}
	c.value, c.read = v, now()
	return v, nil
}
