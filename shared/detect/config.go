package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/threatlist"
)

// Config configures both engines. The zero value runs every rule with its
// defaults.
type Config struct {
	// Rules overrides rule settings by rule ID, field by field.
	Rules map[string]Settings
	// Disabled lists rule IDs not to run.
	Disabled []string
	// InternalPrefixes are address blocks of ours besides the private
	// ranges, such as a VPC's IPv6 block (globally routable, so "public"
	// to enrich.ClassifyIP). See CheckInternalPrefix: the SQL engine
	// matches their text, as LIKE patterns of whole octets or groups.
	InternalPrefixes []netip.Prefix
	// Account and Region are the lake partition values (aws_account,
	// aws_region) of the records the batch engine observes, when the
	// ingest pipeline knows them from the source; "" takes each record's
	// account_id and region. They only shape findings' Athena queries.
	Account, Region string
	// Accounts restricts the lake engine to these aws_account partition
	// values. The Athena table projects aws_account as "injected" unless
	// it enumerates accounts, and then every query must name them.
	Accounts []string
	// ThreatLists are the lists threat-list-match looks up in the batch
	// engine; names must differ. The lake engine reads the lake's
	// threat_lists table instead (lake.WriteThreatList writes both from
	// one list).
	ThreatLists []*threatlist.List
	// Now stamps findings' detected_at; nil is time.Now.
	Now func() time.Time
}

// Set is a compiled configuration: the enabled rules with their settings.
// Build it with Compile; it is safe for concurrent use.
type Set struct {
	rules []compiled
	cls   classifier
	cfg   Config
}

type compiled struct {
	rule *Rule
	s    Settings
	env  env
}

// Compile checks cfg and returns the rule set it selects.
func Compile(cfg Config) (*Set, error) {
	set := &Set{cfg: cfg, cls: classifier{prefixes: cfg.InternalPrefixes}}
	for _, p := range cfg.InternalPrefixes {
		if err := CheckInternalPrefix(p); err != nil {
			return nil, fmt.Errorf("detect config: %w", err)
		}
	}
	names := map[string]bool{}
	for _, l := range cfg.ThreatLists {
		if l == nil {
			return nil, fmt.Errorf("detect config: a nil threat list")
		}
		if err := threatlist.CheckName(l.Name); err != nil {
			return nil, fmt.Errorf("detect config: %w", err)
		}
		if names[l.Name] {
			return nil, fmt.Errorf("detect config: two threat lists named %q", l.Name)
		}
		names[l.Name] = true
	}
	for id := range cfg.Rules {
		if _, ok := Lookup(id); !ok {
			return nil, fmt.Errorf("detect config: settings for unknown rule %q", id)
		}
	}
	for _, id := range cfg.Disabled {
		if _, ok := Lookup(id); !ok {
			return nil, fmt.Errorf("detect config: unknown rule %q disabled", id)
		}
	}
	for i := range Rules {
		r := &Rules[i]
		if slices.Contains(cfg.Disabled, r.ID) {
			continue
		}
		s := r.Defaults.merge(cfg.Rules[r.ID])
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("detect config: rule %s: %w", r.ID, err)
		}
		set.rules = append(set.rules, compiled{rule: r, s: s})
	}
	for i := range set.rules {
		set.rules[i].env = env{s: &set.rules[i].s, cls: &set.cls, lists: cfg.ThreatLists}
	}
	return set, nil
}

// MustCompile is Compile that panics on error.
func MustCompile(cfg Config) *Set {
	s, err := Compile(cfg)
	if err != nil {
		panic(err)
	}
	return s
}

// Rules returns the IDs of the enabled rules, in registry order.
func (s *Set) Rules() []string {
	ids := make([]string, len(s.rules))
	for i, c := range s.rules {
		ids[i] = c.rule.ID
	}
	return ids
}

// Settings returns the effective settings of a rule.
func (s *Set) Settings(id string) (Settings, bool) {
	for _, c := range s.rules {
		if c.rule.ID == id {
			return c.s, true
		}
	}
	return Settings{}, false
}

func (s *Set) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now().UTC()
	}
	return time.Now().UTC()
}

// ParseSetting applies one "rule.field=value" assignment (the CLI's --set
// and the Lambda's DETECT_SETTINGS) to cfg.Rules. Fields: window (a Go
// duration), threshold, flow_bytes, max_packets, max_port (integers),
// ports (comma-separated; empty for none), allow (comma-separated
// addresses or CIDR blocks; empty for none), k (a number), days and
// min_days (integers).
func (c *Config) ParseSetting(kv string) error {
	name, value, ok := strings.Cut(kv, "=")
	id, field, ok2 := strings.Cut(name, ".")
	if !ok || !ok2 {
		return fmt.Errorf("setting %q: want rule.field=value", kv)
	}
	if _, known := Lookup(id); !known {
		return fmt.Errorf("setting %q: unknown rule %q", kv, id)
	}
	if c.Rules == nil {
		c.Rules = map[string]Settings{}
	}
	s := c.Rules[id]
	var err error
	num := func() int64 {
		var n int64
		n, err = strconv.ParseInt(value, 10, 64)
		return n
	}
	switch field {
	case "window":
		s.Window, err = time.ParseDuration(value)
	case "threshold":
		s.Threshold = num()
	case "flow_bytes":
		s.FlowBytes = num()
	case "max_packets":
		s.MaxPackets = num()
	case "max_port":
		s.MaxPort = int(num())
	case "ports":
		s.Ports = []int{}
		for _, p := range strings.Split(value, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			n, perr := strconv.Atoi(p)
			if perr != nil {
				err = perr
				break
			}
			s.Ports = append(s.Ports, n)
		}
	case "k":
		s.K, err = strconv.ParseFloat(value, 64)
	case "days":
		s.Days = int(num())
	case "min_days":
		s.MinDays = int(num())
	case "allow":
		s.Allow = []netip.Prefix{}
		for _, a := range strings.Split(value, ",") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			p, perr := parsePrefix(a)
			if perr != nil {
				err = perr
				break
			}
			s.Allow = append(s.Allow, p)
		}
	default:
		return fmt.Errorf("setting %q: unknown field %q", kv, field)
	}
	if err != nil {
		return fmt.Errorf("setting %q: %w", kv, err)
	}
	c.Rules[id] = s
	return nil
}

// parsePrefix parses an address (a one-address prefix) or a CIDR block.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
