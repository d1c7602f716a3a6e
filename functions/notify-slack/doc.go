// Command notify-slack is the Lambda function that posts findings from the
// findings topic to Slack (slack.Handler). It takes the SNS subscription's
// events the stack wires (slack.Handler.HandleSNS), or, with DIGEST, the
// batches of an SQS queue subscribed to the topic (HandleSQS): a digest
// needs batches, and SNS delivers one message at a time.
//
// Environment (slack.ConfigFromEnv, whose Env* constants name these; read
// once at start, no network at init):
//
//	SLACK_WEBHOOK_SECRET      required: the name or ARN of the Secrets Manager secret holding the webhook URL
//	SLACK_WEBHOOK_SECRET_KEY  optional: read the secret as JSON and take this field (default: the whole string)
//	SECRET_TTL                optional: re-read the secret after this long, for rotation (default: never, e.g. "1h")
//	DIGEST                    optional: "true" posts three or more findings of one invocation as one message
//	DIGEST_MIN                optional: findings needed for a digest (default 3)
//	MIN_SEVERITY              optional: skip findings below it (low, medium, high, critical)
//
// The webhook URL itself is never in the environment: it is read from
// Secrets Manager on first use inside the handler, cached for the life of
// the container, and kept out of logs and errors. The function's role
// needs secretsmanager:GetSecretValue on that secret only (and kms:Decrypt
// if it uses its own key).
//
// Failures: 429 and 5xx from Slack are retried within the invocation's
// deadline; a final failure is returned, so SNS retries the delivery and
// then sends it to the subscription's dead-letter queue (or SQS redrives
// the failed batch items).
package main
