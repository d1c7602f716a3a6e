package why

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// onlyOneType is how many records an interface needs before showing only
// ACCEPT or only REJECT suggests its flow log records one traffic type.
const onlyOneType = 10

// caveats adds what limits the answer.
func caveats(a *Answer, f *facts, q Question) {
	add := func(format string, args ...any) { a.Caveats = append(a.Caveats, fmt.Sprintf(format, args...)) }
	absence := a.Verdict == Unanswered || a.Verdict == LostInPath || a.Verdict == NeverSent
	for _, its := range [][]*Interface{f.src, f.dst} {
		for _, it := range its {
			switch {
			case it.Rejected >= onlyOneType && it.Accepted == 0:
				add("%s (%s) shows only REJECT records in the window (%d): its flow log probably records REJECT traffic only, so a missing ACCEPT proves nothing.", it.ID, it.Addr, it.Rejected)
			case it.Accepted >= onlyOneType && it.Rejected == 0:
				add("%s (%s) shows only ACCEPT records in the window (%d): its flow log probably records ACCEPT traffic only, so a missing REJECT proves nothing.", it.ID, it.Addr, it.Accepted)
			}
			if it.inferred {
				add("%s has no flow-direction and no direction (ENI metadata): it was taken as %s's because that address is in every one of its records.", it.ID, it.Addr)
			}
		}
	}
	if len(f.unowned) > 0 {
		var ids []string
		for _, e := range f.unowned {
			if !contains(ids, e.Interface) {
				ids = append(ids, e.Interface)
			}
		}
		add("The records cannot tell whose side %s is on (no flow-direction, no ENI metadata): its %d evidence groups are shown but not weighed.", strings.Join(ids, ", "), len(f.unowned))
	}
	tcp := q.Protocol == 6 || (q.Protocol == 0 && (f.reqIn.allTCP || f.reqOut.allTCP))
	reply := &f.repIn
	if reply.records == 0 {
		reply = &f.repOut
	}
	switch {
	case a.Verdict == Connected && tcp && !reply.flagged && reply.records > 0:
		add("The records carry no tcp-flags (the v2 default format): 'connected' rests on the reply's ACCEPT, not on a SYN-ACK.")
	case a.Verdict == Reset && !reply.flagged:
		add("The records carry no tcp-flags (the v2 default format): the reset is read from replies of bare headers (%d bytes a packet), as an RST is; a format with tcp-flags would show it.", reply.bytes/max(reply.packets, 1))
	case a.Verdict == Connected && tcp && reply.flagged && !reply.synAck:
		add("No reply in the window shows SYN-ACK: the connection may have opened before it.")
	}
	for _, p := range []struct {
		g    *group
		name string
	}{{&f.reqOut, "leaving " + a.Src}, {&f.reqIn, "entering " + a.Dst + "'s interface"}} {
		if p.g.accepted > 0 && p.g.rejected > 0 {
			add("Requests %s were both accepted (%d, last %s) and rejected (%d, last %s): the rules may have changed in the window; the latest decide, and --since narrows it.",
				p.name, p.g.accepted, p.g.accLast.Format(time.RFC3339), p.g.rejected, p.g.rejLast.Format(time.RFC3339))
		}
	}
	if a.Verdict != NotLogged && a.Verdict != NoCoverage {
		if len(f.dst) == 0 {
			add("No interface of %s is logged in the window: it is outside the logged VPCs (the internet, on premises, another account) or its flow log is off; the verdict uses %s's interface.", a.Dst, a.Src)
		}
		if len(f.src) == 0 {
			add("No interface of %s is logged in the window: it is outside the logged VPCs (the internet, on premises, another account) or its flow log is off; the verdict uses %s's interface.", a.Src, a.Dst)
		}
	}
	if (a.Verdict == BlockedInbound && addrIsPublic(q.Src)) || (a.Verdict == BlockedOutbound && addrIsPublic(q.Dst)) {
		bpaField := false
		for _, e := range a.Evidence {
			bpaField = bpaField || e.RejectReason != ""
		}
		if !bpaField {
			add("The peer is on the internet: if VPC Block Public Access is on, a flow log without the reject-reason field (v8) shows its rejections as plain REJECTs.")
		}
	}
	if a.Verdict != NotLogged && len(f.dst) == 0 && len(q.VPCCIDRs) == 0 && q.Dst.IsPrivate() && q.Dst.Is4() && q.Dst.As4()[3] <= 3 {
		add("%s may be a reserved address of its VPC (the Amazon DNS resolver is the VPC base + 2), which flow logs never record: --vpc-cidr tells.", a.Dst)
	}
	if !absence && a.Verdict != LogGap {
		for _, its := range [][]*Interface{f.src, f.dst} {
			for _, it := range its {
				if it.SkipData > 0 {
					add("%s skipped records (SKIPDATA) in the window: some flows are missing from the lake.", it.ID)
				}
			}
		}
	}
}

