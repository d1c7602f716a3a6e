package flowlake_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// statement is one statement of a policy document, parsed from a
// template: Action and Resource are lists whatever the template wrote (a
// string or a list), and each resource is rendered by render, so an ARN
// built with Fn::Join reads as one string such as
// "${StorageLake72898626.Arn}/flows/*".
type statement struct {
	Sid       string
	Effect    string
	Principal any
	Action    []string
	Resource  []string
	Condition map[string]map[string]any
}

func (st statement) String() string { return js(st) }

// statements parses the Statement list of a policy document (the value of
// a PolicyDocument, KeyPolicy or AssumeRolePolicyDocument property).
func statements(t *testing.T, doc any) []statement {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var pd struct {
		Statement []struct {
			Sid       string
			Effect    string
			Principal any
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal(b, &pd); err != nil {
		t.Fatalf("policy document %s: %v", b, err)
	}
	out := make([]statement, 0, len(pd.Statement))
	for _, s := range pd.Statement {
		st := statement{Sid: s.Sid, Effect: s.Effect, Principal: s.Principal, Condition: s.Condition}
		for _, a := range list(s.Action) {
			name, ok := a.(string)
			if !ok {
				t.Fatalf("statement %s: action %v is not a string", js(s), a)
			}
			st.Action = append(st.Action, name)
		}
		for _, r := range list(s.Resource) {
			st.Resource = append(st.Resource, render(r))
		}
		out = append(out, st)
	}
	return out
}

// list returns v as a list: itself if it is one, else a list of v (none
// for nil).
func list(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

// render writes a template value as a string: Ref as ${Name},
// Fn::GetAtt as ${Name.Attr}, Fn::Join joined; other values as JSON.
func render(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if len(v) != 1 {
			break
		}
		if ref, ok := v["Ref"].(string); ok {
			return "${" + ref + "}"
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok && len(att) == 2 {
			return fmt.Sprintf("${%v.%v}", att[0], att[1])
		}
		if join, ok := v["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			var parts []string
			for _, p := range list(join[1]) {
				parts = append(parts, render(p))
			}
			return strings.Join(parts, sep)
		}
	}
	return js(v)
}

// covers reports whether the action pattern of a statement (which may
// hold * and ?, as s3:GetObject* does) covers the action; IAM compares
// actions case-insensitively.
func covers(pattern, action string) bool {
	re := "(?i)^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(action)
}

// allowed returns the resources, matching the regexp resource, on which
// an Allow statement of sts grants action (covered by one of its action
// patterns).
func allowed(sts []statement, action, resource string) []string {
	re := regexp.MustCompile(resource)
	var out []string
	for _, st := range sts {
		if st.Effect != "Allow" {
			continue
		}
		for _, a := range st.Action {
			if !covers(a, action) {
				continue
			}
			for _, r := range st.Resource {
				if re.MatchString(r) {
					out = append(out, r)
				}
			}
			break
		}
	}
	return out
}

// rolePolicy returns the statements of the policies attached to the role
// whose logical ID starts with prefix.
func (tp *template) rolePolicy(t *testing.T, prefix string) []statement {
	t.Helper()
	var out []statement
	n := 0
	for _, p := range tp.resources("AWS::IAM::Policy") {
		for _, r := range list(p["Roles"]) {
			if strings.HasPrefix(render(r), "${"+prefix) {
				out = append(out, statements(t, p["PolicyDocument"])...)
				n++
				break
			}
		}
	}
	if n == 0 {
		t.Fatalf("no policy for a role %s*", prefix)
	}
	return out
}

// TestStatements: the parser reads both shapes CloudFormation allows and
// renders the CDK's intrinsics, so the assertions built on it cannot pass
// by reading the wrong shape.
func TestStatements(t *testing.T) {
	var doc any
	json.Unmarshal([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:PutObject","Resource":{"Fn::Join":["",[{"Fn::GetAtt":["StorageLake72898626","Arn"]},"/flows/*"]]}},
		{"Action":["s3:GetObject*","s3:List*"],"Resource":[{"Ref":"B"},"*"],"Effect":"Allow"},
		{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`), &doc)
	sts := statements(t, doc)
	if len(sts) != 3 || sts[0].Resource[0] != "${StorageLake72898626.Arn}/flows/*" || len(sts[1].Action) != 2 || sts[1].Resource[0] != "${B}" ||
		sts[2].Condition["Bool"]["aws:SecureTransport"] != "false" {
		t.Fatalf("statements = %v", sts)
	}
	for _, tt := range []struct {
		action, resource string
		want             int
	}{
		{"s3:PutObject", `^\$\{StorageLake[0-9A-F]{8}\.Arn\}/flows/\*$`, 1},
		{"s3:GetObject", `.`, 2},
		{"s3:getobjectversion", `^\*$`, 1},
		{"s3:ListBucket", `^\$\{B\}$`, 1},
		{"s3:DeleteObject", `.`, 0}, // only denied
		{"s3:PutObject", `/rejects/`, 0},
	} {
		if got := allowed(sts, tt.action, tt.resource); len(got) != tt.want {
			t.Errorf("allowed(%s, %s) = %v; want %d", tt.action, tt.resource, got, tt.want)
		}
	}
}
