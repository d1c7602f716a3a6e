// Package dedup decides whether a finding is news, and remembers that it
// was published, in DynamoDB with expiry.
//
// The same finding (same ID: rule, account, entity and window) is notified
// once per window. Repeats add to its count and move its last_seen, and are
// notified again only on escalation: a higher severity than was notified,
// or a count ten times the notified one. Findings below the notify
// severity (low, by default: rejected probes from the internet) are
// remembered but not notified.
//
// The publisher uses it in two steps, so that state is committed only
// after publishing succeeded:
//
//	d, err := store.Decide(ctx, f)
//	if d.Notify { publish(f) }            // on failure: return, commit nothing
//	err = store.Commit(ctx, f, d)         // ErrConflict: another run got there first; Decide again
//
// Commit is a conditional write on the revision Decide read, so two
// publishers racing on the same finding cannot both commit a notification.
// Nor do they both publish it: a publisher about to notify first Claims
// the finding (a conditional write of a lease, DefaultLease), and while
// the claim lasts every other Decide that would notify it says "claimed"
// instead and only adds its count. The claimant publishes, then Commits
// (which ends the claim), or Releases it if the publish failed; a
// claimant that dies leaves a claim that ends with its lease, and its
// trigger's retry decides afresh.
//
//	d, err := store.Decide(ctx, f)
//	if d.Notify { d, err = store.Claim(ctx, f, d) }  // ErrConflict: Decide again
//	if d.Notify { publish(f) }                       // on failure: store.Release(ctx, f, d)
//	err = store.Commit(ctx, f, d)
//
// A finding's Source (what was read to raise it) is remembered, the newest
// MaxSources of them: a finding of a source already committed is a
// redelivery ("redelivered"), neither counted nor notified, so an SQS retry
// or a CloudWatch Logs batch delivered twice cannot escalate a finding.
//
// Items carry expires_at (Unix seconds), the table's TTL attribute; since
// TTL deletion lags (and DynamoDB-compatible test servers ignore it), an
// expired item is also treated as absent by Decide and by Commit's
// condition.
//
// It may import shared/finding and the AWS SDK's DynamoDB client; it must not
// import the publishers (shared/notify) or anything of the ingest path.
package dedup
