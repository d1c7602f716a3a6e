package text

import (
	"strings"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
)

// NextSteps renders what the person on call should check next, in order:
// the steps the finding's rule carries (detect.Rule.Next) for the
// finding's role, or detect.DefaultNextSteps for a rule the registry does
// not know, with the finding's addresses, interface, ports and times
// filled in.
func NextSteps(f *finding.Finding) []string {
	next := detect.DefaultNextSteps
	if r, ok := detect.Lookup(f.Rule); ok {
		next = r.Next
	}
	ports := Ports(f.Ports, f.Protocol)
	if ports == "" {
		ports = "the ports"
	}
	fill := strings.NewReplacer(
		"{src}", orWord(f.Src, "the source"),
		"{dst}", orWord(f.Dst, "the destination"),
		"{interface}", orWord(f.InterfaceID, "the interface"),
		"{ports}", ports,
		"{seen}", Window(f.FirstSeen, f.LastSeen),
		"{window}", Window(f.WindowStart, f.WindowEnd),
	)
	steps := next.Steps(f.Role == finding.RoleActor)
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = fill.Replace(s)
	}
	return out
}

func orWord(v, word string) string {
	if v = Clean(v); v != "" {
		return v
	}
	return word
}