// cmd is one aws CLI command, with the region of it when known.
func cmd(it *Interface, format string, args ...any) string {
	s := fmt.Sprintf(format, args...)
	if it != nil && it.Region != "" && it.Region != "unknown" {
		s += " --region " + it.Region
	}
	return s
}

func first(its []*Interface) *Interface {
	if len(its) == 0 {
		return nil
	}
	return its[0]
}

// next returns the next checks as aws CLI commands.
func next(a *Answer, f *facts, q Question) []string {
	var out []string
	add := func(s string) {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	src, dst := first(f.src), first(f.dst)
	sgRules := func(it *Interface, egress bool) {
		if it == nil {
			return
		}
		if len(it.SecurityGroups) > 0 {
			add(cmd(it, "aws ec2 describe-security-group-rules --filters Name=group-id,Values=%s --query 'SecurityGroupRules[?IsEgress==`%t`]'", strings.Join(it.SecurityGroups, ","), egress))
		} else {
			add(cmd(it, "aws ec2 describe-network-interfaces --network-interface-ids %s --query 'NetworkInterfaces[].Groups'", it.ID))
		}
	}
	acl := func(it *Interface, subnet string, egress bool) {
		if subnet == "" && it != nil {
			subnet = it.Subnet
		}
		if subnet == "" {
			if it != nil {
				add(cmd(it, "aws ec2 describe-network-interfaces --network-interface-ids %s --query 'NetworkInterfaces[].SubnetId'", it.ID))
			}
			return
		}
		add(cmd(it, "aws ec2 describe-network-acls --filters Name=association.subnet-id,Values=%s --query 'NetworkAcls[].Entries[?Egress==`%t`]'", subnet, egress))
	}
	reach := func() {
		if src == nil || dst == nil {
			return
		}
		proto := strings.ToLower(ProtocolName(q.Protocol))
		if proto != "tcp" && proto != "udp" {
			if q.Protocol != 0 {
				return
			}
			proto = "tcp"
		}
		port := ""
		if q.Port != 0 {
			port = fmt.Sprintf(" --destination-port %d", q.Port)
		}
		add(cmd(src, "aws ec2 create-network-insights-path --source %s --destination %s --protocol %s%s", src.ID, dst.ID, proto, port))
		add(cmd(src, "aws ec2 start-network-insights-analysis --network-insights-path-id <the NetworkInsightsPathId above>"))
	}
	routes := func(it *Interface) {
		if it != nil && it.Subnet != "" {
			add(cmd(it, "aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=%s --query 'RouteTables[].Routes'", it.Subnet))
		}
	}
	instance := func(it *Interface) {
		if it != nil && it.Instance != "" {
			add(cmd(it, "aws ec2 describe-instance-status --include-all-instances --instance-ids %s", it.Instance))
		}
	}
	listening := func(it *Interface) {
		if it != nil && it.Instance != "" && q.Port != 0 {
			add(cmd(it, `aws ssm send-command --instance-ids %s --document-name AWS-RunShellScript --parameters 'commands=["ss -lntup | grep -w %d || echo nothing listens on %d"]'`, it.Instance, q.Port, q.Port))
		}
	}
	flowLogs := func(it *Interface) {
		if it == nil {
			return
		}
		ids := []string{it.ID}
		if it.Subnet != "" {
			ids = append(ids, it.Subnet)
		}
		if it.VPC != "" {
			ids = append(ids, it.VPC)
		}
		add(cmd(it, "aws ec2 describe-flow-logs --filter Name=resource-id,Values=%s --query 'FlowLogs[].[FlowLogId,ResourceId,TrafficType,FlowLogStatus]'", strings.Join(ids, ",")))
	}
	find := func(a netip.Addr) string {
		if a.Is6() {
			return "Name=ipv6-addresses.ipv6-address,Values=" + a.String()
		}
		return "Name=addresses.private-ip-address,Values=" + a.String()
	}
	switch a.Verdict {
	case NotLogged:
		why := NeverLogged(q.Dst, q.Port, q.Protocol, q.VPCCIDRs)
		switch {
		case src != nil && src.Instance != "" && strings.HasPrefix(why, "the instance metadata service"):
			add(cmd(src, "aws ec2 describe-instances --instance-ids %s --query 'Reservations[].Instances[].MetadataOptions'", src.Instance))
		case src != nil && src.VPC != "" && strings.Contains(why, "Amazon DNS resolver"):
			add(cmd(src, "aws ec2 describe-vpc-attribute --vpc-id %s --attribute enableDnsSupport", src.VPC))
		}
	case Reset:
		listening(dst)
		instance(dst)
	case BlockedInbound:
		if a.Likely != LikelyNetworkACL {
			sgRules(dst, false)
		}
		if a.Likely != LikelySecurityGroup {
			acl(dst, f.reqIn.rejectingSubnet(), false)
		}
		if a.Likely == LikelyEither {
			reach()
		}
	case BlockedOutbound:
		if a.Likely != LikelyNetworkACL {
			sgRules(src, true)
		}
		if a.Likely != LikelySecurityGroup {
			acl(src, f.reqOut.rejectingSubnet(), true)
		}
		if a.Likely == LikelyEither {
			reach()
		}
	case ReplyBlocked:
		if f.repOut.rejected > 0 {
			acl(dst, f.replySubnet, true)
		} else {
			acl(src, f.replySubnet, false)
		}
	case Unanswered:
		instance(dst)
		listening(dst)
		routes(dst)
	case LostInPath:
		routes(src)
		routes(dst)
		reach()
	case NeverSent:
		flowLogs(src)
		instance(src)
	case BlockedByBPA:
		it := dst
		if it == nil {
			it = src
		}
		add(cmd(it, "aws ec2 describe-vpc-block-public-access-options"))
		add(cmd(it, "aws ec2 describe-vpc-block-public-access-exclusions"))
	case LogGap:
		for _, its := range [][]*Interface{f.src, f.dst} {
			for _, it := range its {
				if it.SkipData > 0 {
					flowLogs(it)
				}
			}
		}
	case NoCoverage:
		add(fmt.Sprintf("aws ec2 describe-network-interfaces --filters %s --query 'NetworkInterfaces[].[NetworkInterfaceId,SubnetId,VpcId]'", find(q.Src)))
		add(fmt.Sprintf("aws ec2 describe-network-interfaces --filters %s --query 'NetworkInterfaces[].[NetworkInterfaceId,SubnetId,VpcId]'", find(q.Dst)))
		add("aws ec2 describe-flow-logs --query 'FlowLogs[].[FlowLogId,ResourceId,TrafficType,FlowLogStatus]'")
	}
	for _, its := range [][]*Interface{f.src, f.dst} {
		for _, it := range its {
			if (it.Rejected >= onlyOneType && it.Accepted == 0) || (it.Accepted >= onlyOneType && it.Rejected == 0) {
				flowLogs(it)
			}
		}
	}
	return out
}
