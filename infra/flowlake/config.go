package flowlake

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowlog"
)

// Destinations of the flow logs.
const (
	DestS3         = "s3"
	DestCloudWatch = "cloudwatch"
	DestBoth       = "both"
)

// Deployment modes (flowlake:mode).
const (
	// ModeStandalone is one account's flow logs into that account's lake:
	// everything in one stack.
	ModeStandalone = "standalone"
	// ModeCentral is the organisation's lake: the standalone stack, whose
	// raw bucket also takes the flow logs of MemberAccounts, and whose
	// catalog and detector cover them.
	ModeCentral = "central"
	// ModeMember is a member account's flow logs, delivered by VPC Flow
	// Logs straight into the central raw bucket: no lake, no function, no
	// topic.
	ModeMember = "member"
)

// Context keys, all under the "flowlake:" prefix in cdk.json's context.
const (
	CtxStackName                = "flowlake:stackName"
	CtxMode                     = "flowlake:mode"
	CtxMemberAccounts           = "flowlake:memberAccounts"
	CtxMemberRegions            = "flowlake:memberRegions"
	CtxMembers                  = "flowlake:members"
	CtxCentralAccount           = "flowlake:centralAccount"
	CtxCentralRegion            = "flowlake:centralRegion"
	CtxCentralRawBucket         = "flowlake:centralRawBucket"
	CtxVPCs                     = "flowlake:vpcIds"
	CtxSubnets                  = "flowlake:subnetIds"
	CtxENIs                     = "flowlake:eniIds"
	CtxTrafficType              = "flowlake:trafficType"
	CtxAggregationInterval      = "flowlake:aggregationIntervalSeconds"
	CtxDestination              = "flowlake:destination"
	CtxLogFormat                = "flowlake:logFormat"
	CtxInstanceTagKey           = "flowlake:instanceTagKey"
	CtxInterfaceTagKey          = "flowlake:interfaceTagKey"
	CtxFlowLogRetentionDays     = "flowlake:flowLogRetentionDays"
	CtxFunctionLogRetentionDays = "flowlake:functionLogRetentionDays"
	CtxRawExpirationDays        = "flowlake:rawExpirationDays"
	CtxLakeTransitionDays       = "flowlake:lakeTransitionDays"
	CtxLakeStorageClass         = "flowlake:lakeStorageClass"
	CtxLakeExpirationDays       = "flowlake:lakeExpirationDays"
	CtxAccessLogExpirationDays  = "flowlake:accessLogExpirationDays"
	CtxDatabaseName             = "flowlake:databaseName"
	CtxBytesScannedCutoff       = "flowlake:athenaBytesScannedCutoff"
	CtxAlertEmails              = "flowlake:alertEmails"
	CtxEmailMinSeverity         = "flowlake:emailMinSeverity"
	CtxOpsEmails                = "flowlake:opsEmails"
	CtxSlackSecretName          = "flowlake:slackSecretName"
	CtxSlackSecretKey           = "flowlake:slackSecretKey"
	CtxSlackMinSeverity         = "flowlake:slackMinSeverity"
	CtxDetectSchedule           = "flowlake:detectSchedule"
	CtxDetectInternal           = "flowlake:detectInternalCidrs"
	CtxDetectDisabled           = "flowlake:detectDisabledRules"
	CtxCompactSchedule          = "flowlake:compactSchedule"
	CtxCompactMinAgeHours       = "flowlake:compactMinAgeHours"
	CtxCompactTargetMiB         = "flowlake:compactTargetMiB"
	CtxRejectedLinesThreshold   = "flowlake:alarmRejectedLinesPercent"
	CtxDeliveryLagThreshold     = "flowlake:alarmDeliveryLagSeconds"
)

