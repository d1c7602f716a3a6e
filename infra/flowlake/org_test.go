package flowlake_test

import (
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/infra/flowlake"
	"github.com/flowlake/flowlake/shared/detect"
)

// The organisation the tests deploy: a central account and two members.
const (
	centralAccount = "999999999999"
	memberA        = "111111111111"
	memberB        = "222222222222"
	orgRegion      = "eu-west-1"
)

var orgContext = map[string]any{
	flowlake.CtxStackName:      "Flowlake",
	flowlake.CtxMode:           "central",
	flowlake.CtxCentralAccount: centralAccount,
	flowlake.CtxVPCs:           []any{"vpc-0123456789abcdef0"},
	flowlake.CtxDestination:    "both",
	flowlake.CtxMembers: []any{
		map[string]any{"account": memberA, "vpcIds": []any{"vpc-0aaaaaaaaaaaaaaa1"}},
		map[string]any{"account": memberB, "subnetIds": []any{"subnet-0bbbbbbbbbbbbbbb2"}, "eniIds": []any{"eni-0bbbbbbbbbbbbbbb3"}},
	},
}

// deploy synthesizes NewDeployment of kv in a fresh app, as infra/main.go
// does, in orgRegion.
func deploy(t *testing.T, kv map[string]any) *flowlake.Deployment {
	t.Helper()
	cfg, err := flowlake.ConfigFromContext(func(k string) any { return kv[k] })
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir:  jsii.String(filepath.Join(t.TempDir(), "cdk.out")),
		Context: &map[string]any{"@aws-cdk/core:validateAgainstDefaultRules": true},
	})
	d, err := flowlake.NewDeployment(app, flowlake.DeploymentProps{Config: cfg, Code: code,
		Env: &awscdk.Environment{Account: jsii.String(centralAccount), Region: jsii.String(orgRegion)}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// request is one request a policy decides: by a service principal (on
// behalf of SourceAccount) or an account's principal.
type request struct {
	service, account string
	action, resource string
	context          map[string]string // condition keys: aws:SourceAccount, aws:SourceArn, s3:x-amz-acl, aws:SecureTransport, s3:TlsVersion
}

// decide evaluates sts as a bucket policy does: allowed when some Allow
// statement matches and no Deny does. It knows the condition operators
// the stack's policies use.
func decide(t *testing.T, sts []statement, r request, subst *strings.Replacer) bool {
	t.Helper()
	allow := false
	for _, st := range sts {
		if !principalMatches(st.Principal, r) || !slices.ContainsFunc(st.Action, func(a string) bool { return covers(a, r.action) }) {
			continue
		}
		if !slices.ContainsFunc(st.Resource, func(res string) bool { return glob(subst.Replace(res), r.resource) }) {
			continue
		}
		ok := true
		for op, kv := range st.Condition {
			for key, want := range kv {
				var vals []string
				for _, v := range list(want) {
					vals = append(vals, subst.Replace(render(v)))
				}
				got, present := r.context[key]
				switch op {
				case "StringEquals", "Bool":
					ok = ok && present && slices.Contains(vals, got)
				case "NumericLessThan":
					g, _ := strconv.ParseFloat(got, 64)
					w, _ := strconv.ParseFloat(vals[0], 64)
					ok = ok && present && g < w
				case "ArnLike", "StringLike":
					ok = ok && present && slices.ContainsFunc(vals, func(p string) bool { return glob(p, got) })
				default:
					t.Fatalf("statement %v: condition operator %s unknown to the test", st, op)
				}
			}
		}
		if !ok {
			continue
		}
		if st.Effect == "Deny" {
			return false
		}
		allow = true
	}
	return allow
}

func principalMatches(p any, r request) bool {
	if p == "*" {
		return true
	}
	m, _ := p.(map[string]any)
	for _, s := range list(m["Service"]) {
		if r.service != "" && render(s) == r.service {
			return true
		}
	}
	for _, a := range list(m["AWS"]) {
		if s := render(a); s == "*" || (r.account != "" && strings.Contains(s, r.account)) {
			return true
		}
	}
	return false
}

// glob matches s against an IAM pattern (* and ?).
func glob(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(s)
}

// bucketPolicy returns the statements of the policy of the bucket whose
// logical ID starts with prefix.
func bucketPolicy(t *testing.T, tp *template, prefix string) []statement {
	t.Helper()
	for _, p := range tp.resources("AWS::S3::BucketPolicy") {
		if strings.HasPrefix(render(p["Bucket"]), "${"+prefix) {
			return statements(t, p["PolicyDocument"])
		}
	}
	t.Fatalf("no policy for a bucket %s*", prefix)
	return nil
}

// TestOrganisation: flowlake:members synthesizes one CDK Stage per
// account, the central stack in the central account and a member stack in
// each member's; the central raw bucket's policy lets log delivery write
// each member's flow logs under that member's AWSLogs/<account>/ only,
// on AWS's documented conditions, and lets no member read anything; the
// catalog and the detector know every account; each member stack has
// flow logs into the central bucket and nothing else; cdk-nag is clean in
// both modes.
func TestOrganisation(t *testing.T) {
	d := deploy(t, orgContext)
	if d.Central == nil || len(d.Members) != 2 {
		t.Fatalf("deployment = %+v; want a central stack and 2 members", d)
	}
	if got := *d.Central.Account(); got != centralAccount {
		t.Errorf("central stack in account %s; want %s", got, centralAccount)
	}
	if got := *awscdk.Stage_Of(d.Central.Stack).StageName(); got != "Central" {
		t.Errorf("central stack in stage %s; want Central", got)
	}
	central := templateOf(d.Central.Stack)
	checkNag(t, d.Central.Stack, central)
	bucket := flowlake.CentralRawBucketName(centralAccount, orgRegion)
	var rawID string
	for id, p := range central.resources("AWS::S3::Bucket") {
		if p["BucketName"] == bucket {
			rawID = id
		}
	}
	if !logicalID("StorageRaw").MatchString(rawID) {
		t.Fatalf("no raw bucket named %s (got %q)", bucket, rawID)
	}
	subst := strings.NewReplacer("${AWS::Partition}", "aws", "${"+rawID+".Arn}", "arn:aws:s3:::"+bucket)
	raw := bucketPolicy(t, central, "StorageRaw")

	// Delivery, as AWS's log delivery makes it for a member's flow log.
	put := func(account, keyAccount, acl string) request {
		return request{service: "delivery.logs.amazonaws.com", action: "s3:PutObject",
			resource: "arn:aws:s3:::" + bucket + "/AWSLogs/" + keyAccount + "/vpcflowlogs/" + orgRegion + "/2026/12/02/" + keyAccount + "_vpcflowlogs_x.log.gz",
			context: map[string]string{"aws:SourceAccount": account, "aws:SourceArn": "arn:aws:logs:" + orgRegion + ":" + account + ":log-group:x",
				"s3:x-amz-acl": acl, "aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}}
	}
	check := func(r request, want bool, what string) {
		t.Helper()
		if got := decide(t, raw, r, subst); got != want {
			t.Errorf("raw bucket policy: %s: allowed=%v; want %v", what, got, want)
		}
	}
	for _, m := range []string{memberA, memberB} {
		check(put(m, m, "bucket-owner-full-control"), true, "delivery for "+m+" under its own prefix")
		r := put(m, m, "bucket-owner-full-control")
		r.context["aws:SourceArn"] = "arn:aws:logs:" + orgRegion + ":333333333333:log-group:x"
		check(r, false, "delivery for "+m+" with another account's source ARN")
		check(put(m, m, "private"), false, "delivery for "+m+" without bucket-owner-full-control")
		r = put(m, m, "bucket-owner-full-control")
		r.context["aws:SecureTransport"] = "false"
		check(r, false, "delivery for "+m+" without TLS")
		r = put(m, m, "bucket-owner-full-control")
		r.context["s3:TlsVersion"] = "1.1"
		check(r, false, "delivery for "+m+" over TLS 1.1")
		for _, a := range []string{"s3:GetBucketAcl", "s3:ListBucket"} {
			check(request{service: "delivery.logs.amazonaws.com", action: a, resource: "arn:aws:s3:::" + bucket,
				context: map[string]string{"aws:SourceAccount": m, "aws:SourceArn": "arn:aws:logs:" + orgRegion + ":" + m + ":*", "aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}},
				true, "delivery's "+a+" check for "+m)
		}
	}
	check(put(memberA, memberB, "bucket-owner-full-control"), false, "delivery for one member under another's prefix")
	check(put("333333333333", "333333333333", "bucket-owner-full-control"), false, "delivery for an account not a member")
	check(put(centralAccount, centralAccount, "bucket-owner-full-control"), true, "delivery for the central account's own flow logs")

	// No member principal reads (or does anything to) any bucket; only
	// the delivery statements name the members.
	for id := range central.resources("AWS::S3::Bucket") {
		sts := bucketPolicy(t, central, strings.TrimSuffix(id, id[len(id)-8:]))
		for _, m := range []string{memberA, memberB} {
			for _, a := range []string{"s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:DeleteObject"} {
				res := "arn:aws:s3:::b/flows/x.parquet"
				if decide(t, sts, request{account: m, action: a, resource: res, context: map[string]string{"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}},
					strings.NewReplacer("${AWS::Partition}", "aws")) {
					t.Errorf("bucket %s: account %s's principals may %s", id, m, a)
				}
			}
		}
		for _, st := range sts {
			if !strings.Contains(js(st), memberA) && !strings.Contains(js(st), memberB) {
				continue
			}
			if id != rawID || js(st.Principal) != `{"Service":"delivery.logs.amazonaws.com"}` || st.Effect != "Allow" {
				t.Errorf("bucket %s: statement %v names a member", id, st)
			}
		}
	}
	// The stack's keys (the topics') name no member.
	for id, k := range central.resources("AWS::KMS::Key") {
		if s := js(k); strings.Contains(s, memberA) || strings.Contains(s, memberB) {
			t.Errorf("key %s names a member: %s", id, s)
		}
	}

	// The catalog projects every account; the detector queries them all.
	for _, tb := range central.resources("AWS::Glue::Table") {
		in := tb["TableInput"].(map[string]any)
		params, _ := in["Parameters"].(map[string]any)
		if v, ok := params["projection.aws_account.values"]; ok {
			if got := render(v); got != centralAccount+","+memberA+","+memberB {
				t.Errorf("%s: projection.aws_account.values = %s; want the central account and both members", in["Name"], got)
			}
		}
	}
	var detectEnv map[string]any
	for _, fn := range central.resources("AWS::Lambda::Function") {
		env, _ := fn["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if vars["FLOWLAKE_FUNCTION"] == flowlake.FnDetect {
			detectEnv = vars
		}
	}
	if got := render(detectEnv[detect.EnvAccounts]); got != centralAccount+","+memberA+","+memberB {
		t.Errorf("detect's %s = %s; want every account", detect.EnvAccounts, got)
	}
	// Members' files reach ingest-s3: the raw bucket notifies its queue.
	count(t, central, "Custom::S3BucketNotifications", 1)

	// Each member: its stage, its account, flow logs into the central
	// bucket, and nothing that holds or writes data.
	scopes := map[string]int{memberA: 1, memberB: 2}
	for _, m := range d.Members {
		acct := *m.Account()
		tp := templateOf(m.Stack)
		checkNag(t, m.Stack, tp)
		if got := *awscdk.Stage_Of(m.Stack).StageName(); got != "Member-"+acct {
			t.Errorf("member %s in stage %s", acct, got)
		}
		for _, typ := range []string{"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::Lambda::Function", "AWS::SNS::Topic", "AWS::Glue::Table",
			"AWS::Glue::Database", "AWS::SQS::Queue", "AWS::DynamoDB::Table", "AWS::Logs::SubscriptionFilter", "AWS::KMS::Key"} {
			count(t, tp, typ, 0)
		}
		logs := tp.resources("AWS::EC2::FlowLog")
		var s3n int
		for id, fl := range logs {
			if fl["LogDestinationType"] != "s3" {
				continue
			}
			s3n++
			if got := render(fl["LogDestination"]); got != "arn:${AWS::Partition}:s3:::"+bucket {
				t.Errorf("member %s: flow log %s delivers to %s; want the central raw bucket %s", acct, id, got, bucket)
			}
		}
		if s3n != scopes[acct] {
			t.Errorf("member %s: %d flow logs to S3; want %d", acct, s3n, scopes[acct])
		}
		// Destination both: a copy in its own log group, for Logs
		// Insights, with no subscription (count above).
		count(t, tp, "AWS::Logs::LogGroup", 1)
	}
}

// TestMemberAlone: a member deployed on its own (-c flowlake:mode=member,
// in each account or by a StackSet) delivers to the bucket its central
// account and region name, and has no lake; a central stack without a
// scope of its own takes its members' flow logs only.
func TestMemberAlone(t *testing.T) {
	d := deploy(t, map[string]any{flowlake.CtxMode: "member", flowlake.CtxCentralAccount: "444444444444",
		flowlake.CtxCentralRegion: "us-east-1", flowlake.CtxENIs: "eni-0123456789abcdef0"})
	if d.Central != nil || len(d.Members) != 1 {
		t.Fatalf("deployment = %+v; want one member stack", d)
	}
	tp := templateOf(d.Members[0].Stack)
	checkNag(t, d.Members[0].Stack, tp)
	count(t, tp, "AWS::EC2::FlowLog", 1)
	count(t, tp, "AWS::Logs::LogGroup", 0)
	count(t, tp, "AWS::Lambda::Function", 0)
	count(t, tp, "AWS::S3::Bucket", 0)
	for _, fl := range tp.resources("AWS::EC2::FlowLog") {
		if got := render(fl["LogDestination"]); got != "arn:${AWS::Partition}:s3:::flowlake-raw-444444444444-us-east-1" {
			t.Errorf("flow log delivers to %s", got)
		}
	}

	d = deploy(t, map[string]any{flowlake.CtxMode: "central", flowlake.CtxMemberAccounts: "111111111111,222222222222",
		flowlake.CtxMemberRegions: "us-east-1", flowlake.CtxDestination: "cloudwatch"})
	tp = templateOf(d.Central.Stack)
	checkNag(t, d.Central.Stack, tp)
	count(t, tp, "AWS::EC2::FlowLog", 0)
	count(t, tp, "Custom::S3BucketNotifications", 1)
	for _, fn := range tp.resources("AWS::Lambda::Function") {
		env, _ := fn["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if vars["FLOWLAKE_FUNCTION"] == flowlake.FnIngestCWLogs {
			t.Errorf("a central stack without flow logs of its own deploys %s", flowlake.FnIngestCWLogs)
		}
	}
	for _, tb := range tp.resources("AWS::Glue::Table") {
		params, _ := tb["TableInput"].(map[string]any)["Parameters"].(map[string]any)
		if v, ok := params["projection.aws_region.values"]; ok && render(v) != orgRegion+",us-east-1" {
			t.Errorf("projection.aws_region.values = %s; want %s,us-east-1", render(v), orgRegion)
		}
	}
}

// TestModeConfig: each mode refuses what does not apply to it, and names
// the key.
func TestModeConfig(t *testing.T) {
	scope := map[string]any{flowlake.CtxVPCs: "vpc-0123456789abcdef0"}
	for _, tt := range []struct {
		name string
		kv   map[string]any
		want []string
	}{
		{"unknown mode", map[string]any{flowlake.CtxMode: "hub"}, []string{flowlake.CtxMode, "standalone, central or member"}},
		{"members in standalone", map[string]any{flowlake.CtxMemberAccounts: "111111111111"}, []string{flowlake.CtxMemberAccounts, "central only"}},
		{"central without members", map[string]any{flowlake.CtxMode: "central"}, []string{flowlake.CtxMemberAccounts, "member accounts"}},
		{"bad member account", map[string]any{flowlake.CtxMode: "central", flowlake.CtxMemberAccounts: "1234"}, []string{flowlake.CtxMemberAccounts, `"1234"`}},
		{"member twice", map[string]any{flowlake.CtxMode: "central", flowlake.CtxMemberAccounts: "111111111111,111111111111"}, []string{"listed twice"}},
		{"central is a member", map[string]any{flowlake.CtxMode: "central", flowlake.CtxCentralAccount: "111111111111", flowlake.CtxMemberAccounts: "111111111111"}, []string{"is the central account"}},
		{"stages without central account", map[string]any{flowlake.CtxMode: "central", flowlake.CtxMembers: []any{map[string]any{"account": "111111111111", "vpcIds": []any{"vpc-0123456789abcdef1"}}}}, []string{flowlake.CtxCentralAccount, "Stage"}},
		{"member without scope", map[string]any{flowlake.CtxMode: "central", flowlake.CtxCentralAccount: "999999999999", flowlake.CtxMembers: []any{map[string]any{"account": "111111111111"}}}, []string{"member 111111111111", "empty flow-log scope"}},
		{"member key unknown", map[string]any{flowlake.CtxMode: "central", flowlake.CtxMembers: []any{map[string]any{"acount": "111111111111"}}}, []string{flowlake.CtxMembers, `unknown key "acount"`}},
		{"member without central", map[string]any{flowlake.CtxMode: "member"}, []string{flowlake.CtxCentralAccount}},
		{"member to cloudwatch", map[string]any{flowlake.CtxMode: "member", flowlake.CtxCentralAccount: "999999999999", flowlake.CtxDestination: "cloudwatch"}, []string{flowlake.CtxDestination, "Kinesis"}},
		{"bad central bucket", map[string]any{flowlake.CtxMode: "member", flowlake.CtxCentralRawBucket: "Not_A_Bucket"}, []string{flowlake.CtxCentralRawBucket}},
	} {
		kv := map[string]any{}
		for k, v := range scope {
			kv[k] = v
		}
		for k, v := range tt.kv {
			kv[k] = v
		}
		_, err := flowlake.ConfigFromContext(func(k string) any { return kv[k] })
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tt.name, err, w)
			}
		}
	}
}
