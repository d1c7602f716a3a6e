package detect

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/finding"
)

// maxPorts bounds Finding.Ports.
const maxPorts = 100

// entity returns the text of a group's entity: "src=…,dst=…".
func (c *compiled) entity(a *Agg) string {
	parts := make([]string, len(c.rule.Entity))
	for i, d := range c.rule.Entity {
		parts[i] = d.name() + "=" + a.Key[d]
	}
	return strings.Join(parts, ",")
}

// finalize fills what both engines derive the same way: the source's role.
func (s *Set) finalize(a *Agg) {
	src := a.Src
	if v, ok := a.Key[DimSrc]; ok {
		src = v
	}
	addr, err := netip.ParseAddr(src)
	a.SrcInternal = err == nil && s.cls.internal(addr)
	slices.Sort(a.PortList)
	a.PortList = slices.Compact(a.PortList)
}

// build turns a group that fired into a finding.
func (s *Set) build(c *compiled, a *Agg, engine finding.Engine) finding.Finding {
	s.finalize(a)
	ws := time.Unix(a.WindowStart, 0).UTC()
	entity := c.entity(a)
	sev, role := c.rule.Severity(a)
	f := finding.Finding{
		Version:     finding.Version,
		ID:          finding.ID(c.rule.ID, a.Account, entity, ws),
		Rule:        c.rule.ID,
		Severity:    sev,
		Title:       c.rule.Title,
		Description: c.rule.Describe(&c.s, a),
		Role:        role,
		Mitre:       c.rule.Mitre,
		Entity:      entity,
		AccountID:   a.Account,
		Region:      a.PartRegion,
		InterfaceID: a.InterfaceID,
		Protocol:    a.Protocol,
		WindowStart: ws,
		WindowEnd:   ws.Add(c.s.Window),
		FirstSeen:   time.Unix(a.FirstSeen, 0).UTC(),
		LastSeen:    time.Unix(a.LastSeen, 0).UTC(),
		Count:       c.rule.Measure.of(&c.s, a),
		Evidence: finding.Evidence{
			Measure:         c.rule.Measure.String(),
			Flows:           a.Flows,
			Accepted:        a.Accepted,
			Bytes:           a.Bytes,
			Packets:         a.Packets,
			MaxBytes:        a.MaxBytes,
			DistinctPorts:   a.Ports,
			DistinctHosts:   a.Hosts,
			DistinctSources: a.Sources,
			Thresholds:      c.s.thresholds(c.rule),
			Samples:         a.Samples,
		},
		Query:    s.evidenceSQL(c, a, 1000),
		Engine:   engine,
		Detected: s.now(),
	}
	if a.Sources == 1 || a.Key[DimSrc] != "" {
		f.Src = a.Src
		if v := a.Key[DimSrc]; v != "" {
			f.Src = v
		}
	}
	if a.Hosts == 1 || a.Key[DimDst] != "" {
		f.Dst = a.Dst
		if v := a.Key[DimDst]; v != "" {
			f.Dst = v
		}
	}
	if a.Key[DimENI] != "" {
		f.InterfaceID = a.Key[DimENI]
	}
	baselineEvidence(&f, a.Baseline)
	f.Ports = a.PortList
	if len(f.Ports) > maxPorts {
		f.Ports = f.Ports[:maxPorts]
	}
	return f
}

// sortFindings orders findings by window, rule order, then ID.
func sortFindings(fs []finding.Finding) {
	order := map[string]int{}
	for i, r := range Rules {
		order[r.ID] = i
	}
	slices.SortFunc(fs, func(a, b finding.Finding) int {
		if c := a.WindowStart.Compare(b.WindowStart); c != 0 {
			return c
		}
		if c := order[a.Rule] - order[b.Rule]; c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