// Config is the app's whole configuration, read from the CDK context.
type Config struct {
	StackName string

	// Organisation. Mode is ModeStandalone, ModeCentral or ModeMember.
	Mode string
	// MemberAccounts are the accounts whose flow logs a central stack
	// takes (central only; with Members, theirs too).
	MemberAccounts []string
	// MemberRegions are the regions the members' flow logs come from,
	// besides the central stack's own (central only).
	MemberRegions []string
	// Members are member stacks the app synthesizes too, one CDK Stage
	// each, beside the central stack's (central only; see NewDeployment).
	Members []Member
	// CentralAccount and CentralRegion are where the central stack is:
	// the central raw bucket's name is derived from them
	// (CentralRawBucketName) unless CentralRawBucket names it. A member
	// needs one of CentralAccount and CentralRawBucket; a central stack
	// with Members needs CentralAccount (its Stage's account).
	CentralAccount, CentralRegion, CentralRawBucket string

	// Flow logs.
	VPCs, Subnets, ENIs []string // the scope: at least one id in all
	TrafficType         string   // ACCEPT, REJECT or ALL
	AggregationSeconds  int      // 60 or 600
	Destination         string   // s3, cloudwatch or both
	LogFormat           string   // a ${field} format string, checked by flowlog.ParseFormat
	// InstanceTagKey and InterfaceTagKey are the tag keys whose values the
	// flow logs record in ${instance-tag} (the instance's tag) and
	// ${interface-tag} (the network interface's): the flow log's
	// TagFieldSpecifications. Setting one adds its field to LogFormat.
	InstanceTagKey, InterfaceTagKey string

	// Retention and lifecycle, in days (0: never expire, where allowed).
	FlowLogRetentionDays     int
	FunctionLogRetentionDays int
	RawExpirationDays        int
	LakeTransitionDays       int
	LakeStorageClass         string // STANDARD_IA, INTELLIGENT_TIERING or GLACIER_IR
	LakeExpirationDays       int
	AccessLogExpirationDays  int

	// Catalog.
	DatabaseName       string
	BytesScannedCutoff int64 // per Athena query

	// Findings and operations.
	AlertEmails      []string
	EmailMinSeverity finding.Severity
	OpsEmails        []string
	SlackSecretName  string
	SlackSecretKey   string           // JSON field of the secret holding the webhook URL ("": the whole string)
	SlackMinSeverity finding.Severity // "": every finding the topic gets

	// Detection.
	DetectSchedule string // an EventBridge schedule expression
	DetectInternal []string
	DetectDisabled []string

	// Compaction.
	CompactSchedule string // an EventBridge schedule expression, after the detector's
	// CompactMinAgeHours: an hour is compacted once it ended this long
	// ago; 0: CompactMinAge() derives it from the detector's reach.
	CompactMinAgeHours int
	CompactTargetMiB   int // the largest compacted object

	// Alarm thresholds.
	RejectedLinesThreshold int // percent of lines rejected over 15 minutes
	DeliveryLagThreshold   int // seconds
}

// Defaults returns the configuration every context key falls back to. It
// has no scope, so it does not validate on its own.
func Defaults() Config {
	return Config{
		StackName:                "Flowlake",
		Mode:                     ModeStandalone,
		TrafficType:              "REJECT",
		AggregationSeconds:       600,
		Destination:              DestS3,
		LogFormat:                flowlog.RichFormat,
		FlowLogRetentionDays:     14,
		FunctionLogRetentionDays: 30,
		RawExpirationDays:        30,
		LakeTransitionDays:       90,
		LakeStorageClass:         "STANDARD_IA",
		LakeExpirationDays:       0,
		AccessLogExpirationDays:  90,
		DatabaseName:             "flowlake",
		BytesScannedCutoff:       10 << 30, // 10 GiB: about $0.05 a query
		EmailMinSeverity:         finding.DefaultNotifySeverity,
		DetectSchedule:           "cron(20 * * * ? *)", // hourly, after the previous hour's files have landed
		CompactSchedule:          "cron(40 * * * ? *)", // hourly, after the detector's run
		CompactTargetMiB:         128,
		RejectedLinesThreshold:   1,
		DeliveryLagThreshold:     1800,
	}
}

// S3 and CloudWatch report whether the flow logs go there.
func (c Config) S3() bool { return c.Destination == DestS3 || c.Destination == DestBoth }
func (c Config) CloudWatch() bool {
	return c.Destination == DestCloudWatch || c.Destination == DestBoth
}

// Format returns the parsed log format; call it on a validated Config.
func (c Config) Format() *flowlog.Format { return flowlog.MustParseFormat(c.LogFormat) }

// withTagFields returns the format string format with ${instance-tag}
// appended when instanceKey is set and ${interface-tag} when interfaceKey
// is, unless it has them; an unparsable format is returned as it is, for
// Validate to report.
func withTagFields(format, instanceKey, interfaceKey string) string {
	fm, err := flowlog.ParseFormat(format)
	if err != nil {
		return format
	}
	for _, t := range []struct {
		f   flowlog.Field
		key string
	}{{flowlog.FieldInstanceTag, instanceKey}, {flowlog.FieldInterfaceTag, interfaceKey}} {
		if t.key != "" && !fm.Has(t.f) {
			format += " ${" + t.f.String() + "}"
		}
	}
	return format
}

