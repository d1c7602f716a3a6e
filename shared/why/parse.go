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

// parseAnswer reads AnswerSQL's rows: the pair's groups as evidence, and
// each interface's rows summed, with the role of the address it owns (the
// one its directed records show as its own side; for records with no
// direction, the one that appears in every such record while the other
// does not). Interfaces that own neither are left out.
func parseAnswer(rows []detect.Row, q Question) ([]Interface, []Evidence) {
	var its []Interface
	var evs []Evidence
	type owns struct{ src, dst, und, undSrc, undDst int64 }
	var own []owns
	at := map[string]int{}
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
		}{{&it.Subnet, "subnet"}, {&it.VPC, "vpc"}, {&it.Instance, "instance"}, {&it.Account, "account"}, {&it.Region, "region"}} {
			if *m.dst == "" {
				*m.dst = r[m.col]
			}
		}
		if it.SecurityGroups == nil {
			it.SecurityGroups = list(r["security_groups"])
		}
		it.OK += num(r, "ok")
		it.NoData += num(r, "nodata")
		it.SkipData += num(r, "skipdata")
		it.Accepted += num(r, "accepted")
		it.Rejected += num(r, "rejected")
		if num(r, "skipdata") > 0 {
			a, b := unix(r, "skip_first"), unix(r, "skip_last")
			if it.SkipFirst == nil || a.Before(*it.SkipFirst) {
				it.SkipFirst = &a
			}
			if it.SkipLast == nil || b.After(*it.SkipLast) {
				it.SkipLast = &b
			}
		}
		o.src += num(r, "own_src")
		o.dst += num(r, "own_dst")
		o.und += num(r, "undirected")
		o.undSrc += num(r, "undirected_src")
		o.undDst += num(r, "undirected_dst")
		if r["side"] != "" {
			evs = append(evs, evidence(r))
		}
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

// evidence reads one of the pair's groups.
func evidence(r detect.Row) Evidence {
	e := Evidence{
		Direction: r["side"], Interface: r["interface_id"], Subnet: r["subnet"], FlowDirection: r["flow_dir"],
		Action: r["pair_action"], RejectReason: r["pair_reason"], Protocol: int(num(r, "pair_protocol")),
		Records: num(r, "records"), Packets: num(r, "packets"),
		First: unix(r, "first_start"), Last: unix(r, "last_end"),
		flagged: num(r, "flagged") > 0,
	}
	if _, ok := r["bytes"]; ok {
		b := num(r, "bytes")
		e.Bytes = &b
	}
	if e.flagged {
		e.TCPFlags = []string{}
		for _, f := range []string{"syn", "syn-ack", "fin", "rst"} {
			if num(r, strings.ReplaceAll(f, "-", "_")) > 0 {
				e.TCPFlags = append(e.TCPFlags, f)
			}
		}
	}
	return e
}
