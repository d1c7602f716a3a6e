package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Template is the CloudFormation template of the CDK app's stack, as
// `cdk synth` writes it, with the folder holding its assets.
type Template struct {
	Dir       string
	Resources map[string]Resource
	Outputs   map[string]Output
}

// Output is one output of a template: its value, unresolved (a Ref or an
// Fn::GetAtt of a resource of the template).
type Output struct {
	Value any `json:"Value"`
}

// Resource is one resource of a template.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// CDKContext returns the context of the repository's cdk.json: the example
// configuration `npx cdk synth` uses.
func CDKContext(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(t), "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	return c.Context
}

// Synth runs the CDK app as `npx cdk synth` does (cdk.json's "go run
// ./infra", with the context passed as the CLI passes it, in
// CDK_CONTEXT_JSON) into a temporary folder, and returns the template of
// the stack named stackName. The app builds the Lambda bootstraps itself,
// with its own flags; the one difference from a deploy is the CPU they are
// built for (FLOWLAKE_BOOTSTRAP_GOARCH, this machine's), so that they run
// here.
func Synth(t testing.TB, stackName string, context map[string]any) *Template {
	t.Helper()
	out := synthApp(t, context)
	b, err := os.ReadFile(filepath.Join(out, stackName+".template.json"))
	if err != nil {
		t.Fatalf("synth: %v", err)
	}
	tp := &Template{Dir: out}
	if err := json.Unmarshal(b, tp); err != nil {
		t.Fatalf("template: %v", err)
	}
	return tp
}

