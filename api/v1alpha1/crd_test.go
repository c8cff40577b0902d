package v1alpha1_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	"sigs.k8s.io/yaml"
)

const (
	repoRoot = "../.."
	crdDir   = repoRoot + "/charts/keda/crds"
	// maxCRDBytes keeps every CRD far below etcd's 1.5 MiB object limit.
	maxCRDBytes = 1 << 20
)

// loadCRDs reads the committed CRDs, keyed by kind; unknown fields fail the load.
func loadCRDs(t *testing.T) map[string]*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %s (run make generate): %v", crdDir, err)
	}
	crds := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > maxCRDBytes {
			t.Errorf("%s is %d bytes, more than %d", f, len(data), maxCRDBytes)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if want := crd.Spec.Group + "_" + crd.Spec.Names.Plural + ".yaml"; filepath.Base(f) != want {
			t.Errorf("%s holds %s, want it in %s", f, crd.Name, want)
		}
		crds[crd.Spec.Names.Kind] = crd
	}
	return crds
}

// TestCRDsCoverKEDAFieldPaths: every field path of KEDA 2.21's CRDs exists in ours, so that a
// manifest written for KEDA is accepted unchanged. The list's notation: "a.b" is property b of
// object a, "a[].b" property b of a's array items, "a{}.b" property b of a's map values.
func TestCRDsCoverKEDAFieldPaths(t *testing.T) {
	crds := loadCRDs(t)
	var missing []string
	perKind := map[string]int{}
	for _, list := range []string{"testdata/crd-field-paths-2.21.txt", "testdata/eventing-crd-field-paths-2.21.txt"} {
		missing = append(missing, missingPaths(t, crds, list, perKind)...)
	}
	if len(missing) > 0 {
		t.Errorf("%d KEDA field paths are missing from our CRDs:\n%s", len(missing), strings.Join(missing, "\n"))
	}
	// Guard against a truncated list silently passing: these are the 2.21 counts.
	for kind, want := range map[string]int{"ScaledObject": 80, "ScaledJob": 1157, "TriggerAuthentication": 162, "ClusterTriggerAuthentication": 162,
		"CloudEventSource": 22, "ClusterCloudEventSource": 22} {
		if perKind[kind] != want {
			t.Errorf("checked %d %s paths, the list has %d", perKind[kind], kind, want)
		}
	}
}

// missingPaths checks one list of KEDA field paths against crds, counting the paths per kind.
func missingPaths(t *testing.T, crds map[string]*apiextensionsv1.CustomResourceDefinition, list string, perKind map[string]int) []string {
	t.Helper()
	f, err := os.Open(list)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var missing []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		gvk, path, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("malformed line %q", line)
		}
		group, kind := gvk[:strings.LastIndex(gvk, "/")], gvk[strings.LastIndex(gvk, "/")+1:]
		crd := crds[kind]
		if crd == nil {
			missing = append(missing, line+"   (no CRD for "+kind+")")
			continue
		}
		if v := crd.Spec.Group + "/" + crd.Spec.Versions[0].Name; v != group {
			missing = append(missing, line+"   (our "+kind+" is "+v+")")
			continue
		}
		perKind[kind]++
		if why := findPath(crd.Spec.Versions[0].Schema.OpenAPIV3Schema, path); why != "" {
			missing = append(missing, line+"   ("+why+")")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return missing
}

