package slack

import (
	"regexp"
	"strings"

	"github.com/flowlake/flowlake/shared/notify/text"
)

// zwsp is a zero-width space: it breaks a sequence Slack would act on
// (a broadcast word, a code fence) without showing.
const zwsp = "\u200b"

var (
	// Slack's three control characters, per its "Escaping text" rules.
	controlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	// Formatting markers, replaced by characters that look alike but
	// do not format: *bold*, _italic_, ~strike~ and `code`.
	markupEscaper = strings.NewReplacer("*", "\u2217", "_", "\u02cd", "~", "\u223c", "`", "\u02cb")
	// Words Slack may turn into broadcasts even without <!...>.
	broadcast = regexp.MustCompile(`(?i)@(channel|here|everyone)\b`)
)

// Escape makes a value from the data safe as mrkdwn text: it cleans it
// (text.Clean), escapes &, < and > as Slack requires, so no <!channel>,
// <@U…> mention or <url|link> can be formed, breaks "@channel", "@here"
// and "@everyone", and replaces the formatting markers * _ ~ and ` with
// look-alikes, so the value shows as it is and formats nothing.
func Escape(s string) string {
	s = controlEscaper.Replace(text.Clean(s))
	s = broadcast.ReplaceAllString(s, "@"+zwsp+"$1")
	return markupEscaper.Replace(s)
}

// escapePlain makes a value safe as plain_text: Slack does not format
// plain text, but &, < and > are still escaped and broadcasts broken.
func escapePlain(s string) string {
	return broadcast.ReplaceAllString(controlEscaper.Replace(text.Clean(s)), "@"+zwsp+"$1")
}

// fence puts an EscapeCode'd body in a code block, keeping a backtick at
// either end of it from joining the fence.
func fence(body string) string {
	if strings.HasPrefix(body, "`") {
		body = zwsp + body
	}
	if strings.HasSuffix(body, "`") {
		body += zwsp
	}
	return "```" + body + "```"
}

// EscapeCode makes a value safe inside a ``` code block, where Slack
// formats nothing but still parses &, < and > and ends the block at the
// next ```: it escapes the three and puts a zero-width space between
// backticks, so no fence can close early. Line breaks are kept.
func EscapeCode(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = controlEscaper.Replace(text.Clean(l))
	}
	s = strings.Join(lines, "\n")
	s = broadcast.ReplaceAllString(s, "@"+zwsp+"$1")
	for strings.Contains(s, "``") {
		s = strings.ReplaceAll(s, "``", "`"+zwsp+"`")
	}
	return s
}
