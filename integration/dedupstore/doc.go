// Package dedupstore tests the dedup store (shared/dedup) and the
// Notifier around it (shared/notify) against dynalite, a DynamoDB
// server from the npm dev dependencies, on loopback, through the real SDK
// client. It lives under integration/ because it needs Node.js and a
// server; the shared packages' own tests need neither.
package dedupstore
