package v1alpha1_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// kedaRulesFile lists the schema rules of KEDA 2.21's CRDs, one a line:
//
//	<group>/<version>/<Kind> <path> <keyword> <value as JSON>
//
// in the notation of crd-field-paths-2.21.txt ("." is the object's root). It is written once from
// KEDA's CRDs by `go test ./api/v1alpha1 -run TestCRDsCarryKEDASchemaRules -update-keda-rules`,
// which reads them from the Go module cache; the test itself reads only this file and our CRDs.
const kedaRulesFile = "testdata/crd-schema-rules-2.21.txt"

// kedaModule is the KEDA release the rules come from, as the module cache names it.
const kedaModule = "github.com/kedacore/keda/v2@v2.21.0"

var updateKEDARules = flag.Bool("update-keda-rules", false,
	"rewrite "+kedaRulesFile+" from the CRDs of "+kedaModule+" in the Go module cache")

// ruleKeywords are the OpenAPI keywords and Kubernetes extensions by which the API server refuses a
// value or fills one in.
var ruleKeywords = []string{
	"required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
	"minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems",
	"minProperties", "maxProperties", "enum", "default",
	"x-kubernetes-validations", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
}

// unorderedKeywords hold lists whose order means nothing.
var unorderedKeywords = map[string]bool{"required": true, "enum": true}

const celKeyword = "x-kubernetes-validations"

// schemaRule is one keyword of one schema node of one kind.
type schemaRule struct {
	kind, path, keyword, value string
}

func (r schemaRule) key() string { return r.kind + " " + r.path + " " + r.keyword }

func (r schemaRule) String() string { return r.key() + " " + r.value }

// ourRulesBeyondKEDA are parts of our schemas whose rules KEDA's list does not bound: the status,
// which only the operator writes, and the embedded batch/v1 JobSpec, whose rules are those of the
// k8s.io/api release we build with (a superset of those of KEDA's older one).
func ourRulesBeyondKEDA(path string) bool {
	for _, p := range []string{"status", "spec.jobTargetRef"} {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") || strings.HasPrefix(path, p+"{") {
			return true
		}
	}
	return false
}

// TestCRDsCarryKEDASchemaRules: every schema rule of KEDA 2.21's CRDs is in ours with the same
// value, so that the API server refuses what KEDA's refuses even when the webhook is down; and
// outside the status and the embedded JobSpec ours have no rule KEDA's lack, so that it refuses
// nothing KEDA's accepts. A CEL rule may be worded differently from KEDA's: it must give the same
// verdict as KEDA's on every sample of the fields it reads.
func TestCRDsCarryKEDASchemaRules(t *testing.T) {
	if *updateKEDARules {
		writeKEDARules(t)
	}
	want := readKEDARules(t)
	crds := loadCRDObjects(t)
	ours := map[string]schemaRule{}
	for _, obj := range crds {
		for _, r := range crdRules(t, obj) {
			ours[r.key()] = r
		}
	}

	var missing, differ []string
	perKind := map[string]int{}
	kedaKeys := map[string]bool{}
	for _, w := range want {
		perKind[w.kind[strings.LastIndex(w.kind, "/")+1:]]++
		kedaKeys[w.key()] = true
		got, ok := ours[w.key()]
		switch {
		case !ok:
			missing = append(missing, w.String())
		case w.keyword == celKeyword:
			if why := sameCELVerdicts(t, crds[w.kind], w, got); why != "" {
				differ = append(differ, fmt.Sprintf("%s\n    ours: %s\n    %s", w, got.value, why))
			}
		case got.value != w.value:
			differ = append(differ, fmt.Sprintf("%s\n    ours: %s", w, got.value))
		}
	}
	var extra []string
	for k, r := range ours {
		if !kedaKeys[k] && !ourRulesBeyondKEDA(r.path) {
			extra = append(extra, r.String())
		}
	}
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("%d of KEDA's schema rules are missing from our CRDs (add the marker to api/v1alpha1 and run make generate):\n%s",
			len(missing), strings.Join(missing, "\n"))
	}
	if len(differ) > 0 {
		t.Errorf("%d schema rules differ from KEDA's:\n%s", len(differ), strings.Join(differ, "\n"))
	}
	if len(extra) > 0 {
		t.Errorf("%d schema rules of ours are not KEDA's: the API server would refuse what KEDA accepts (check it in the webhook instead, as a warning):\n%s",
			len(extra), strings.Join(extra, "\n"))
	}
	// Guard against a truncated list silently passing: these are the 2.21 counts.
	for kind, n := range map[string]int{"ScaledObject": 30, "ScaledJob": 447, "TriggerAuthentication": 66, "ClusterTriggerAuthentication": 66} {
		if perKind[kind] != n {
			t.Errorf("the list has %d %s rules, KEDA 2.21 has %d", perKind[kind], kind, n)
		}
	}
}

// loadCRDObjects reads our CRDs as plain JSON objects, keyed by group/version/kind.
func loadCRDObjects(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %s (run make generate): %v", crdDir, err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		obj := readYAMLObject(t, f)
		out[crdKind(t, obj)] = obj
	}
	return out
}

