// Package email renders a finding as the plain text of an email (the
// "email" key of the SNS message) and as its subject line.
//
// The text is meant for a phone: short labelled lines, in the order a
// person on call needs them: what happened, where, how bad, the evidence,
// what to check next, and the Athena query that shows the flows. Values
// from the data are passed through text.Clean, so they cannot add lines or
// reorder what the reader sees.
//
// It may import shared/finding and shared/notify/text; it must not import
// shared/notify itself (which imports it) or anything of the ingest path.
package email
