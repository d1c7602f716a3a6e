package detect

import (
	"fmt"
	"net/netip"
	"strings"
)

// Environment variables of the detection settings, the same for the
// scheduled detector and detection at ingest.
const (
	EnvAccounts = "DETECT_ACCOUNTS" // comma-separated accounts the lake engine's queries name
	EnvDisabled = "DETECT_DISABLED" // comma-separated rule IDs not to run
	EnvInternal = "DETECT_INTERNAL" // comma-separated address blocks of ours besides the private ranges
	EnvSettings = "DETECT_SETTINGS" // semicolon-separated rule.field=value overrides
)

// ConfigFromEnv reads the detection settings from the environment (getenv
// is os.Getenv) and checks that they compile.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var cfg Config
	list := func(name, sep string) []string {
		var out []string
		for _, s := range strings.Split(getenv(name), sep) {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	cfg.Accounts = list(EnvAccounts, ",")
	cfg.Disabled = list(EnvDisabled, ",")
	for _, s := range list(EnvInternal, ",") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", EnvInternal, err)
		}
		cfg.InternalPrefixes = append(cfg.InternalPrefixes, p)
	}
	for _, s := range list(EnvSettings, ";") {
		if err := cfg.ParseSetting(s); err != nil {
			return cfg, fmt.Errorf("%s: %w", EnvSettings, err)
		}
	}
	if _, err := Compile(cfg); err != nil {
		return cfg, fmt.Errorf("%s/%s/%s: %w", EnvSettings, EnvDisabled, EnvInternal, err)
	}
	return cfg, nil
}