// findPath follows path through schema and returns "" if it is there, else where it stops.
func findPath(schema *apiextensionsv1.JSONSchemaProps, path string) string {
	cur := schema
	walked := ""
	for _, part := range strings.Split(path, ".") {
		name := strings.TrimRight(part, "[]{}")
		next, ok := cur.Properties[name]
		if !ok {
			return "no property " + name + " under " + orRoot(walked)
		}
		walked = joinPath(walked, name)
		cur = &next
		for rest := part[len(name):]; rest != ""; rest = rest[2:] {
			switch {
			case strings.HasPrefix(rest, "[]"):
				if cur.Type != "array" || cur.Items == nil || cur.Items.Schema == nil {
					return walked + " is not an array with an item schema"
				}
				cur = cur.Items.Schema
				walked += "[]"
			case strings.HasPrefix(rest, "{}"):
				if cur.Type != "object" || cur.AdditionalProperties == nil || cur.AdditionalProperties.Schema == nil {
					return walked + " is not a map with a value schema"
				}
				cur = cur.AdditionalProperties.Schema
				walked += "{}"
			default:
				return "bad path segment " + part
			}
		}
	}
	return ""
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func orRoot(p string) string {
	if p == "" {
		return "the root"
	}
	return p
}

type column struct {
	name, typ, jsonPath string
	priority            int32
}

func TestCRDNamesScopesAndColumns(t *testing.T) {
	crds := loadCRDs(t)
	cond := func(name string) column {
		return column{name, "string", `.status.conditions[?(@.type=="` + name + `")].status`, 0}
	}
	age := column{"Age", "date", ".metadata.creationTimestamp", 0}
	authColumns := []column{
		{"PodIdentity", "string", ".spec.podIdentity.provider", 0},
		{"Secret", "string", ".spec.secretTargetRef[*].name", 0},
		{"Env", "string", ".spec.env[*].name", 0},
		{"VaultAddress", "string", ".spec.hashiCorpVault.address", 0},
		{"ScaledObjects", "string", ".status.scaledobjects", 1},
		{"ScaledJobs", "string", ".status.scaledjobs", 1},
		age,
	}
	tests := []struct {
		kind, plural, singular string
		group                  string // keda.sh when empty
		scope                  apiextensionsv1.ResourceScope
		shortNames             []string
		categories             []string // [keda] when nil
		columns                []column
	}{
		// KEDA's eventing CRDs have no short names and no categories.
		{
			kind: "CloudEventSource", plural: "cloudeventsources", singular: "cloudeventsource", group: "eventing.keda.sh",
			scope: apiextensionsv1.NamespaceScoped, categories: []string{}, columns: []column{cond("Active")},
		},
		{
			kind: "ClusterCloudEventSource", plural: "clustercloudeventsources", singular: "clustercloudeventsource", group: "eventing.keda.sh",
			scope: apiextensionsv1.ClusterScoped, categories: []string{}, columns: []column{cond("Active")},
		},
		{
			kind: "ScaledObject", plural: "scaledobjects", singular: "scaledobject",
			scope: apiextensionsv1.NamespaceScoped, shortNames: []string{"so"},
			columns: []column{
				{"ScaleTargetKind", "string", ".status.scaleTargetKind", 0},
				{"ScaleTargetName", "string", ".spec.scaleTargetRef.name", 0},
				{"Min", "integer", ".spec.minReplicaCount", 0},
				{"Max", "integer", ".spec.maxReplicaCount", 0},
				cond("Ready"), cond("Active"), cond("Fallback"), cond("Paused"),
				{"Triggers", "string", ".status.triggersTypes", 0},
				{"Authentications", "string", ".status.authenticationsTypes", 0},
				age,
			},
		},
		{
			kind: "ScaledJob", plural: "scaledjobs", singular: "scaledjob",
			scope: apiextensionsv1.NamespaceScoped, shortNames: []string{"sj"},
			columns: []column{
				{"Min", "integer", ".spec.minReplicaCount", 0},
				{"Max", "integer", ".spec.maxReplicaCount", 0},
				cond("Ready"), cond("Active"), cond("Paused"),
				{"Triggers", "string", ".status.triggersTypes", 0},
				{"Authentications", "string", ".status.authenticationsTypes", 0},
				age,
			},
		},
		{
			kind: "TriggerAuthentication", plural: "triggerauthentications", singular: "triggerauthentication",
			scope: apiextensionsv1.NamespaceScoped, shortNames: []string{"ta", "triggerauth"}, columns: authColumns,
		},
		{
			kind: "ClusterTriggerAuthentication", plural: "clustertriggerauthentications", singular: "clustertriggerauthentication",
			scope: apiextensionsv1.ClusterScoped, shortNames: []string{"cta", "clustertriggerauth"}, columns: authColumns,
		},
	}
	if len(crds) != len(tests) {
		t.Errorf("%d CRDs in %s, want %d", len(crds), crdDir, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			crd := crds[tt.kind]
			if crd == nil {
				t.Fatalf("no CRD for %s", tt.kind)
			}
			group := tt.group
			if group == "" {
				group = "keda.sh"
			}
			if want := tt.plural + "." + group; crd.Name != want {
				t.Errorf("name %s, want %s", crd.Name, want)
			}
			if crd.Spec.Group != group || crd.Spec.Scope != tt.scope {
				t.Errorf("group %s scope %s, want %s %s", crd.Spec.Group, crd.Spec.Scope, group, tt.scope)
			}
			n := crd.Spec.Names
			if n.Plural != tt.plural || n.Singular != tt.singular || n.ListKind != tt.kind+"List" {
				t.Errorf("names %+v", n)
			}
			if !slices.Equal(n.ShortNames, tt.shortNames) {
				t.Errorf("short names %v, want %v", n.ShortNames, tt.shortNames)
			}
			categories := tt.categories
			if categories == nil {
				categories = []string{"keda"}
			}
			if !slices.Equal(n.Categories, categories) && len(n.Categories)+len(categories) > 0 {
				t.Errorf("categories %v, want %v", n.Categories, categories)
			}
			if len(crd.Spec.Versions) != 1 {
				t.Fatalf("%d versions, want only v1alpha1", len(crd.Spec.Versions))
			}
			v := crd.Spec.Versions[0]
			if v.Name != "v1alpha1" || !v.Served || !v.Storage {
				t.Errorf("version %s served=%v storage=%v, want v1alpha1 served and stored", v.Name, v.Served, v.Storage)
			}
			if v.Subresources == nil || v.Subresources.Status == nil || v.Subresources.Scale != nil {
				t.Errorf("subresources %+v, want status only", v.Subresources)
			}
			var cols []column
			for _, c := range v.AdditionalPrinterColumns {
				cols = append(cols, column{c.Name, c.Type, c.JSONPath, c.Priority})
			}
			if !slices.Equal(cols, tt.columns) {
				t.Errorf("printer columns\n got %v\nwant %v", cols, tt.columns)
			}
		})
	}
}