// TagFieldSpecifications returns the flow logs' tag keys as the EC2 API's
// TagFieldSpecifications: resource type (instance, network-interface) →
// the one key, for each key set.
func (c Config) TagFieldSpecifications() map[string]string {
	out := map[string]string{}
	if c.InstanceTagKey != "" {
		out["instance"] = c.InstanceTagKey
	}
	if c.InterfaceTagKey != "" {
		out["network-interface"] = c.InterfaceTagKey
	}
	return out
}

// ContextGetter returns a context value: nil when unset; a string (from
// -c key=value), or a float64, bool or []any (from cdk.json).
type ContextGetter func(key string) any

// ConfigFromContext reads every key, applies the defaults and validates the
// result. The error names every bad key at once.
func ConfigFromContext(get ContextGetter) (Config, error) {
	c := Defaults()
	var errs []error
	bad := func(key string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("context %s: %s", key, fmt.Sprintf(format, args...)))
	}
	str := func(key string, dst *string) {
		switch v := get(key).(type) {
		case nil:
		case string:
			if v = strings.TrimSpace(v); v != "" {
				*dst = v
			}
		default:
			bad(key, "want a string, got %T %v", v, v)
		}
	}
	list := func(key string, dst *[]string) {
		var out []string
		switch v := get(key).(type) {
		case nil:
			return
		case string: // -c key=a,b
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		case []any:
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					bad(key, "want a list of strings, got an element %T %v", e, e)
					return
				}
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		default:
			bad(key, "want a list of strings, got %T %v", v, v)
			return
		}
		*dst = out
	}
	num := func(key string, dst *int64) bool {
		var f float64
		switch v := get(key).(type) {
		case nil:
			return false
		case float64:
			f = v
		case int:
			f = float64(v)
		case string:
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				bad(key, "want a number, got %q", v)
				return false
			}
			f = x
		default:
			bad(key, "want a number, got %T %v", v, v)
			return false
		}
		if f != math.Trunc(f) || f < 0 || f > math.MaxInt64/2 {
			bad(key, "want a whole number ≥ 0, got %v", f)
			return false
		}
		*dst = int64(f)
		return true
	}
	integer := func(key string, dst *int) {
		var n int64
		if num(key, &n) {
			*dst = int(n)
		}
	}

	str(CtxStackName, &c.StackName)
	str(CtxMode, &c.Mode)
	c.Mode = strings.ToLower(c.Mode)
	list(CtxMemberAccounts, &c.MemberAccounts)
	list(CtxMemberRegions, &c.MemberRegions)
	c.Members = members(get(CtxMembers), bad)
	str(CtxCentralAccount, &c.CentralAccount)
	str(CtxCentralRegion, &c.CentralRegion)
	str(CtxCentralRawBucket, &c.CentralRawBucket)
	list(CtxVPCs, &c.VPCs)
	list(CtxSubnets, &c.Subnets)
	list(CtxENIs, &c.ENIs)
	str(CtxTrafficType, &c.TrafficType)
	integer(CtxAggregationInterval, &c.AggregationSeconds)
	str(CtxDestination, &c.Destination)
	str(CtxLogFormat, &c.LogFormat)
	str(CtxInstanceTagKey, &c.InstanceTagKey)
	str(CtxInterfaceTagKey, &c.InterfaceTagKey)
	integer(CtxFlowLogRetentionDays, &c.FlowLogRetentionDays)
	integer(CtxFunctionLogRetentionDays, &c.FunctionLogRetentionDays)
	integer(CtxRawExpirationDays, &c.RawExpirationDays)
	integer(CtxLakeTransitionDays, &c.LakeTransitionDays)
	str(CtxLakeStorageClass, &c.LakeStorageClass)
	integer(CtxLakeExpirationDays, &c.LakeExpirationDays)
	integer(CtxAccessLogExpirationDays, &c.AccessLogExpirationDays)
	str(CtxDatabaseName, &c.DatabaseName)
	num(CtxBytesScannedCutoff, &c.BytesScannedCutoff)
	list(CtxAlertEmails, &c.AlertEmails)
	var sev string
	str(CtxEmailMinSeverity, &sev)
	if sev != "" {
		c.EmailMinSeverity = finding.Severity(strings.ToLower(sev))
	}
	list(CtxOpsEmails, &c.OpsEmails)
	str(CtxSlackSecretName, &c.SlackSecretName)
	str(CtxSlackSecretKey, &c.SlackSecretKey)
	var slackSev string
	str(CtxSlackMinSeverity, &slackSev)
	c.SlackMinSeverity = finding.Severity(strings.ToLower(slackSev))
	str(CtxDetectSchedule, &c.DetectSchedule)
	list(CtxDetectInternal, &c.DetectInternal)
	list(CtxDetectDisabled, &c.DetectDisabled)
	str(CtxCompactSchedule, &c.CompactSchedule)
	integer(CtxCompactMinAgeHours, &c.CompactMinAgeHours)
	integer(CtxCompactTargetMiB, &c.CompactTargetMiB)
	integer(CtxRejectedLinesThreshold, &c.RejectedLinesThreshold)
	integer(CtxDeliveryLagThreshold, &c.DeliveryLagThreshold)

	c.TrafficType = strings.ToUpper(c.TrafficType)
	c.Destination = strings.ToLower(c.Destination)
	c.LakeStorageClass = strings.ToUpper(c.LakeStorageClass)
	if strings.EqualFold(c.LogFormat, "default") {
		c.LogFormat = flowlog.DefaultFormat
	} else if strings.EqualFold(c.LogFormat, "rich") {
		c.LogFormat = flowlog.RichFormat
	} else if strings.EqualFold(c.LogFormat, "v11") {
		c.LogFormat = flowlog.V11Format
	}
	c.LogFormat = withTagFields(c.LogFormat, c.InstanceTagKey, c.InterfaceTagKey)
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

