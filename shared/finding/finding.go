package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Version is the version of the JSON shape that this package writes.
const Version = 1

// Severity rates a finding. The zero value is not a valid severity.
type Severity string

// Severities, lowest first.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// DefaultNotifySeverity is the lowest severity notified by default: low
// findings (such as rejected probes from the internet, which the VPC guide
// calls expected noise) are stored and published but not sent to people.
const DefaultNotifySeverity = Medium

// Rank orders severities: 1 for low to 4 for critical, 0 for anything else.
func (s Severity) Rank() int {
	switch s {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	case Critical:
		return 4
	}
	return 0
}

// Valid reports whether s is one of the four severities.
func (s Severity) Valid() bool { return s.Rank() > 0 }

// AtLeast reports whether s is as severe as o or more.
func (s Severity) AtLeast(o Severity) bool { return s.Rank() >= o.Rank() }

// ParseSeverity returns the severity named s (case-insensitive).
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToLower(strings.TrimSpace(s)))
	if !v.Valid() {
		return "", fmt.Errorf("severity %q: %w", s, ErrSeverity)
	}
	return v, nil
}

// Role says what the entity the finding is about did, as GuardDuty's
// resource role does: the actor started it (one of our own instances
// scanning or brute-forcing is likely compromised); the target received it.
type Role string

// Roles.
const (
	RoleActor  Role = "actor"
	RoleTarget Role = "target"
)

// Engine says which detection engine raised a finding.
type Engine string

// Engines.
const (
	EngineBatch Engine = "batch" // per ingest batch, in Go
	EngineLake  Engine = "lake"  // scheduled SQL over the lake (Athena or DuckDB)
)

// MaxSampleFlows bounds Evidence.Flows.
const MaxSampleFlows = 20

// Finding is one detection: what rule fired, about which entity, in which
// time window, how bad it is, the evidence, and the Athena query that shows
// the underlying flows.
type Finding struct {
	Version     int      `json:"version"`
	ID          string   `json:"id"`
	Rule        string   `json:"rule"`
	Severity    Severity `json:"severity"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	// Role is whether the entity (our side of the flows) is the actor or
	// the target; it set the severity.
	Role Role `json:"role,omitempty"`
	// Mitre lists MITRE ATT&CK technique ids, such as "T1046".
	Mitre []string `json:"mitre,omitempty"`

	// Entity is what the finding is about, within the rule and account:
	// "198.51.100.7>10.0.0.12" for a scan of one host, "10.0.1.5:445" for a
	// sweep, "eni-…" for egress. It is part of the ID.
	Entity      string `json:"entity"`
	AccountID   string `json:"account_id"`
	Region      string `json:"region,omitempty"`
	InterfaceID string `json:"interface_id,omitempty"`
	Src         string `json:"src,omitempty"` // source address; empty when there were several
	Dst         string `json:"dst,omitempty"` // destination address; empty when there were several
	Ports       []int  `json:"ports,omitempty"`
	Protocol    int    `json:"protocol,omitempty"`

	// WindowStart and WindowEnd bound the rule's window the finding was
	// raised in (start inclusive, end exclusive); the window is part of
	// the ID.
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	// Count is what the rule counted: flows, connections (distinct
	// source ports) or skipped records, as Evidence.Measure says.
	Count int64 `json:"count"`

	Evidence Evidence `json:"evidence"`
	// Query is a ready-to-run Athena query for the underlying flows; it
	// restricts the lake's partition keys so partition projection prunes
	// the scan to the window's partitions.
	Query string `json:"athena_query"`

	Engine   Engine    `json:"engine"`
	Detected time.Time `json:"detected_at"`
	// Source names what was read to raise it, for dedup: the ingest
	// source (an S3 object's key and ETag, or a CloudWatch Logs batch) of
	// a batch-engine finding, or the window of a scheduled run. A
	// redelivery of the same source raises the same finding again, and
	// dedup counts it once.
	Source string `json:"source,omitempty"`
}

// Evidence is what the rule saw.
type Evidence struct {
	// Measure names what Count counts: "flows", "connections",
	// "distinct_ports", "distinct_hosts" or "skipped_records".
	Measure  string `json:"measure"`
	Flows    int64  `json:"flows"`    // flow records that matched
	Accepted int64  `json:"accepted"` // of which ACCEPT
	Bytes    int64  `json:"bytes"`
	Packets  int64  `json:"packets"`
	MaxBytes int64  `json:"max_flow_bytes,omitempty"` // the largest single flow
	// DistinctPorts and DistinctHosts count destination ports and hosts;
	// DistinctSources counts source addresses.
	DistinctPorts   int64 `json:"distinct_ports"`
	DistinctHosts   int64 `json:"distinct_hosts"`
	DistinctSources int64 `json:"distinct_sources"`
	// Thresholds are the rule's settings the finding was judged by, by
	// name, so a renderer can say "30 attempts (threshold 20)".
	Thresholds map[string]int64 `json:"thresholds,omitempty"`
	// Samples holds up to MaxSampleFlows of the flows, earliest first.
	Samples []Flow `json:"sample_flows,omitempty"`
}

// Flow is one sample flow record, with the AWS field names.
type Flow struct {
	InterfaceID   string    `json:"interface_id,omitempty"`
	SrcAddr       string    `json:"srcaddr,omitempty"`
	DstAddr       string    `json:"dstaddr,omitempty"`
	SrcPort       int       `json:"srcport"`
	DstPort       int       `json:"dstport"`
	Protocol      int       `json:"protocol"`
	Packets       int64     `json:"packets"`
	Bytes         int64     `json:"bytes"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Action        string    `json:"action,omitempty"`
	LogStatus     string    `json:"log_status,omitempty"`
	FlowDirection string    `json:"flow_direction,omitempty"`
}

