package slack

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/notify/text"
)

// Message is an incoming-webhook payload: Text is the notification line
// (and what clients without Block Kit show), Blocks lead the message, and
// one Attachment carries the rest with the severity's colour bar.
type Message struct {
	Text        string       `json:"text"`
	Blocks      []Block      `json:"blocks,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	UnfurlLinks bool         `json:"unfurl_links"`
	UnfurlMedia bool         `json:"unfurl_media"`
}

// Attachment is a secondary part of a message; only its colour bar and
// blocks are used.
type Attachment struct {
	Color  string  `json:"color"`
	Blocks []Block `json:"blocks"`
}

// Block is a Block Kit layout block: header, section, context or divider.
type Block struct {
	Type     string  `json:"type"`
	Text     *Text   `json:"text,omitempty"`
	Fields   []*Text `json:"fields,omitempty"`
	Elements []*Text `json:"elements,omitempty"`
}

// Text is a Block Kit text object, "plain_text" or "mrkdwn".
type Text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Block Kit limits, in characters.
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
)

// Style is how a severity looks: a colour bar and an emoji.
type Style struct {
	Color string
	Emoji string
}

// Styles maps each severity to its look; an unknown severity gets
// Styles[""].
var Styles = map[finding.Severity]Style{
	finding.Critical: {"#8B0000", ":rotating_light:"},
	finding.High:     {"#E01E5A", ":red_circle:"},
	finding.Medium:   {"#ECB22E", ":large_orange_circle:"},
	finding.Low:      {"#439FE0", ":large_blue_circle:"},
	"":               {"#9E9E9E", ":grey_question:"},
}

func styleOf(s finding.Severity) Style {
	if st, ok := Styles[s]; ok {
		return st
	}
	return Styles[""]
}

func plain(s string) *Text  { return &Text{Type: "plain_text", Text: s, Emoji: true} }
func mrkdwn(s string) *Text { return &Text{Type: "mrkdwn", Text: s} }

func section(s string) Block {
	return Block{Type: "section", Text: mrkdwn(text.Truncate(s, maxSection))}
}

// codeSection is a section of a label and a code block whose body is cut
// to fit the section's limit, keeping the fence closed.
func codeSection(label, code string) Block {
	body := EscapeCode(code)
	room := maxSection - len([]rune(label)) - len("\n```\n```")
	return Block{Type: "section", Text: mrkdwn(label + "\n" + fence(text.Truncate(body, room-2)))}
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// Render returns the Slack message of one finding: a header with the
// severity and rule; the headline and description; fields for account,
// region, interface, source, destination, ports, count and time; the
// evidence with sample flows; what to check next; the Athena query in a
// code block; and the finding's id. Every value from the finding is
// escaped (Escape, EscapeCode).
func Render(f *finding.Finding) Message {
	st := styleOf(f.Severity)
	headline := text.Headline(f)
	field := func(label, v string) *Text {
		return mrkdwn(text.Truncate("*"+label+"*\n"+orDash(Escape(v)), maxField))
	}
	blocks := []Block{
		section("*" + Escape(headline) + "*\n" + Escape(f.Description)),
		{Type: "section", Fields: []*Text{
			field("Account", f.AccountID),
			field("Region", f.Region),
			field("ENI / instance", f.InterfaceID),
			field("Role", text.Role(f.Role)),
			field("Source", f.Src),
			field("Destination", f.Dst),
			field("Ports", text.Ports(f.Ports, f.Protocol)),
			field("Count", text.Count(f)),
			field("Window", text.Window(f.WindowStart, f.WindowEnd)),
			field("Seen", text.Window(f.FirstSeen, f.LastSeen)),
		}},
	}
	e := &f.Evidence
	ev := "*Evidence*\n" + Escape(text.Evidence(e)+". Distinct: "+text.Distinct(e)+".")
	if n := len(e.Samples); n > 0 {
		shown := min(n, text.MaxSampleLines)
		lines := make([]string, shown)
		for i := range shown {
			lines[i] = text.Flow(&e.Samples[i])
		}
		blocks = append(blocks, section(ev+fmt.Sprintf("\nSample flows (%d of %d):\n", shown, n)+fence(EscapeCode(strings.Join(lines, "\n")))))
	} else {
		blocks = append(blocks, section(ev))
	}
	var next strings.Builder
	next.WriteString("*What to check next*")
	for i, s := range text.NextSteps(f) {
		fmt.Fprintf(&next, "\n%d. %s", i+1, Escape(s))
	}
	blocks = append(blocks, section(next.String()))
	if q := strings.TrimSpace(f.Query); q != "" {
		blocks = append(blocks, codeSection("*Investigate in Athena*", q))
	}
	ctx := "Finding " + Escape(f.ID) + " · rule " + Escape(f.Rule)
	if len(f.Mitre) > 0 {
		ctx += " · MITRE " + Escape(text.Mitre(f.Mitre))
	}
	if f.Engine != "" {
		ctx += " · " + Escape(string(f.Engine)) + " engine"
	}
	if !f.Detected.IsZero() {
		ctx += " · detected " + f.Detected.UTC().Format("2006-01-02 15:04 UTC")
	}
	blocks = append(blocks, Block{Type: "context", Elements: []*Text{mrkdwn(ctx)}})

	return Message{
		Text:        st.Emoji + " " + Escape(text.SeverityLabel(f.Severity)+": "+headline),
		Blocks:      []Block{header(f)},
		Attachments: []Attachment{{Color: st.Color, Blocks: blocks}},
	}
}

// header is the severity with its emoji, the rule's title and its id:
// ":red_circle: HIGH · Port scan (port-scan)". Header text is plain text,
// which Slack does not parse for markup or mentions.
func header(f *finding.Finding) Block {
	title := text.Clean(f.Title)
	rule := text.Clean(f.Rule)
	if title == "" {
		title = rule
	} else if rule != "" {
		title += " (" + rule + ")"
	}
	s := styleOf(f.Severity).Emoji + " " + text.SeverityLabel(f.Severity) + " · " + title
	return Block{Type: "header", Text: plain(text.Truncate(escapePlain(s), maxHeader))}
}

// MaxDigestRows is how many findings a digest's table lists.
const MaxDigestRows = 40

// Digest returns one message for many findings: a header with the count
// by severity, and a table of severity, rule, account, what the finding
// is about and its count, most severe first, at most MaxDigestRows rows.
// Its colour is the highest severity's.
func Digest(fs []finding.Finding) Message {
	sorted := slices.Clone(fs)
	slices.SortStableFunc(sorted, func(a, b finding.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.AccountID, b.AccountID))
	})
	counts := map[finding.Severity]int{}
	for i := range sorted {
		counts[sorted[i].Severity]++
	}
	var parts []string
	for _, s := range []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if n := len(sorted) - counts[finding.Critical] - counts[finding.High] - counts[finding.Medium] - counts[finding.Low]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d unknown", n))
	}
	var top finding.Severity
	if len(sorted) > 0 {
		top = sorted[0].Severity
	}
	st := styleOf(top)
	summary := fmt.Sprintf("%d findings: %s", len(sorted), strings.Join(parts, ", "))

	rows := [][]string{{"SEVERITY", "RULE", "ACCOUNT", "REGION", "WHAT", "COUNT"}}
	for i := range sorted {
		if i == MaxDigestRows {
			break
		}
		f := &sorted[i]
		what := strings.TrimPrefix(text.Headline(f), text.Clean(f.Title)+": ")
		rows = append(rows, []string{text.SeverityLabel(f.Severity), text.Truncate(text.Clean(f.Rule), 24),
			text.Clean(f.AccountID), text.Clean(f.Region), text.Truncate(what, 40), text.CountShort(f)})
	}
	table := columns(rows)
	blocks := []Block{codeSection("*Summary*", table)}
	if more := len(sorted) - MaxDigestRows; more > 0 {
		blocks = append(blocks, Block{Type: "context", Elements: []*Text{mrkdwn(fmt.Sprintf("+%d more not listed; each finding is on the topic.", more))}})
	}
	blocks = append(blocks, Block{Type: "context", Elements: []*Text{mrkdwn("Run `flowlake detect` or each finding's Athena query for the flows.")}})
	return Message{
		Text:        st.Emoji + " " + Escape(summary),
		Blocks:      []Block{{Type: "header", Text: plain(text.Truncate(st.Emoji+" "+summary, maxHeader))}},
		Attachments: []Attachment{{Color: st.Color, Blocks: blocks}},
	}
}

// columns lays rows out as a fixed-width table.
func columns(rows [][]string) string {
	var width []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c + strings.Repeat(" ", width[i]-len([]rune(c))+2))
		}
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}
