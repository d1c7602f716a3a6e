// Package finding defines Finding, the one type that detection produces and
// that publishing and the notifiers (SNS, email, Slack) consume. A finding
// is versioned JSON: Version says which shape a consumer is reading, and
// fields are only ever added within a version.
//
// A finding's ID is stable: the hash of its rule, account, entity and
// window (see ID), so the same problem seen again, by the batch engine in a
// later batch or by the lake engine over the same window, has the same ID,
// which is what dedup keys on.
//
// It imports only the standard library, so every step may import it.
package finding