// ID returns the stable id of a finding: 32 hex digits of the SHA-256 of
// rule, account, entity and window start, separated by NUL bytes.
func ID(rule, account, entity string, windowStart time.Time) string {
	h := sha256.New()
	for _, s := range []string{rule, account, entity, windowStart.UTC().Format(time.RFC3339)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Errors from Validate and ParseSeverity.
var (
	ErrSeverity = errors.New("severity must be low, medium, high or critical")
	ErrInvalid  = errors.New("invalid finding")
)

// Validate checks what every consumer relies on: the version, a known
// severity, the required fields, an ID that matches rule, account, entity
// and window, and a sane window.
func (f *Finding) Validate() error {
	var problems []string
	if f.Version != Version {
		problems = append(problems, fmt.Sprintf("version %d, want %d", f.Version, Version))
	}
	if !f.Severity.Valid() {
		problems = append(problems, fmt.Sprintf("severity %q", f.Severity))
	}
	for name, v := range map[string]string{"rule": f.Rule, "title": f.Title, "entity": f.Entity, "account_id": f.AccountID} {
		if v == "" {
			problems = append(problems, name+" is empty")
		}
	}
	if !f.WindowEnd.After(f.WindowStart) {
		problems = append(problems, "window_end is not after window_start")
	}
	if want := ID(f.Rule, f.AccountID, f.Entity, f.WindowStart); f.ID != want {
		problems = append(problems, fmt.Sprintf("id %q, want %q", f.ID, want))
	}
	if len(f.Evidence.Samples) > MaxSampleFlows {
		problems = append(problems, fmt.Sprintf("%d sample flows, at most %d", len(f.Evidence.Samples), MaxSampleFlows))
	}
	if len(problems) > 0 {
		return fmt.Errorf("finding %s: %s: %w", f.ID, strings.Join(problems, "; "), ErrInvalid)
	}
	return nil
}

// Marshal returns the finding as one line of JSON.
func (f *Finding) Marshal() ([]byte, error) { return json.Marshal(f) }

// Unmarshal decodes a finding and checks its version.
func Unmarshal(data []byte) (Finding, error) {
	var f Finding
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("decode finding: %w", err)
	}
	if f.Version != Version {
		return f, fmt.Errorf("decode finding: version %d, this code reads %d: %w", f.Version, Version, ErrInvalid)
	}
	return f, nil
}
