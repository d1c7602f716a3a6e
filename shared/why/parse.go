package why

import (
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

// parseEvidence reads PairSQL's rows.
func parseEvidence(rows []detect.Row) []Evidence {
	out := make([]Evidence, 0, len(rows))
	for _, r := range rows {
		e := Evidence{
			Direction: r["side"], Interface: r["interface_id"], Subnet: r["subnet"], FlowDirection: r["flow_dir"],
			Action: r["action"], RejectReason: r["reject_reason"], Protocol: int(num(r, "protocol")),
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
		out = append(out, e)
	}
	return out
}

// parseInterfaces reads InterfacesSQL's rows and gives each interface the
// role of the address it owns: the one its directed records show as its
// own side; for records with no direction, the one that appears in every
// such record while the other does not. Interfaces that own neither are
// left out.
func parseInterfaces(rows []detect.Row, q Question) []Interface {
	var out []Interface
	for _, r := range rows {
		it := Interface{
			ID: r["interface_id"], Subnet: r["subnet"], VPC: r["vpc"], Instance: r["instance"],
			SecurityGroups: list(r["security_groups"]), Account: r["account"], Region: r["region"],
			OK: num(r, "ok"), NoData: num(r, "nodata"), SkipData: num(r, "skipdata"),
			Accepted: num(r, "accepted"), Rejected: num(r, "rejected"),
		}
		if it.SkipData > 0 {
			a, b := unix(r, "skip_first"), unix(r, "skip_last")
			it.SkipFirst, it.SkipLast = &a, &b
		}
		ownSrc, ownDst := num(r, "own_src"), num(r, "own_dst")
		und, undSrc, undDst := num(r, "undirected"), num(r, "undirected_src"), num(r, "undirected_dst")
		switch {
		case ownSrc > 0 && ownDst == 0:
			it.Role = "src"
		case ownDst > 0 && ownSrc == 0:
			it.Role = "dst"
		case ownSrc == 0 && ownDst == 0 && und > 0 && undSrc == und && undDst < und:
			it.Role, it.inferred = "src", true
		case ownSrc == 0 && ownDst == 0 && und > 0 && undDst == und && undSrc < und:
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
	return out
}