var (
	vpcID        = regexp.MustCompile(`^vpc-[0-9a-f]{8}([0-9a-f]{9})?$`)
	subnetID     = regexp.MustCompile(`^subnet-[0-9a-f]{8}([0-9a-f]{9})?$`)
	eniID        = regexp.MustCompile(`^eni-[0-9a-f]{8}([0-9a-f]{9})?$`)
	stackName    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	dbName       = regexp.MustCompile(`^[a-z][a-z0-9_]{0,254}$`)
	scheduleExpr = regexp.MustCompile(`^(rate|cron)\(.+\)$`)
	email        = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// logRetentionDays are the values CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Validate checks the configuration and names every problem.
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("context %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !stackName.MatchString(c.StackName) {
		bad(CtxStackName, "%q is not a CloudFormation stack name", c.StackName)
	}
	// A central stack may have no flow logs of its own: its members'
	// are its input.
	if !c.HasScope() && c.Mode != ModeCentral {
		errs = append(errs, fmt.Errorf("context: empty flow-log scope: set at least one of %s, %s or %s (e.g. -c %s=vpc-0123456789abcdef0)",
			CtxVPCs, CtxSubnets, CtxENIs, CtxVPCs))
	}
	ids := func(key string, vs []string, re *regexp.Regexp, want string) {
		seen := map[string]bool{}
		for _, v := range vs {
			if !re.MatchString(v) {
				bad(key, "%q is not a %s id (%s)", v, want, re)
			}
			if seen[v] {
				bad(key, "%q is listed twice", v)
			}
			seen[v] = true
		}
	}
	ids(CtxVPCs, c.VPCs, vpcID, "VPC")
	ids(CtxSubnets, c.Subnets, subnetID, "subnet")
	ids(CtxENIs, c.ENIs, eniID, "network interface")
	errs = append(errs, c.validateMode()...)
	if !slices.Contains([]string{"ACCEPT", "REJECT", "ALL"}, c.TrafficType) {
		bad(CtxTrafficType, "%q: want ACCEPT, REJECT or ALL", c.TrafficType)
	}
	if c.AggregationSeconds != 60 && c.AggregationSeconds != 600 {
		bad(CtxAggregationInterval, "%d: want 60 or 600 (seconds)", c.AggregationSeconds)
	}
	if !slices.Contains([]string{DestS3, DestCloudWatch, DestBoth}, c.Destination) {
		bad(CtxDestination, "%q: want s3, cloudwatch or both", c.Destination)
	}
	if fm, err := flowlog.ParseFormat(c.LogFormat); err != nil {
		bad(CtxLogFormat, "%v", err)
	} else {
		for _, f := range fm.Fields() {
			if f.Version() == 6 {
				bad(CtxLogFormat, "${%s} is a transit-gateway field, not a VPC flow-log field", f)
			}
		}
		// A tag field records the value of the key the flow log names:
		// without one, it would be '-' in every record.
		for _, t := range []struct {
			f        flowlog.Field
			key, ctx string
		}{{flowlog.FieldInstanceTag, c.InstanceTagKey, CtxInstanceTagKey}, {flowlog.FieldInterfaceTag, c.InterfaceTagKey, CtxInterfaceTagKey}} {
			if fm.Has(t.f) && t.key == "" {
				bad(CtxLogFormat, "${%s} records the value of a tag key the flow log names: set %s", t.f, t.ctx)
			}
		}
	}
	for _, t := range []struct{ key, ctx string }{{c.InstanceTagKey, CtxInstanceTagKey}, {c.InterfaceTagKey, CtxInterfaceTagKey}} {
		if utf8.RuneCountInString(t.key) > 128 || strings.ContainsAny(t.key, "\x00\n") || strings.TrimSpace(t.key) != t.key {
			bad(t.ctx, "%q: want a tag key of 1 to 128 characters, without surrounding spaces", t.key)
		}
	}
	retention := func(key string, v int) {
		if !slices.Contains(logRetentionDays, v) {
			bad(key, "%d days: CloudWatch Logs accepts %v", v, logRetentionDays)
		}
	}
	retention(CtxFlowLogRetentionDays, c.FlowLogRetentionDays)
	retention(CtxFunctionLogRetentionDays, c.FunctionLogRetentionDays)
	if c.RawExpirationDays < 1 {
		bad(CtxRawExpirationDays, "%d: want at least 1 day", c.RawExpirationDays)
	}
	if c.AccessLogExpirationDays < 1 {
		bad(CtxAccessLogExpirationDays, "%d: want at least 1 day", c.AccessLogExpirationDays)
	}
	minTransition := 30 // S3: STANDARD_IA needs 30 days in STANDARD first
	if c.LakeStorageClass == "INTELLIGENT_TIERING" || c.LakeStorageClass == "GLACIER_IR" {
		minTransition = 0
	}
	if !slices.Contains([]string{"STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR"}, c.LakeStorageClass) {
		bad(CtxLakeStorageClass, "%q: want STANDARD_IA, INTELLIGENT_TIERING or GLACIER_IR (classes Athena reads directly)", c.LakeStorageClass)
	} else if c.LakeTransitionDays < minTransition {
		bad(CtxLakeTransitionDays, "%d: %s needs at least %d days", c.LakeTransitionDays, c.LakeStorageClass, minTransition)
	}
	if c.LakeExpirationDays != 0 && c.LakeExpirationDays <= c.LakeTransitionDays {
		bad(CtxLakeExpirationDays, "%d: must be 0 (never) or after %s (%d)", c.LakeExpirationDays, CtxLakeTransitionDays, c.LakeTransitionDays)
	}
	// Compaction rewrites only hours of its lookback window, whose objects
	// are younger than it: the lake's transition comes after it, so no
	// compaction reads or deletes an object in STANDARD_IA or GLACIER_IR
	// (retrieval and early-deletion fees), and no expiration removes an
	// object a compaction still reads (expiration comes after transition).
	if lb := c.CompactLookbackDays(); c.LakeTransitionDays <= lb {
		bad(CtxLakeTransitionDays, "%d: must be after the compactor's lookback of %d days (%s + 1, at least %d), so that compaction only rewrites objects still in STANDARD",
			c.LakeTransitionDays, lb, CtxRawExpirationDays, minCompactLookbackDays)
	}
	if !dbName.MatchString(c.DatabaseName) {
		bad(CtxDatabaseName, "%q: want lower case letters, digits and _", c.DatabaseName)
	}
	if c.BytesScannedCutoff < 10<<20 {
		bad(CtxBytesScannedCutoff, "%d bytes: Athena's minimum is 10 MB (10485760)", c.BytesScannedCutoff)
	}
	for _, e := range c.AlertEmails {
		if !email.MatchString(e) {
			bad(CtxAlertEmails, "%q is not an email address", e)
		}
	}
	for _, e := range c.OpsEmails {
		if !email.MatchString(e) {
			bad(CtxOpsEmails, "%q is not an email address", e)
		}
	}
	if !c.EmailMinSeverity.Valid() {
		bad(CtxEmailMinSeverity, "%q: want low, medium, high or critical", c.EmailMinSeverity)
	}
	if c.SlackMinSeverity != "" && !c.SlackMinSeverity.Valid() {
		bad(CtxSlackMinSeverity, "%q: want low, medium, high or critical", c.SlackMinSeverity)
	}
	if !scheduleExpr.MatchString(c.DetectSchedule) {
		bad(CtxDetectSchedule, "%q: want rate(...) or cron(...)", c.DetectSchedule)
	}
	if !scheduleExpr.MatchString(c.CompactSchedule) {
		bad(CtxCompactSchedule, "%q: want rate(...) or cron(...)", c.CompactSchedule)
	}
	if need := c.detectMinAge(); c.CompactMinAgeHours != 0 && time.Duration(c.CompactMinAgeHours)*time.Hour < need {
		bad(CtxCompactMinAgeHours, "%d: the scheduled detector may still read hours that ended %s ago (%s, its lag, lookback, retries and timeout); want at least %d, or 0 for that",
			c.CompactMinAgeHours, need-time.Hour+time.Minute, CtxDetectSchedule, int(need/time.Hour))
	}
	if c.CompactTargetMiB < 16 || c.CompactTargetMiB > 1024 {
		bad(CtxCompactTargetMiB, "%d: want 16 to 1024 (MiB)", c.CompactTargetMiB)
	}
	for _, s := range c.DetectInternal {
		// The detector's own check: what it refuses at start-up, the
		// stack refuses at synth.
		p, err := netip.ParsePrefix(s)
		if err == nil {
			err = detect.CheckInternalPrefix(p)
		}
		if err != nil {
			bad(CtxDetectInternal, "%q: %v", s, err)
		}
	}
	if c.RejectedLinesThreshold < 1 || c.RejectedLinesThreshold > 100 {
		bad(CtxRejectedLinesThreshold, "%d: want a percentage from 1 to 100", c.RejectedLinesThreshold)
	}
	if c.DeliveryLagThreshold < 60 {
		bad(CtxDeliveryLagThreshold, "%d: want at least 60 seconds", c.DeliveryLagThreshold)
	}
	return errors.Join(errs...)
}

