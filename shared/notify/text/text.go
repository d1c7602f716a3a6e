package text

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flowlake/flowlake/shared/finding"
)

// Clean returns s with control characters (newlines included) replaced by
// spaces and bidirectional overrides and zero-width characters removed, so
// a value from the data stays on its line and reads as it is stored.
func Clean(s string) string {
	if s == "" {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar:
			b.WriteRune(r)
		case unicode.IsControl(r):
			b.WriteByte(' ')
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F,
			r == 0x200B, r == 0x200C, r == 0x200D, r == 0x2060, r == 0xFEFF:
			// bidi embeddings, overrides and isolates; zero-width characters
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Truncate returns s cut to at most n runes, ending in "…" when cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	return string([]rune(s)[:n-1]) + "…"
}

// SeverityLabel is the severity in capitals: "HIGH".
func SeverityLabel(s finding.Severity) string {
	if !s.Valid() {
		return "UNKNOWN"
	}
	return strings.ToUpper(string(s))
}

// Headline is the title and what it is about, in one line:
// "Port scan: 45.155.205.10 -> 10.0.1.5".
func Headline(f *finding.Finding) string {
	title := Clean(f.Title)
	if title == "" {
		title = Clean(f.Rule)
	}
	switch src, dst := Clean(f.Src), Clean(f.Dst); {
	case src != "" && dst != "":
		return title + ": " + src + " -> " + dst
	case src != "":
		return title + ": from " + src
	case dst != "":
		return title + ": to " + dst
	case f.InterfaceID != "":
		return title + ": " + Clean(f.InterfaceID)
	}
	return title
}

// Protocol names an IANA protocol number: "tcp", "udp", "icmp", or the
// number.
func Protocol(p int) string {
	switch p {
	case 0:
		return ""
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "icmpv6"
	}
	return "proto " + strconv.Itoa(p)
}

// MaxPorts is how many ports Ports lists before "+N more".
const MaxPorts = 12

// Ports lists ports, then the protocol: "22, 3389 (tcp)"; after MaxPorts
// it adds "+N more".
func Ports(ports []int, protocol int) string {
	if len(ports) == 0 {
		return ""
	}
	var b strings.Builder
	for i, p := range ports {
		if i == MaxPorts {
			fmt.Fprintf(&b, " +%d more", len(ports)-MaxPorts)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(p))
	}
	if name := Protocol(protocol); name != "" {
		b.WriteString(" (" + name + ")")
	}
	return b.String()
}

// Bytes writes a byte count in binary units, as the rules' descriptions
// do: "950 B", "1.2 KiB", "5.1 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Role explains the finding's role: which side our entity was on.
func Role(r finding.Role) string {
	switch r {
	case finding.RoleActor:
		return "actor: our side started it, so it may be compromised"
	case finding.RoleTarget:
		return "target: our side received it"
	}
	return ""
}

// Measure names what a count counts, for a person: "distinct ports".
func Measure(m string) string { return strings.ReplaceAll(Clean(m), "_", " ") }

// Count says what the rule counted against its threshold:
// "12 distinct ports (threshold 10)".
func Count(f *finding.Finding) string {
	s := fmt.Sprintf("%d %s", f.Count, Measure(f.Evidence.Measure))
	if f.Evidence.Measure == "bytes" {
		s = Bytes(f.Count)
	}
	if t, ok := f.Evidence.Thresholds["min_"+f.Evidence.Measure]; ok {
		if f.Evidence.Measure == "bytes" {
			s += " (threshold " + Bytes(t) + ")"
		} else {
			s += fmt.Sprintf(" (threshold %d)", t)
		}
	}
	return s
}

// Window writes a time range in UTC, leaving out the end's date when it is
// the start's: "2026-11-24 06:00 to 07:00 UTC".
func Window(start, end time.Time) string {
	if start.IsZero() {
		return ""
	}
	start, end = start.UTC(), end.UTC()
	layout := "2006-01-02 15:04"
	if start.Second() != 0 || end.Second() != 0 {
		layout = "2006-01-02 15:04:05"
	}
	endLayout := layout
	if start.Format("2006-01-02") == end.Format("2006-01-02") {
		endLayout = layout[len("2006-01-02 "):]
	}
	return start.Format(layout) + " to " + end.Format(endLayout) + " UTC"
}

// Evidence sums up the evidence in one line:
// "12 flows, 0 accepted, 1.2 KiB in 12 packets; largest flow 100 B".
func Evidence(e *finding.Evidence) string {
	s := fmt.Sprintf("%s, %d accepted, %s in %s", plural(e.Flows, "flow"), e.Accepted, Bytes(e.Bytes), plural(e.Packets, "packet"))
	if e.MaxBytes > 0 {
		s += "; largest flow " + Bytes(e.MaxBytes)
	}
	return s
}

// Distinct counts distinct ports, hosts and sources:
// "12 ports, 1 host, 1 source".
func Distinct(e *finding.Evidence) string {
	return plural(e.DistinctPorts, "port") + ", " + plural(e.DistinctHosts, "host") + ", " + plural(e.DistinctSources, "source")
}

func plural(n int64, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + one + "s"
}

// CountShort is the count alone, in bytes for a bytes measure: "12",
// "5.1 GiB".
func CountShort(f *finding.Finding) string {
	if f.Evidence.Measure == "bytes" {
		return Bytes(f.Count)
	}
	return strconv.FormatInt(f.Count, 10)
}

// MaxSampleLines is how many sample flows the renderers show.
const MaxSampleLines = 5

// Flow writes a sample flow on one line:
// "06:00:00 45.155.205.10:40000 > 10.0.1.5:1000 tcp REJECT 100 B".
func Flow(fl *finding.Flow) string {
	ts := "--:--:--"
	if !fl.Start.IsZero() {
		ts = fl.Start.UTC().Format("15:04:05")
	}
	if fl.LogStatus != "" && fl.LogStatus != "OK" {
		return ts + " " + Clean(fl.InterfaceID) + " " + Clean(fl.LogStatus)
	}
	s := fmt.Sprintf("%s %s:%d > %s:%d", ts, Clean(fl.SrcAddr), fl.SrcPort, Clean(fl.DstAddr), fl.DstPort)
	if p := Protocol(fl.Protocol); p != "" {
		s += " " + p
	}
	if fl.Action != "" {
		s += " " + Clean(fl.Action)
	}
	return s + " " + Bytes(fl.Bytes)
}

// Mitre joins the MITRE ATT&CK technique ids: "T1133, T1190".
func Mitre(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = Clean(id)
	}
	return strings.Join(out, ", ")
}
