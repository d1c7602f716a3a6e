package why

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Render writes a for a person to read: the question and window, the
// verdict and its summary, the evidence by direction, the interfaces,
// caveats and next checks.
func Render(w io.Writer, a *Answer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "why %s → %s", a.Src, a.Dst)
	if a.Port != 0 {
		fmt.Fprintf(&b, " port %d", a.Port)
	}
	if a.Protocol != "" {
		fmt.Fprintf(&b, " (%s)", a.Protocol)
	}
	fmt.Fprintf(&b, "\nwindow %s to %s", a.Window.Since.Format(time.RFC3339), a.Window.Until.Format(time.RFC3339))
	if a.Window.Default {
		b.WriteString(" (the 24 hours to the hour of their newest record)")
	}
	fmt.Fprintf(&b, "\n\nverdict: %s", a.Verdict)
	if a.Likely != "" {
		fmt.Fprintf(&b, " (likely: %s)", a.Likely)
	}
	b.WriteString("\n")
	wrap(&b, a.Summary, "  ", 100)

	b.WriteString("\nevidence:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, dir := range []string{"request", "reply"} {
		n := 0
		for _, e := range a.Evidence {
			if e.Direction != dir {
				continue
			}
			n++
			logged := e.Interface
			if e.Owner != "" {
				logged += " (" + e.Owner
				if e.Subnet != "" {
					logged += ", " + e.Subnet
				}
				logged += ")"
			} else if e.Subnet != "" {
				logged += " (" + e.Subnet + ")"
			}
			action := e.Action
			if e.RejectReason != "" {
				action += " " + e.RejectReason
			}
			flags := "-"
			if e.TCPFlags != nil {
				flags = strings.Join(e.TCPFlags, ",")
				if flags == "" {
					flags = "none"
				}
			}
			bytes := "? bytes"
			if e.Bytes != nil {
				bytes = fmt.Sprintf("%d bytes", *e.Bytes)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d records\t%d packets\t%s\t%s – %s\tflags %s\n", dir, logged, orUnknown(e.FlowDirection, "?"),
				action, orUnknown(ProtocolName(e.Protocol), "?"), e.Records, e.Packets, bytes, clock(e.First), clock(e.Last), flags)
		}
		if n == 0 {
			fmt.Fprintf(tw, "  %s\tnone recorded\n", dir)
		}
	}
	tw.Flush()

	b.WriteString("\ninterfaces:\n")
	if len(a.Interfaces) == 0 {
		b.WriteString("  none logged in the window\n")
	}
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, it := range a.Interfaces {
		meta := []string{}
		for _, s := range []string{it.Subnet, it.VPC, it.Instance, strings.Join(it.SecurityGroups, ",")} {
			if s != "" {
				meta = append(meta, s)
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\tOK %d, NODATA %d, SKIPDATA %d; ACCEPT %d, REJECT %d\n", it.Role, it.Addr, it.ID, strings.Join(meta, " "),
			it.OK, it.NoData, it.SkipData, it.Accepted, it.Rejected)
	}
	tw.Flush()
	if len(a.Caveats) > 0 {
		b.WriteString("\ncaveats:\n")
		for _, c := range a.Caveats {
			wrap(&b, "- "+c, "  ", 100)
		}
	}
	if len(a.Next) > 0 {
		b.WriteString("\nnext:\n")
		for _, n := range a.Next {
			b.WriteString("  " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format("01-02 15:04:05")
}

// wrap writes s in lines of at most width, each after indent (and two
// more spaces after the first).
func wrap(b *strings.Builder, s, indent string, width int) {
	line, n := indent, 0
	for _, w := range strings.Fields(s) {
		if n > 0 && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line, n = indent+"  ", 0
		}
		if n > 0 {
			line += " "
		}
		line += w
		n++
	}
	b.WriteString(line + "\n")
}