var (
	accountID  = regexp.MustCompile(`^[0-9]{12}$`)
	regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// HasScope reports whether the configuration enables any flow log.
func (c Config) HasScope() bool { return len(c.VPCs)+len(c.Subnets)+len(c.ENIs) > 0 }

// Member is a member account's stack in an organisation the app
// synthesizes whole (flowlake:members): one CDK Stage per member.
type Member struct {
	Account             string
	Region              string // "": the central stack's region
	VPCs, Subnets, ENIs []string
}

// members reads flowlake:members: a list of objects with "account" and
// optional "region", "vpcIds", "subnetIds" and "eniIds".
func members(v any, bad func(key, format string, args ...any)) []Member {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		bad(CtxMembers, "want a list of objects {\"account\": ..., \"vpcIds\": [...]}, got %T", v)
		return nil
	}
	var out []Member
	for i, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			bad(CtxMembers, "element %d: want an object, got %T", i, e)
			continue
		}
		var m Member
		for k, v := range o {
			switch k {
			case "account", "region":
				s, ok := v.(string)
				if !ok {
					bad(CtxMembers, "element %d: %s: want a string, got %T", i, k, v)
				}
				if k == "account" {
					m.Account = s
				} else {
					m.Region = s
				}
			case "vpcIds", "subnetIds", "eniIds":
				l, ok := v.([]any)
				var ss []string
				for _, x := range l {
					s, isStr := x.(string)
					ok = ok && isStr
					ss = append(ss, s)
				}
				if !ok {
					bad(CtxMembers, "element %d: %s: want a list of strings", i, k)
				}
				switch k {
				case "vpcIds":
					m.VPCs = ss
				case "subnetIds":
					m.Subnets = ss
				default:
					m.ENIs = ss
				}
			default:
				bad(CtxMembers, "element %d: unknown key %q (want account, region, vpcIds, subnetIds, eniIds)", i, k)
			}
		}
		out = append(out, m)
	}
	return out
}

