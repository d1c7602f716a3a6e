// Package slack renders findings as Slack Block Kit messages and posts
// them to an incoming webhook; Handler is the notify-slack function.
//
// A message (Render) has a header with the severity's emoji, the severity
// and the rule; then, in an attachment whose colour bar is the severity's
// (Styles), the headline and description, fields for account, region,
// interface, role, source, destination, ports, count and time, the
// evidence with sample flows, what to check next, the Athena query in a
// code block, and the finding's id. Digest puts many findings in one
// message with a summary table.
//
// Escaping: every value that comes from the data goes through Escape (or
// EscapeCode inside code blocks). Slack's rules ask for &, < and > to be
// escaped as &amp; &lt; &gt;, which leaves no way to form <!channel>,
// <@U…> or <url|text>; "@channel", "@here" and "@everyone" are broken
// with a zero-width space; the formatting markers * _ ~ ` become
// look-alike characters, and inside code blocks backticks are kept apart
// so no ``` can close the block early.
//
// Posting (Webhook): the URL is a secret, read through a function on each
// post (secret.Cache reads it once per container) and kept out of every
// error and log line. 429 waits Retry-After, 5xx and network errors back
// off, while the context's deadline leaves time; a final failure is
// returned (ErrUnavailable, or ErrRejected for other 4xx), so that SNS
// retries and then dead-letters the delivery.
//
// It may import shared/finding, shared/notify and shared/notify/text; it must
// not import the ingest path or the detector.
package slack
