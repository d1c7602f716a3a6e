// Package secret reads a secret from AWS Secrets Manager on first use and
// caches it for the life of the process (a warm Lambda container).
//
// The secret's value never leaves Get: it is not logged, and errors name
// the secret's id (a name or ARN, not sensitive) and never its value.
//
// It imports only the standard library and the AWS SDK's Secrets Manager
// client.
package secret