// validateMode checks the organisation keys against the mode.
func (c Config) validateMode() []error {
	var errs []error
	bad := func(key string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("context %s: %s", key, fmt.Sprintf(format, args...)))
	}
	only := func(key string, set bool, modes string) {
		if set {
			bad(key, "applies to %s only (%s is %q)", modes, CtxMode, c.Mode)
		}
	}
	account := func(key, v string) {
		if v != "" && !accountID.MatchString(v) {
			bad(key, "%q is not an AWS account id (12 digits)", v)
		}
	}
	region := func(key, v string) {
		if v != "" && !regionName.MatchString(v) {
			bad(key, "%q is not an AWS region name", v)
		}
	}
	account(CtxCentralAccount, c.CentralAccount)
	region(CtxCentralRegion, c.CentralRegion)
	if c.CentralRawBucket != "" && !bucketName.MatchString(c.CentralRawBucket) {
		bad(CtxCentralRawBucket, "%q is not an S3 bucket name", c.CentralRawBucket)
	}
	switch c.Mode {
	case ModeStandalone:
		only(CtxMemberAccounts, len(c.MemberAccounts) > 0, ModeCentral)
		only(CtxMemberRegions, len(c.MemberRegions) > 0, ModeCentral)
		only(CtxMembers, len(c.Members) > 0, ModeCentral)
		only(CtxCentralAccount, c.CentralAccount != "", ModeCentral+" and "+ModeMember)
		only(CtxCentralRegion, c.CentralRegion != "", ModeCentral+" and "+ModeMember)
		only(CtxCentralRawBucket, c.CentralRawBucket != "", ModeCentral+" and "+ModeMember)
	case ModeCentral:
		accounts := c.Accounts()
		if len(accounts) == 0 {
			bad(CtxMemberAccounts, "a central stack needs its member accounts (or %s)", CtxMembers)
		}
		seen := map[string]bool{}
		for _, a := range c.MemberAccounts {
			account(CtxMemberAccounts, a)
			if seen[a] {
				bad(CtxMemberAccounts, "%q is listed twice", a)
			}
			seen[a] = true
		}
		for _, a := range accounts {
			if a == c.CentralAccount {
				bad(CtxMemberAccounts, "%q is the central account: its own flow logs are the central stack's scope", a)
			}
		}
		for _, r := range c.MemberRegions {
			region(CtxMemberRegions, r)
		}
		if len(c.Members) > 0 && c.CentralAccount == "" {
			bad(CtxCentralAccount, "%s deploys the organisation with one CDK Stage per account: name the central stack's account", CtxMembers)
		}
		mseen := map[string]bool{}
		for i, m := range c.Members {
			if !accountID.MatchString(m.Account) {
				bad(CtxMembers, "element %d: account %q is not an AWS account id (12 digits)", i, m.Account)
			}
			if mseen[m.Account] {
				bad(CtxMembers, "account %q is listed twice", m.Account)
			}
			mseen[m.Account] = true
			region(CtxMembers, m.Region)
			mc := c.MemberConfig(m)
			if err := mc.Validate(); err != nil {
				bad(CtxMembers, "member %s: %v", m.Account, err)
			}
		}
	case ModeMember:
		only(CtxMemberAccounts, len(c.MemberAccounts) > 0, ModeCentral)
		only(CtxMemberRegions, len(c.MemberRegions) > 0, ModeCentral)
		only(CtxMembers, len(c.Members) > 0, ModeCentral)
		if c.CentralAccount == "" && c.CentralRawBucket == "" {
			bad(CtxCentralAccount, "a member delivers into the central raw bucket: set %s (or %s)", CtxCentralAccount, CtxCentralRawBucket)
		}
		// A CloudWatch Logs subscription in another account reaches only
		// a Logs destination, whose target is a Kinesis data stream or a
		// Firehose stream, never a Lambda function: S3 is the one direct
		// cross-account path.
		if c.Destination == DestCloudWatch {
			bad(CtxDestination, "%q: a member's flow logs reach the central lake through S3 (CloudWatch Logs cross-account "+
				"subscriptions deliver only to Kinesis Data Streams or Firehose, not to the ingest function); want s3 or both", c.Destination)
		}
	default:
		bad(CtxMode, "%q: want %s, %s or %s", c.Mode, ModeStandalone, ModeCentral, ModeMember)
	}
	return errs
}

