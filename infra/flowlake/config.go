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

// Context keys, all under the "flowlake:" prefix in cdk.json's context.
const (
	CtxStackName                = "flowlake:stackName"
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
	if len(c.VPCs)+len(c.Subnets)+len(c.ENIs) == 0 {
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