func readYAMLObject(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

// crdKind is "<group>/<version>/<Kind>" of a CRD with one version.
func crdKind(t *testing.T, crd map[string]any) string {
	t.Helper()
	spec, _ := crd["spec"].(map[string]any)
	names, _ := spec["names"].(map[string]any)
	versions, _ := spec["versions"].([]any)
	if len(versions) != 1 {
		t.Fatalf("CRD %v has %d versions, want one", crd["metadata"], len(versions))
	}
	v, _ := versions[0].(map[string]any)
	return fmt.Sprintf("%s/%s/%s", spec["group"], v["name"], names["kind"])
}

// crdSchema is the openAPIV3Schema of a CRD's only version.
func crdSchema(crd map[string]any) map[string]any {
	spec, _ := crd["spec"].(map[string]any)
	versions, _ := spec["versions"].([]any)
	v, _ := versions[0].(map[string]any)
	s, _ := v["schema"].(map[string]any)
	root, _ := s["openAPIV3Schema"].(map[string]any)
	return root
}

// crdRules lists the rules of every node of a CRD's schema.
func crdRules(t *testing.T, crd map[string]any) []schemaRule {
	t.Helper()
	kind := crdKind(t, crd)
	var out []schemaRule
	var walk func(node map[string]any, path string)
	walk = func(node map[string]any, path string) {
		shown := path
		if shown == "" {
			shown = "."
		}
		for _, kw := range ruleKeywords {
			if v, ok := node[kw]; ok {
				out = append(out, schemaRule{kind, shown, kw, canonicalJSON(t, kw, v)})
			}
		}
		props, _ := node["properties"].(map[string]any)
		for _, name := range sortedKeys(props) {
			if child, ok := props[name].(map[string]any); ok {
				walk(child, joinPath(path, name))
			}
		}
		if items, ok := node["items"].(map[string]any); ok {
			walk(items, path+"[]")
		}
		if values, ok := node["additionalProperties"].(map[string]any); ok {
			walk(values, path+"{}")
		}
	}
	walk(crdSchema(crd), "")
	return out
}

// canonicalJSON encodes a keyword's value so that equal rules compare equal: object keys sorted
// (encoding/json does that) and unordered lists sorted.
func canonicalJSON(t *testing.T, keyword string, v any) string {
	t.Helper()
	if list, ok := v.([]any); ok && unorderedKeywords[keyword] {
		enc := make([]string, len(list))
		for i, e := range list {
			enc[i] = mustJSON(t, e)
		}
		sort.Strings(enc)
		return "[" + strings.Join(enc, ",") + "]"
	}
	return mustJSON(t, v)
}

// mustJSON encodes v on one line, leaving <, > and & as they are (CEL rules compare with them).
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func readKEDARules(t *testing.T) []schemaRule {
	t.Helper()
	f, err := os.Open(kedaRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []schemaRule
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, " ", 4)
		if len(parts) != 4 || !json.Valid([]byte(parts[3])) {
			t.Fatalf("%s: malformed line %q", kedaRulesFile, line)
		}
		out = append(out, schemaRule{parts[0], parts[1], parts[2], parts[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeKEDARules rewrites kedaRulesFile from KEDA's CRDs in the Go module cache (fetch them with
// `go mod download github.com/kedacore/keda/v2@v2.21.0`).
func writeKEDARules(t *testing.T) {
	t.Helper()
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			t.Fatalf("go env GOMODCACHE: %v", err)
		}
		cache = strings.TrimSpace(string(out))
	}
	dir := filepath.Join(cache, kedaModule, "config", "crd", "bases")
	files, err := filepath.Glob(filepath.Join(dir, "*keda.sh_*.yaml")) // keda.sh and eventing.keda.sh
	if err != nil || len(files) == 0 {
		t.Fatalf("no KEDA CRDs in %s (go mod download %s): %v", dir, kedaModule, err)
	}
	var lines []string
	for _, f := range files {
		for _, r := range crdRules(t, readYAMLObject(t, f)) {
			lines = append(lines, r.String())
		}
	}
	sort.Strings(lines)
	header := []string{
		"# The schema rules of KEDA 2.21's CRDs (" + kedaModule + "/config/crd/bases/*keda.sh_*.yaml):",
		"# <group>/<version>/<Kind> <path> <keyword> <value as JSON>. Paths: \"a.b\" is property b of a,",
		"# \"a[]\" a's array items, \"a{}\" a's map values, \".\" the root. Unordered lists (required, enum) are",
		"# sorted. Written by `go test ./api/v1alpha1 -run TestCRDsCarryKEDASchemaRules -update-keda-rules`.",
	}
	data := strings.Join(append(header, lines...), "\n") + "\n"
	if err := os.WriteFile(kedaRulesFile, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// selfField finds the fields a CEL rule reads from self.
var selfField = regexp.MustCompile(`\bself\.([A-Za-z_][A-Za-z0-9_]*)`)

// celSamples are the values each integer field a rule reads takes in turn (those its minimum and
// maximum allow); nil leaves it out.
var celSamples = []any{nil, int64(-1), int64(0), int64(1), int64(2), int64(99), int64(100), int64(101), int64(1000)}

// sameCELVerdicts evaluates KEDA's rules and ours at the same node, with the API server's CEL
// validator, on every combination of samples of the integer fields they read, and returns "" when
// they agree on each, else the first sample they disagree on. The fields' bounds come from our
// schema, which the caller checks against KEDA's.
func sameCELVerdicts(t *testing.T, crd map[string]any, keda, ours schemaRule) string {
	t.Helper()
	node := crdSchema(crd)
	if keda.path != "." {
		for _, part := range strings.Split(keda.path, ".") {
			if strings.ContainsAny(part, "[]{}") {
				return "sampling a rule under an array or map is not supported: compare it by hand"
			}
			props, _ := node["properties"].(map[string]any)
			node, _ = props[part].(map[string]any)
		}
	}
	props, _ := node["properties"].(map[string]any)
	var fields []string
	for _, m := range selfField.FindAllStringSubmatch(keda.value+ours.value, -1) {
		if !slices.Contains(fields, m[1]) {
			fields = append(fields, m[1])
		}
	}
	sort.Strings(fields)
	if len(fields) == 0 {
		return "the rules read no field of self: compare them by hand"
	}
	// Each field takes the samples its own minimum and maximum (KEDA's too, as checked above) let
	// through: a value they refuse never reaches the rule.
	samples := map[string][]any{}
	for _, f := range fields {
		p, _ := props[f].(map[string]any)
		if p["type"] != "integer" {
			return fmt.Sprintf("field %s is a %v; only integer fields are sampled: compare the rules by hand", f, p["type"])
		}
		for _, v := range celSamples {
			if n, ok := v.(int64); ok {
				if lo, ok := p["minimum"].(float64); ok && float64(n) < lo {
					continue
				}
				if hi, ok := p["maximum"].(float64); ok && float64(n) > hi {
					continue
				}
			}
			samples[f] = append(samples[f], v)
		}
	}
	kedaValidator, err := celValidator(fields, keda.value)
	if err != nil {
		return "KEDA's rule: " + err.Error()
	}
	ourValidator, err := celValidator(fields, ours.value)
	if err != nil {
		return "our rule: " + err.Error()
	}
	verdicts := map[bool]int{}
	var walk func(i int, obj map[string]any) string
	walk = func(i int, obj map[string]any) string {
		if i == len(fields) {
			kedaErrs := evalCEL(kedaValidator, obj)
			ourErrs := evalCEL(ourValidator, obj)
			if (len(kedaErrs) == 0) != (len(ourErrs) == 0) {
				return fmt.Sprintf("on %v KEDA's rule gives %v, ours %v", obj, kedaErrs.ToAggregate(), ourErrs.ToAggregate())
			}
			verdicts[len(kedaErrs) == 0]++
			return ""
		}
		for _, v := range samples[fields[i]] {
			next := map[string]any{}
			for k, old := range obj {
				next[k] = old
			}
			if v != nil {
				next[fields[i]] = v
			}
			if why := walk(i+1, next); why != "" {
				return why
			}
		}
		return ""
	}
	if why := walk(0, map[string]any{}); why != "" {
		return why
	}
	// A rule that failed to compile refuses everything: demand both verdicts among the samples.
	if verdicts[true] == 0 || verdicts[false] == 0 {
		return fmt.Sprintf("the samples do not tell the rules apart (%d accepted, %d refused)", verdicts[true], verdicts[false])
	}
	return ""
}

// celValidator builds the API server's CEL validator for rules (a JSON x-kubernetes-validations
// list) on an object whose fields are the given int32 fields.
func celValidator(fields []string, rules string) (*cel.Validator, error) {
	v1 := apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{}}
	for _, f := range fields {
		v1.Properties[f] = apiextensionsv1.JSONSchemaProps{Type: "integer", Format: "int32"}
	}
	if err := json.Unmarshal([]byte(rules), &v1.XValidations); err != nil {
		return nil, err
	}
	internal := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&v1, internal, nil); err != nil {
		return nil, err
	}
	s, err := schema.NewStructural(internal)
	if err != nil {
		return nil, err
	}
	// The API server's per-expression cost limit (k8s.io/apiserver/pkg/apis/cel.PerCallLimit).
	v := cel.NewValidator(s, false, 1000000)
	if v == nil {
		return nil, fmt.Errorf("no rules in %s", rules)
	}
	return v, nil
}

func evalCEL(v *cel.Validator, obj map[string]any) field.ErrorList {
	// The API server's budget for one object (k8s.io/apiserver/pkg/apis/cel.RuntimeCELCostBudget).
	errs, _ := v.Validate(context.Background(), field.NewPath("spec"), nil, obj, nil, 10000000)
	return errs
}