// Accounts returns the member accounts a central stack takes: those of
// MemberAccounts, then those of Members not already listed.
func (c Config) Accounts() []string {
	out := slices.Clone(c.MemberAccounts)
	for _, m := range c.Members {
		if !slices.Contains(out, m.Account) {
			out = append(out, m.Account)
		}
	}
	return out
}

// Regions returns the regions a central stack's members deliver from,
// besides its own: MemberRegions, then those of Members.
func (c Config) Regions() []string {
	out := slices.Clone(c.MemberRegions)
	for _, m := range c.Members {
		if m.Region != "" && m.Region != c.CentralRegion && !slices.Contains(out, m.Region) {
			out = append(out, m.Region)
		}
	}
	return out
}

// MemberConfig returns the configuration of member m's stack in the
// organisation c (central) deploys: c's flow-log settings, m's scope, and
// the central stack's account and bucket.
func (c Config) MemberConfig(m Member) Config {
	mc := c
	mc.Mode = ModeMember
	mc.VPCs, mc.Subnets, mc.ENIs = m.VPCs, m.Subnets, m.ENIs
	mc.MemberAccounts, mc.MemberRegions, mc.Members = nil, nil, nil
	if mc.Destination == DestCloudWatch {
		mc.Destination = DestS3
	}
	return mc
}

