// Package text holds the words that both renderers of a finding use, the
// email text (package email) and the Slack message (package slack): the
// headline, units, the ports and protocol, the sample-flow line, and what
// the person on call should check next for each rule.
//
// Everything here returns plain text built from the finding's data; each
// renderer escapes it for its medium. Clean strips control and
// bidirectional-override characters, so a value from the data cannot break
// a line or reorder what a reader sees.
//
// It may import shared/finding and shared/detect (each rule's next steps);
// it must not import the publishers or anything of the ingest path.
package text
