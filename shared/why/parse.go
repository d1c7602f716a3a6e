package why

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
)

func num(r detect.Row, col string) int64 {
	n, _ := strconv.ParseInt(r[col], 10, 64)
	return n
}

func unix(r detect.Row, col string) time.Time {
	if _, ok := r[col]; !ok {
		return time.Time{}
	}
	return time.Unix(num(r, col), 0).UTC()
}

// list parses an array as both engines print it: "[a, b]".
func list(s string) []string {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// parseAnswer reads AnswerSQL's rows: the pair's groups as evidence (one
// group per direction, interface, logged direction, action, reject-reason
// and protocol, with the flags of its tcp-flags values), and each
// interface's groups summed, with the role of the address it owns (the one
// its directed records show as its own side; for records with no
// direction, the one that appears in every such record while the other
// does not). Interfaces that own neither are left out.
func parseAnswer(rows []detect.Row, q Question) ([]Interface, []Evidence) {
	var its []Interface
	type owns struct{ src, dst, und, undSrc, undDst int64 }
	var own []owns
	at := map[string]int{}
	var evs []Evidence
	evAt := map[[6]string]int{}
	for _, r := range rows {
		id := r["interface_id"]
		i, ok := at[id]
		if !ok {
			i = len(its)
			at[id] = i
			its = append(its, Interface{ID: id})
			own = append(own, owns{})
		}
		it, o := &its[i], &own[i]
		for _, m := range []struct {
			dst *string
			col string
		}{{&it.Subnet, "subnet"}, {&it.VPC, "vpc"}, {&it.Instance, "instance"}, {&it.Region, "region"}} {
			if *m.dst == "" {
				*m.dst = r[m.col]
			}
		}
		if it.SecurityGroups == nil {
			it.SecurityGroups = list(r["security_groups"])
		}
		n := num(r, "records")
		switch r["log_status"] {
		case "OK":
			it.OK += n
		case "NODATA":
			it.NoData += n
		case "SKIPDATA":
			it.SkipData += n
			a, b := unix(r, "first_start"), unix(r, "last_end")
			if it.SkipFirst == nil || a.Before(*it.SkipFirst) {
				it.SkipFirst = &a
			}
			if it.SkipLast == nil || b.After(*it.SkipLast) {
				it.SkipLast = &b
			}
		}
		switch r["action"] {
		case "ACCEPT":
			it.Accepted += n
		case "REJECT":
			it.Rejected += n
		}
		switch r["mine"] {
		case "src":
			o.src += n
		case "dst":
			o.dst += n
		case "u-src":
			o.und, o.undSrc = o.und+n, o.undSrc+n
		case "u-dst":
			o.und, o.undDst = o.und+n, o.undDst+n
		case "u-both":
			o.und, o.undSrc, o.undDst = o.und+n, o.undSrc+n, o.undDst+n
		case "u-none":
			o.und += n
		}
		if r["side"] == "" {
			continue
		}
		k := [6]string{id, r["side"], r["flow_dir"], r["action"], r["pair_reason"], r["pair_protocol"]}
		j, ok := evAt[k]
		if !ok {
			j = len(evs)
			evAt[k] = j
			evs = append(evs, Evidence{Direction: r["side"], Interface: id, Subnet: r["subnet"], FlowDirection: r["flow_dir"],
				Action: r["action"], RejectReason: r["pair_reason"], Protocol: int(num(r, "pair_protocol"))})
		}
		addEvidence(&evs[j], r)
	}
	var out []Interface
	for i, it := range its {
		o := own[i]
		switch {
		case o.src > 0 && o.dst == 0:
			it.Role = "src"
		case o.dst > 0 && o.src == 0:
			it.Role = "dst"
		case o.src == 0 && o.dst == 0 && o.und > 0 && o.undSrc == o.und && o.undDst < o.und:
			it.Role, it.inferred = "src", true
		case o.src == 0 && o.dst == 0 && o.und > 0 && o.undDst == o.und && o.undSrc < o.und:
			it.Role, it.inferred = "dst", true
		default:
			continue
		}
		it.Addr = q.Src.String()
		if it.Role == "dst" {
			it.Addr = q.Dst.String()
		}
		out = append(out, it)
	}
	for i := range evs {
		if e := &evs[i]; e.flagged {
			e.TCPFlags = []string{}
			for _, f := range []struct {
				name string
				on   bool
			}{{"syn", e.syn}, {"syn-ack", e.synAck}, {"fin", e.flags&1 != 0}, {"rst", e.flags&4 != 0}} {
				if f.on {
					e.TCPFlags = append(e.TCPFlags, f.name)
				}
			}
		}
	}
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := &evs[i], &evs[j]
		if a.Direction != b.Direction {
			return a.Direction == "request"
		}
		if !a.First.Equal(b.First) {
			return a.First.Before(b.First)
		}
		if a.Interface != b.Interface {
			return a.Interface < b.Interface
		}
		return a.Action < b.Action
	})
	return out, evs
}

// addEvidence adds one of AnswerSQL's pair groups, of one tcp-flags value,
// to e.
func addEvidence(e *Evidence, r detect.Row) {
	e.Records += num(r, "records")
	e.Packets += num(r, "packets")
	if _, ok := r["bytes"]; ok {
		b := num(r, "bytes")
		if e.Bytes != nil {
			b += *e.Bytes
		}
		e.Bytes = &b
	}
	if t := unix(r, "first_start"); e.First.IsZero() || t.Before(e.First) {
		e.First = t
	}
	if t := unix(r, "last_end"); t.After(e.Last) {
		e.Last = t
	}
	if _, ok := r["pair_flags"]; ok {
		f := num(r, "pair_flags")
		e.flagged = true
		e.flags |= f
		// SYN-ACK is SYN and ACK in one value; OR-ing a SYN and an ACK
		// of different records is not one.
		e.synAck = e.synAck || f&18 == 18
		e.syn = e.syn || f&18 == 2
	}
}