// SynthStages runs the CDK app as Synth does, for a configuration that
// synthesizes CDK Stages (flowlake:members), and returns the template of
// every stack of every stage, by its path ("Central/Flowlake",
// "Member-111111111111/Flowlake"), each with its stage's environment.
func SynthStages(t testing.TB, context map[string]any) map[string]*StageTemplate {
	t.Helper()
	out := synthApp(t, context)
	type manifest struct {
		Artifacts map[string]struct {
			Type        string `json:"type"`
			Environment string `json:"environment"`
			DisplayName string `json:"displayName"`
			Properties  struct {
				DirectoryName string `json:"directoryName"`
				TemplateFile  string `json:"templateFile"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	read := func(dir string) manifest {
		var m manifest
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			t.Fatalf("cloud assembly %s: %v", dir, err)
		}
		return m
	}
	stages := map[string]*StageTemplate{}
	for _, a := range read(out).Artifacts {
		if a.Type != "cdk:cloud-assembly" {
			continue
		}
		dir := filepath.Join(out, a.Properties.DirectoryName)
		for _, s := range read(dir).Artifacts {
			if s.Type != "aws:cloudformation:stack" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, s.Properties.TemplateFile))
			if err != nil {
				t.Fatal(err)
			}
			// A stage's assets are staged in the top assembly's folder.
			st := &StageTemplate{Template: Template{Dir: out}, Environment: s.Environment}
			if err := json.Unmarshal(b, &st.Template); err != nil {
				t.Fatalf("template %s: %v", s.DisplayName, err)
			}
			stages[s.DisplayName] = st
		}
	}
	if len(stages) == 0 {
		t.Fatalf("synth: no stage in %s", out)
	}
	return stages
}

// StageTemplate is a stack's template in a CDK Stage, with its
// environment: aws://<account>/<region>.
type StageTemplate struct {
	Template
	Environment string
}

// synthApp runs the app into a temporary folder, which it returns.
func synthApp(t testing.TB, context map[string]any) string {
	t.Helper()
	root := RepoRoot(t)
	out := t.TempDir()
	ctx, err := json.Marshal(context)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "./infra")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "CDK_CONTEXT_JSON="+string(ctx),
		"FLOWLAKE_BOOTSTRAP_GOARCH="+runtime.GOARCH, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
		"CDK_DISABLE_VERSION_CHECK=1", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("synth (go run ./infra): %v\n%s", err, b)
	}
	return out
}

// OfType returns the logical IDs of the resources of type typ, sorted.
func (tp *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range tp.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// subVar matches a ${Name} or ${Name.Attr} of Fn::Sub.
var subVar = regexp.MustCompile(`\$\{[A-Za-z0-9:.]+\}`)

// FunctionDef is a Lambda function as a template defines it.
type FunctionDef struct {
	LogicalID string
	Name      string // its FLOWLAKE_FUNCTION: the folder under functions/
	Env       map[string]any
	MemoryMB  int
	TimeoutS  int
	Bootstrap string // the bootstrap binary in the function's asset
}

// Functions returns the template's flowlake functions by name.
func (tp *Template) Functions(t testing.TB) map[string]FunctionDef {
	t.Helper()
	out := map[string]FunctionDef{}
	for _, id := range tp.OfType("AWS::Lambda::Function") {
		p := tp.Resources[id].Properties
		env, _ := p["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		name, _ := vars["FLOWLAKE_FUNCTION"].(string)
		if name == "" {
			continue // the CDK's own deploy-time handlers
		}
		code, _ := p["Code"].(map[string]any)
		key, _ := code["S3Key"].(string)
		f := FunctionDef{LogicalID: id, Name: name, Env: vars,
			Bootstrap: filepath.Join(tp.Dir, "asset."+strings.TrimSuffix(key, ".zip"), "bootstrap")}
		if n, ok := p["MemorySize"].(float64); ok {
			f.MemoryMB = int(n)
		}
		if n, ok := p["Timeout"].(float64); ok {
			f.TimeoutS = int(n)
		}
		if _, err := os.Stat(f.Bootstrap); err != nil {
			t.Fatalf("function %s: no bootstrap in its asset: %v", name, err)
		}
		out[name] = f
	}
	return out
}

// Locals are what a template's references resolve to on loopback: pseudo
// parameters (AWS::AccountId, AWS::Region, ...) by name, and resources by
// the start of their logical ID (the construct path, such as
// "StorageLake" or "FindingsTopic"). A resource with no local value and a
// Name property resolves to its Name; with neither, to the value of the
// key "*" when there is one.
type Locals map[string]string

// Resolve returns the value of v, a template value (a literal or an
// intrinsic function: Ref, Fn::GetAtt, Fn::Join, Fn::Sub), with loc.
func (tp *Template) Resolve(v any, loc Locals) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	case map[string]any:
		if len(v) != 1 {
			break
		}
		for fn, arg := range v {
			switch fn {
			case "Ref":
				name, _ := arg.(string)
				return tp.ref(name, "", loc)
			case "Fn::GetAtt":
				a, _ := arg.([]any)
				if len(a) != 2 {
					break
				}
				name, _ := a[0].(string)
				attr, _ := a[1].(string)
				return tp.ref(name, attr, loc)
			case "Fn::Join":
				a, _ := arg.([]any)
				if len(a) != 2 {
					break
				}
				sep, _ := a[0].(string)
				parts, _ := a[1].([]any)
				var out []string
				for _, p := range parts {
					s, err := tp.Resolve(p, loc)
					if err != nil {
						return "", err
					}
					out = append(out, s)
				}
				return strings.Join(out, sep), nil
			case "Fn::Sub":
				s, _ := arg.(string)
				var err error
				out := subVar.ReplaceAllStringFunc(s, func(m string) string {
					name := m[2 : len(m)-1]
					attr := ""
					if i := strings.IndexByte(name, '.'); i > 0 && !strings.HasPrefix(name, "AWS::") {
						name, attr = name[:i], name[i+1:]
					}
					r, e := tp.ref(name, attr, loc)
					if e != nil && err == nil {
						err = e
					}
					return r
				})
				return out, err
			}
		}
	}
	return "", fmt.Errorf("template value %v: not a literal or an intrinsic this resolver knows", v)
}

// ref resolves a Ref (attr "") or Fn::GetAtt.
func (tp *Template) ref(name, attr string, loc Locals) (string, error) {
	if strings.HasPrefix(name, "AWS::") {
		if v, ok := loc[name]; ok {
			return v, nil
		}
		return "", fmt.Errorf("pseudo parameter %s: no local value", name)
	}
	r, ok := tp.Resources[name]
	if !ok {
		return "", fmt.Errorf("reference to %s: no such resource", name)
	}
	best := ""
	for prefix := range loc {
		if !strings.HasPrefix(prefix, "AWS::") && strings.HasPrefix(name, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	if best != "" {
		return loc[best], nil
	}
	if n, ok := r.Properties["Name"].(string); ok && attr == "" {
		return n, nil
	}
	if v, ok := loc["*"]; ok {
		return v, nil
	}
	return "", fmt.Errorf("reference to %s (%s) %s: no local value", name, r.Type, attr)
}

// Env returns f's environment with its references resolved by loc, as
// KEY=VALUE, sorted, and as a map.
func (tp *Template) Env(t testing.TB, f FunctionDef, loc Locals) ([]string, map[string]string) {
	t.Helper()
	m := map[string]string{}
	var kv []string
	for k, v := range f.Env {
		s, err := tp.Resolve(v, loc)
		if err != nil {
			t.Fatalf("function %s: %s: %v", f.Name, k, err)
		}
		m[k] = s
		kv = append(kv, k+"="+s)
	}
	slices.Sort(kv)
	return kv, m
}
