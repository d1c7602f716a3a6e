package text

import (
	"fmt"

	"github.com/flowlake/flowlake/shared/finding"
)

// NextSteps says what the person on call should check next, in order, for
// the finding's rule and role. A rule without its own steps gets the
// role's general ones.
func NextSteps(f *finding.Finding) []string {
	src, dst, eni := orWord(f.Src, "the source"), orWord(f.Dst, "the destination"), orWord(f.InterfaceID, "the interface")
	ports := Ports(f.Ports, f.Protocol)
	if ports == "" {
		ports = "the ports"
	}
	compromised := []string{
		fmt.Sprintf("Treat %s as possibly compromised: check its running processes, recent logins and new cron jobs or containers.", src),
		fmt.Sprintf("Check CloudTrail for the instance role's API calls around %s.", Window(f.FirstSeen, f.LastSeen)),
		fmt.Sprintf("If it is unexplained, isolate %s with a security group that allows no traffic, and snapshot its volumes before you change anything.", eni),
	}
	switch f.Rule {
	case "port-scan", "host-sweep":
		if f.Role == finding.RoleActor {
			return compromised
		}
		return []string{
			"Run the Athena query and look for ACCEPT: an accepted probe reached a listening service.",
			fmt.Sprintf("If any were accepted, review the security group and network ACL of %s and close what need not be open.", eni),
			fmt.Sprintf("Consider a network ACL deny for %s if it keeps coming back.", src),
		}
	case "ssh-brute-force", "rdp-brute-force":
		if f.Role == finding.RoleActor {
			return compromised
		}
		return []string{
			fmt.Sprintf("Check the authentication logs on %s for a successful login from %s around %s.", dst, src, Window(f.FirstSeen, f.LastSeen)),
			fmt.Sprintf("Restrict %s to known addresses in the security group, or use Session Manager instead.", ports),
			fmt.Sprintf("Block %s in the network ACL if it keeps trying.", src),
		}
	case "exposed-admin-port", "exposed-database-port":
		return []string{
			fmt.Sprintf("Confirm whether %s on %s should be reachable from the internet at all.", ports, dst),
			fmt.Sprintf("If not, remove the 0.0.0.0/0 (or ::/0) rule from the security group of %s.", eni),
			fmt.Sprintf("Check the service's own logs on %s for access from the sources the query lists.", dst),
		}
	case "large-egress":
		return []string{
			fmt.Sprintf("Find what on %s sent the data to %s: an expected backup or upload, or not.", eni, dst),
			"Compare with the interface's usual egress (run the query over earlier days).",
			fmt.Sprintf("If unexpected, isolate %s, preserve its volumes, and check CloudTrail for the role's data access.", eni),
		}
	case "crypto-mining-port":
		return []string{
			fmt.Sprintf("Check CPU use and running processes on the instance behind %s for a miner.", eni),
			"Look for new cron jobs, containers, users or SSH keys.",
			fmt.Sprintf("If confirmed, isolate %s, rotate the instance role's credentials, and rebuild the instance from a known image.", eni),
		}
	case "log-gap":
		return []string{
			fmt.Sprintf("Flows of %s in %s were not recorded: other findings for it may be incomplete.", eni, Window(f.WindowStart, f.WindowEnd)),
			"Check the flow log's delivery errors and the interface's traffic for the window.",
			"Run detection over the window again once delivery is healthy.",
		}
	}
	if f.Role == finding.RoleActor {
		return compromised
	}
	return []string{
		"Run the Athena query to see the flows, and whether any were accepted.",
		fmt.Sprintf("Review the security group and network ACL of %s.", eni),
	}
}

func orWord(v, word string) string {
	if v = Clean(v); v != "" {
		return v
	}
	return word
}