// CentralRawBucketName is the name of a central stack's raw bucket, in
// account and region: fixed, so that its members, in other accounts,
// name it without a cross-account reference.
func CentralRawBucketName(account, region string) string {
	return "flowlake-raw-" + account + "-" + region
}

// minCompactLookbackDays is the least lookback of the compactor: the
// ingest DLQ keeps a message 14 days, and a redrive can bring it back.
const minCompactLookbackDays = 15

// CompactLookbackDays is how far back each compaction run looks for
// objects ingest wrote since the last (late deliveries, and redeliveries,
// whose rows it replaces): past the raw bucket's expiration, after which
// no flow-log file can be replayed, and past the DLQ's 14 days.
func (c Config) CompactLookbackDays() int { return max(c.RawExpirationDays+1, minCompactLookbackDays) }

// CompactMinAge is the age at which an hour is compacted: the context's,
// or the least that keeps the compactor off every hour the scheduled
// detector may still read (detectMinAge), at least 3 hours.
func (c Config) CompactMinAge() time.Duration {
	if c.CompactMinAgeHours > 0 {
		return time.Duration(c.CompactMinAgeHours) * time.Hour
	}
	return max(3*time.Hour, c.detectMinAge())
}

// The scheduled detector's timing, as the stack sets it: each run reads
// the DetectLookback hours before its event's time less DetectLag,
// truncated to the hour; an event may wait an hour in EventBridge and an
// hour in Lambda's queue (the target's and the function's MaxEventAge)
// and then run for the function's timeout.
const (
	DetectLookback    = time.Hour
	DetectLag         = 15 * time.Minute
	ScheduleMaxDelay  = time.Hour // EventBridge target's and Lambda's MaxEventAge, each
	detectTimeoutTime = detectTimeout * time.Minute
)

// hourlyCron matches cron(M * * * ? *): every hour at minute M.
var hourlyCron = regexp.MustCompile(`^cron\(([0-9]{1,2}) \* \* \* \? \*\)$`)

// detectReach is how long before any moment the hours the scheduled
// detector may be reading at that moment can start: a run reads from
// trunc(e - DetectLag) - DetectLookback, e its event's time, and may run
// until e + 2×ScheduleMaxDelay + its timeout. For cron(M * * * ? *) the
// truncation is known; for any other schedule it may cost a whole hour.
func (c Config) detectReach() time.Duration {
	back := DetectLookback + DetectLag + time.Hour
	if m := hourlyCron.FindStringSubmatch(c.DetectSchedule); m != nil {
		minute, _ := strconv.Atoi(m[1])
		back = DetectLookback + time.Duration(minute)*time.Minute
		if time.Duration(minute)*time.Minute < DetectLag {
			back += time.Hour
		}
	}
	return back + 2*ScheduleMaxDelay + detectTimeoutTime
}

// detectMinAge is the least whole number of hours of CompactMinAge that
// keeps the compactor off the detector's hours: a compacted hour ends at
// least MinAge before the compactor's moment, so it starts at least
// MinAge + 1h before it, which must be more than detectReach.
func (c Config) detectMinAge() time.Duration {
	return (c.detectReach()-time.Hour)/time.Hour*time.Hour + time.Hour
}

// Severities returns the severities at or above lowest, for the email
// filter policy.
func Severities(lowest finding.Severity) []string {
	var out []string
	for _, s := range []finding.Severity{finding.Low, finding.Medium, finding.High, finding.Critical} {
		if s.Rank() >= lowest.Rank() {
			out = append(out, string(s))
		}
	}
	return out
}
