package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	goawsapp "github.com/Admiral-Piett/goaws/app"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/integration/standin"
	detectathena "github.com/flowlake/flowlake/shared/detect/athena"
	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/enrichtest"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lakesql"
	"github.com/flowlake/flowlake/shared/pipeline"
	"github.com/flowlake/flowlake/shared/schedule"
)

// orgCentral is the central account of the organisation test.
const orgCentral = "999999999999"

// orgMember is one member account of the organisation test: its estate
// (flowgen, its own seed and account) and the attack on it.
type orgMember struct {
	scenario string
	seed     uint64
	sc       *flowgen.ScenarioGenerator
	account  string
}

// TestOrganisation runs the organisation as `cdk synth` makes it from
// cdk.json with flowlake:mode central and flowlake:members (one CDK Stage
// per account), with two member accounts delivering into the central
// lake:
//
//	member A's and member B's flow logs (the format and destination their
//	  templates give their flow logs) ─▶ the central raw bucket, under
//	  AWSLogs/<member>/ ─▶ SQS-shaped notifications ─▶ ingest-s3
//	  ─▶ the central lake ─▶ detect (the Athena stand-in) ─▶ SNS
//
// Each member's rows land in its own aws_account partitions, each finding
// names the member whose interface it is about, and an SNS subscription
// with the README's filter policy on account_id gets only that member's.
func TestOrganisation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	t0 := time.Now()
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	members := []*orgMember{{scenario: "ssh-brute-force", seed: 21}, {scenario: "port-scan", seed: 22}}
	var stages []any
	for _, m := range members {
		sc, err := flowgen.NewScenario(flowgen.Config{Seed: m.seed, Records: 3000, Start: day, Span: 24 * time.Hour, Accounts: 1, ENIs: 6}, m.scenario)
		if err != nil {
			t.Fatal(err)
		}
		m.sc, m.account = sc, sc.Estate().ENIs[0].AccountID
		stages = append(stages, map[string]any{"account": m.account, "vpcIds": []any{sc.Estate().ENIs[0].VPCID}})
	}
	if members[0].account == members[1].account || members[0].account == orgCentral {
		t.Fatalf("the estates share an account: %s", members[0].account)
	}
	cdkContext := stack.CDKContext(t)
	cdkContext["flowlake:mode"] = "central"
	cdkContext["flowlake:centralAccount"] = orgCentral
	cdkContext["flowlake:centralRegion"] = stack.Region
	cdkContext["flowlake:members"] = stages
	cdkContext["flowlake:detectInternalCidrs"] = []string{flowgen.EstateIPv6Prefix.String()}
	tpls := stack.SynthStages(t, cdkContext)
	central := tpls["Central/"+stackName]
	if central == nil || len(tpls) != 3 {
		t.Fatalf("synth: stacks %v; want Central/%s and one per member", slices.Collect(maps.Keys(tpls)), stackName)
	}
	if central.Environment != "aws://"+orgCentral+"/"+stack.Region {
		t.Errorf("central stack's environment %s", central.Environment)
	}
	var rawName string
	for _, id := range central.OfType("AWS::S3::Bucket") {
		if n, ok := central.Resources[id].Properties["BucketName"].(string); ok && strings.HasPrefix(id, "StorageRaw") {
			rawName = n
		}
	}
	if rawName == "" {
		t.Fatal("the central raw bucket has no fixed name")
	}
	t.Logf("synth: %d stacks in %s", len(tpls), time.Since(t0).Round(time.Millisecond))

	// Each member's stack: in its account, flow logs into the central raw
	// bucket, no function; the format its flow logs write.
	formats := map[string]*flowlog.Format{}
	for _, m := range members {
		tp := tpls["Member-"+m.account+"/"+stackName]
		if tp == nil {
			t.Fatalf("no stack for member %s", m.account)
		}
		if tp.Environment != "aws://"+m.account+"/"+stack.Region {
			t.Errorf("member %s's stack is in %s", m.account, tp.Environment)
		}
		if n := len(tp.OfType("AWS::Lambda::Function")) + len(tp.OfType("AWS::S3::Bucket")) + len(tp.OfType("AWS::SNS::Topic")); n != 0 {
			t.Errorf("member %s's stack has %d functions, buckets or topics; want none", m.account, n)
		}
		for _, id := range tp.OfType("AWS::EC2::FlowLog") {
			p := tp.Resources[id].Properties
			if p["LogDestinationType"] != "s3" {
				continue
			}
			dest, err := tp.Resolve(p["LogDestination"], stack.Locals{"AWS::Partition": "aws"})
			if err != nil || dest != "arn:aws:s3:::"+rawName {
				t.Fatalf("member %s's flow log delivers to %s (%v); want the central raw bucket %s", m.account, dest, err, rawName)
			}
			fm, err := flowlog.ParseFormat(p["LogFormat"].(string))
			if err != nil {
				t.Fatal(err)
			}
			formats[m.account] = fm
		}
		if formats[m.account] == nil {
			t.Fatalf("member %s's stack has no flow log to S3", m.account)
		}
	}
	// What the central bucket's policy lets each member's delivery write
	// (the cross-account grant; infra's TestOrganisation evaluates it).
	prefixes := map[string]string{}
	for _, id := range central.OfType("AWS::S3::BucketPolicy") {
		doc, _ := json.Marshal(central.Resources[id].Properties["PolicyDocument"])
		var pd struct {
			Statement []struct {
				Sid      string
				Resource any
			}
		}
		json.Unmarshal(doc, &pd)
		for _, st := range pd.Statement {
			if a, ok := strings.CutPrefix(st.Sid, "AWSLogDeliveryWrite"); ok && a != "" {
				res, err := central.Resolve(st.Resource, stack.Locals{"StorageRaw": "arn:aws:s3:::" + rawName})
				if err != nil {
					t.Fatal(err)
				}
				prefixes[a] = strings.TrimSuffix(strings.TrimPrefix(res, "arn:aws:s3:::"+rawName+"/"), "*")
			}
		}
	}

	// The central stack's servers.
	lb := startLoopback(ctx, t, rawName, "flowlake-org-findings")
	all := lb.sub
	loc := stack.Locals{
		"AWS::AccountId": orgCentral, "AWS::Region": stack.Region, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
		"StorageLake": lakeBucket, "StorageRaw": rawName, "FindingsTopic": lb.topicARN, "Dedup": dedupTable,
	}
	fns := central.Functions(t)
	_, detectEnv := central.Env(t, fns["detect"], loc)
	athenaSrv := standin.StartAthena(t, lb.lakeDir, detectEnv[schedule.EnvWorkgroup], detectEnv[schedule.EnvDatabase], 100)
	// The central account's EC2 knows none of the members' interfaces: it
	// cannot describe another account's.
	ec2 := enrichtest.NewEC2Server()
	t.Cleanup(ec2.Close)
	rangesURL, caFile := stack.ServeIPRanges(t, &enrich.IPRanges{SyncToken: "1", CreateDate: "2026-11-01-00-00-00"}, `"org-1"`)
	start := func(name string) *stack.Function {
		env, _ := central.Env(t, fns[name], loc)
		return lb.start(t, fns[name], env, pipeline.EnvIPRanges+"="+rangesURL, "SSL_CERT_FILE="+caFile,
			"AWS_ENDPOINT_URL_ATHENA="+athenaSrv.URL, "AWS_ENDPOINT_URL_EC2="+ec2.URL)
	}
	ingestS3, detectFn := start("ingest-s3"), start("detect")

	// Each member's day, delivered as VPC Flow Logs delivers to S3: one
	// gzip file with its header per hour, under AWSLogs/<member>/.
	var objs []rawObject
	want := map[string]int64{}
	for _, m := range members {
		fm := formats[m.account]
		texts := map[string]*bytes.Buffer{}
		var line []byte
		for {
			rec, ok := m.sc.Next()
			if !ok {
				break
			}
			line = rec.AppendText(line[:0], fm)
			want[rec.AccountID]++
			key := deliveryKey(rec, stack.Region, "fl-0a11b22c33d44e55f")
			if !strings.HasPrefix(key, prefixes[rec.AccountID]) || prefixes[rec.AccountID] == "" {
				t.Fatalf("the central bucket's policy lets %s's delivery write %q only; its flow logs write %s", rec.AccountID, prefixes[rec.AccountID], key)
			}
			b := texts[key]
			if b == nil {
				b = bytes.NewBufferString(fm.Header() + "\n")
				texts[key] = b
			}
			b.Write(append(line, '\n'))
		}
		for k, b := range texts {
			z := gzipped(b.Bytes())
			objs = append(objs, rawObject{key: k, etag: lb.s3.Put(t, rawName, k, bytes.NewReader(z)), size: len(z)})
		}
	}
	slices.SortFunc(objs, func(a, b rawObject) int { return strings.Compare(a.key, b.key) })
	// Every notification twice: SQS redelivers.
	batches := sqsBatches(orgCentral, rawName, objs)
	for round := 1; round <= 2; round++ {
		for _, b := range batches {
			body := ingestS3.Invoke(t, b)
			if et := stack.ErrorType(body); et != "" || strings.Contains(string(body), `"itemIdentifier"`) {
				t.Fatalf("ingest-s3: %s", body)
			}
		}
	}
	db, err := lakesql.Open(ctx, lb.lakeDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	rs, err := db.QueryContext(ctx, "SELECT aws_account, count(*) FROM flows GROUP BY aws_account")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var a string
		var n int64
		rs.Scan(&a, &n)
		got[a] = n
	}
	rs.Close()
	db.Close()
	if !maps.Equal(got, want) {
		t.Fatalf("the central lake's rows by aws_account: %v; want %v (each member's records once)", got, want)
	}
	t.Logf("ingest ×2: %d objects from %d members, rows %v, in %s", len(objs), len(members), got, time.Since(t0).Round(time.Millisecond))

	// The schedule over the day, as the central account's rule fires it.
	findings := map[string]finding.Finding{}
	for h := 1; h <= 24; h++ {
		body := detectFn.Invoke(t, scheduledEvent(orgCentral, day.Add(time.Duration(h)*time.Hour+20*time.Minute)))
		var res schedule.Result
		if et := stack.ErrorType(body); et != "" || json.Unmarshal(body, &res) != nil {
			t.Fatalf("detect: %s", body)
		}
		for _, f := range res.Findings {
			findings[f.ID] = f
		}
	}
	// Findings come from the batch engine at ingest too; every finding
	// either engine raised reached the topic once.
	wantRules := map[string][]string{}
	for _, m := range members {
		for _, sc := range flowgen.Scenarios {
			if sc.Name == m.scenario {
				wantRules[m.account] = slices.Sorted(slices.Values(sc.Expect))
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(all.all()) < len(findings) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	rulesBy := map[string][]string{}
	perAccount := map[string]int{}
	for _, n := range all.all() {
		var perProtocol map[string]string
		if err := json.Unmarshal([]byte(n.Message), &perProtocol); err != nil {
			t.Fatalf("notification %s: %v", n.MessageId, err)
		}
		f, err := finding.Unmarshal([]byte(perProtocol["default"]))
		if err != nil {
			t.Fatal(err)
		}
		if a := n.MessageAttributes["account_id"]; a.Value != f.AccountID || a.Type != "String" {
			t.Errorf("finding %s (%s) of %s: message attribute account_id = %+v", f.ID, f.Rule, f.AccountID, a)
		}
		rulesBy[f.AccountID] = append(rulesBy[f.AccountID], f.Rule)
		perAccount[f.AccountID]++
	}
	for a := range rulesBy {
		slices.Sort(rulesBy[a])
	}
	if !maps.EqualFunc(rulesBy, wantRules, slices.Equal) {
		t.Errorf("findings by account: %v; want %v (each member's attack, under that member's account)", rulesBy, wantRules)
	}
	for _, f := range findings {
		if _, ok := wantRules[f.AccountID]; !ok {
			t.Errorf("finding %s (%s) names account %q; want a member's", f.ID, f.Rule, f.AccountID)
		}
	}
	// The filter policy the README shows routes one account's findings:
	// goaws's filter-policy matcher (SNS's exact-match semantics; goaws
	// applies it to SQS subscriptions only, not HTTP ones) over each
	// delivery's message attributes.
	var policy goawsapp.FilterPolicy
	if err := json.Unmarshal([]byte(strings.ReplaceAll(readmeFilterPolicy(t), "111122223333", members[0].account)), &policy); err != nil {
		t.Fatalf("the README's filter policy: %v", err)
	}
	routed := 0
	for _, n := range all.all() {
		attrs := map[string]goawsapp.MessageAttributeValue{}
		for k, v := range n.MessageAttributes {
			attrs[k] = goawsapp.MessageAttributeValue{Name: k, DataType: v.Type, Value: v.Value}
		}
		if policy.IsSatisfiedBy(attrs) {
			routed++
			if a := n.MessageAttributes["account_id"].Value; a != members[0].account {
				t.Errorf("the filter policy on account_id %s lets through a finding of %s", members[0].account, a)
			}
		}
	}
	if routed != perAccount[members[0].account] || routed == 0 {
		t.Errorf("the filter policy on account_id %s routes %d findings; want %d", members[0].account, routed, perAccount[members[0].account])
	}

	// The README's per-account query, through Athena.
	q := &detectathena.Querier{Client: athena.New(athena.Options{Region: stack.Region, BaseEndpoint: aws.String(athenaSrv.URL), Credentials: lb.creds}),
		Workgroup: detectEnv[schedule.EnvWorkgroup], Database: detectEnv[schedule.EnvDatabase], Poll: 10 * time.Millisecond}
	sql := readmeAccountQuery(t)
	rows, err := q.Query(ctx, sql)
	if err != nil || len(rows) != len(members) {
		t.Errorf("README query %q: %v, %v; want one row per member", sql, rows, err)
	}
	t.Logf("organisation: %d members, %d objects, %d findings %v, in %s", len(members), len(objs), len(findings), rulesBy, time.Since(t0).Round(time.Millisecond))
}

// readmeFilterPolicy returns the SNS filter policy of the README's
// per-account routing example (set-subscription-attributes).
func readmeFilterPolicy(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`--attribute-name FilterPolicy --attribute-value '([^']+)'`).FindStringSubmatch(readme(t))
	if m == nil || !strings.Contains(m[1], "111122223333") {
		t.Fatal("the README shows no FilterPolicy example on account 111122223333")
	}
	return m[1]
}

// readmeAccountQuery returns the README's query by aws_account.
func readmeAccountQuery(t *testing.T) string {
	t.Helper()
	for _, m := range readmeQuery.FindAllStringSubmatch(readme(t), -1) {
		if strings.Contains(m[1], "GROUP BY aws_account") {
			return m[1]
		}
	}
	t.Fatal("the README shows no flowlake query example by aws_account")
	return ""
}

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stack.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