// TestCRDsAreValid runs the API server's own CRD validation (the one `kubectl apply` meets), so a
// CRD it would reject fails here rather than in the chart or the e2e harness.
func TestCRDsAreValid(t *testing.T) {
	for kind, crd := range loadCRDs(t) {
		t.Run(kind, func(t *testing.T) {
			apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)
			internal := &apiextensions.CustomResourceDefinition{}
			if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, internal, nil); err != nil {
				t.Fatal(err)
			}
			if errs := validation.ValidateCustomResourceDefinition(context.Background(), internal); len(errs) > 0 {
				t.Errorf("the API server would reject %s:\n%v", crd.Name, errs.ToAggregate())
			}
		})
	}
}

// TestGeneratedFilesAreFresh runs hack/generate.sh into a temp dir and compares the result byte
// for byte with the committed deepcopy functions, CRDs, scaler schema and external scaler protocol
// code.
func TestGeneratedFilesAreFresh(t *testing.T) {
	if b, err := exec.Command("bash", repoRoot+"/hack/tools.sh", "controller-gen").CombinedOutput(); err != nil {
		t.Skipf("skipping: controller-gen cannot be built here (hack/tools.sh controller-gen: %v)\n%s", err, b)
	}
	out := t.TempDir()
	cmd := exec.Command("bash", repoRoot+"/hack/generate.sh")
	cmd.Env = append(os.Environ(), "GENERATE_OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/generate.sh: %v\n%s", err, b)
	}
	var generated []string
	err := filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(out, path)
		generated = append(generated, rel)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"api/v1alpha1/zz_generated.deepcopy.go", "api/eventing/v1alpha1/zz_generated.deepcopy.go", "api/history/v1alpha1/zz_generated.deepcopy.go",
		"charts/keda/crds/keda.sh_scaledjobs.yaml", "charts/keda/crds/eventing.keda.sh_cloudeventsources.yaml", "scalers/schema.yaml",
		"scalers/externalscaler/externalscaler.pb.go", "scalers/externalscaler/externalscaler_grpc.pb.go"} {
		if !slices.Contains(generated, want) {
			t.Errorf("hack/generate.sh did not write %s; it wrote %v", want, generated)
		}
	}
	var stale []string
	for _, rel := range generated {
		want, err := os.ReadFile(filepath.Join(out, rel))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil || !bytes.Equal(got, want) {
			stale = append(stale, rel)
		}
	}
	// A CRD whose type is gone must not linger in the chart.
	committed, _ := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	for _, f := range committed {
		rel := "charts/keda/crds/" + filepath.Base(f)
		if !slices.Contains(generated, rel) {
			stale = append(stale, rel+" (no longer generated)")
		}
	}
	if len(stale) > 0 {
		t.Errorf("generated files are stale, run `make generate` (hack/generate.sh) and commit:\n%s", strings.Join(stale, "\n"))
	}
}
