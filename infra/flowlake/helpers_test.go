package flowlake_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/infra/flowlake"
)

// template is a synthesized stack's template, for the CDK's assertions
// and as parsed JSON.
type template struct {
	assertions.Template
	doc map[string]any
}

func templateOf(stack awscdk.Stack) *template {
	tp := assertions.Template_FromStack(stack, nil)
	b, err := json.Marshal(tp.ToJSON())
	if err != nil {
		panic(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		panic(err)
	}
	return &template{Template: tp, doc: doc}
}

// resources returns the properties of the template's resources of type
// typ, by logical ID.
func (tp *template) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tp.doc["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			props, _ := r["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

// logicalIDs returns the logical IDs of the template's resources of type
// typ.
func (tp *template) logicalIDs(typ string) []string {
	var ids []string
	for id := range tp.resources(typ) {
		ids = append(ids, id)
	}
	return ids
}

// has and count run an assertion and report its failure (a panic with a
// readable diff) as a test error, so one failure does not end the binary.
func has(t *testing.T, tp *template, typ string, props map[string]any) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("HasResourceProperties(%s): %v", typ, r)
		}
	}()
	tp.HasResourceProperties(jsii.String(typ), &props)
}

func count(t *testing.T, tp *template, typ string, n int) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("ResourceCountIs(%s, %d): %v", typ, n, r)
		}
	}()
	tp.ResourceCountIs(jsii.String(typ), jsii.Number(n))
}

func obj(m map[string]any) *map[string]any { return &m }

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func like(pattern string) assertions.Matcher {
	return assertions.Match_StringLikeRegexp(jsii.String(pattern))
}

// synth creates an app holding one stack, "Test", calls build on it,
// applies the AwsSolutions pack as the app does, and synthesizes. It is
// how each construct is tested alone.
func synth(t *testing.T, build func(stack awscdk.Stack)) (awscdk.Stack, *template) {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir:  jsii.String(filepath.Join(t.TempDir(), "cdk.out")),
		Context: &map[string]any{"@aws-cdk/core:validateAgainstDefaultRules": true},
	})
	stack := awscdk.NewStack(app, jsii.String("Test"), nil)
	build(stack)
	flowlake.ApplyNag(app)
	return stack, templateOf(stack)
}

// checkNag reports every unsuppressed AwsSolutions finding of stack, but
// those on the constructs named in except (a test's own grantees), and
// checks that every suppression carries a reason.
func checkNag(t *testing.T, stack awscdk.Stack, tp *template, except ...string) {
	t.Helper()
	errs := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), like("AwsSolutions-.*"))
next:
	for _, e := range *errs {
		for _, id := range except {
			if strings.HasPrefix(*e.Id, "/"+*stack.StackName()+"/"+id+"/") {
				continue next
			}
		}
		t.Errorf("%s: %s: %v", *stack.StackName(), *e.Id, e.Entry.Data)
	}
	for id, r := range tp.doc["Resources"].(map[string]any) {
		md, _ := r.(map[string]any)["Metadata"].(map[string]any)
		nag, _ := md["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, rule := range rules {
			if reason, _ := rule.(map[string]any)["reason"].(string); len(reason) < 20 {
				t.Errorf("%s/%s: suppression %v without a reason", *stack.StackName(), id, rule)
			}
		}
	}
}

// grantee is a role for a construct's Grant* method to grant to, named
// Grantee in the stack, as a function's role would be.
func grantee(stack awscdk.Stack) awsiam.Role {
	return awsiam.NewRole(stack, jsii.String("Grantee"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
}

// stubCode returns a folder holding a stub bootstrap, for a GoFunction the
// test only synthesizes.
func stubCode(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("stub "+name), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// logicalID matches the logical ID of a resource created as id directly in
// the stack, or as the default child of a construct id (the construct path
// and an 8-digit hash).
func logicalID(id string) *regexp.Regexp { return regexp.MustCompile(`^` + id + `[0-9A-F]{8}$`) }

// remarshal decodes the JSON of v into dst.
func remarshal(t *testing.T, v, dst any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := json.Unmarshal(b, dst); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// logicalIDPath matches a rendered reference to a resource: before, a
// logical ID's hash (8 hex digits), then after; both are literal.
func logicalIDPath(before, after string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(before) + `[0-9A-F]{8}` + regexp.QuoteMeta(after) + `$`)
}
