package v1alpha1_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

const crdDir = "../../charts/keda/crds"

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
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		crds[crd.Spec.Names.Kind] = crd
	}
	return crds
}

// TestCRDsCoverKEDAFieldPaths: every field path of KEDA 2.21's CRDs exists in ours, so that a
// manifest written for KEDA is accepted unchanged.
func TestCRDsCoverKEDAFieldPaths(t *testing.T) {
	crds := loadCRDs(t)
	f, err := os.Open("testdata/crd-field-paths-2.21.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var missing []string
	count := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		gvk, path, _ := strings.Cut(line, " ")
		kind := gvk[strings.LastIndex(gvk, "/")+1:]
		crd := crds[kind]
		if crd == nil {
			missing = append(missing, line+" (no CRD for "+kind+")")
			continue
		}
		count++
		if !hasPath(crd.Spec.Versions[0].Schema.OpenAPIV3Schema, path) {
			missing = append(missing, line)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d KEDA field paths are missing from our CRDs:\n%s", len(missing), count, strings.Join(missing, "\n"))
	}
	if count < 1500 {
		t.Errorf("checked only %d paths: the list looks truncated", count)
	}
}

// hasPath follows a path like spec.triggers[].metadata or status.health{}.status.
func hasPath(schema *apiextensionsv1.JSONSchemaProps, path string) bool {
	cur := schema
	for _, part := range strings.Split(path, ".") {
		name := strings.TrimSuffix(strings.TrimSuffix(part, "[]"), "{}")
		next, ok := cur.Properties[name]
		if !ok {
			return false
		}
		cur = &next
		switch {
		case strings.HasSuffix(part, "[]"):
			if cur.Items == nil || cur.Items.Schema == nil {
				return false
			}
			cur = cur.Items.Schema
		case strings.HasSuffix(part, "{}"):
			if cur.AdditionalProperties == nil || cur.AdditionalProperties.Schema == nil {
				return false
			}
			cur = cur.AdditionalProperties.Schema
		}
	}
	return true
}

func TestCRDNamesScopesAndColumns(t *testing.T) {
	crds := loadCRDs(t)
	tests := []struct {
		kind       string
		scope      apiextensionsv1.ResourceScope
		shortNames []string
		columns    []string
	}{
		{"ScaledObject", apiextensionsv1.NamespaceScoped, []string{"so"}, []string{"ScaleTargetKind", "ScaleTargetName", "Min", "Max", "Ready", "Active", "Fallback", "Paused", "Triggers", "Authentications", "Age"}},
		{"ScaledJob", apiextensionsv1.NamespaceScoped, []string{"sj"}, []string{"Min", "Max", "Ready", "Active", "Paused", "Triggers", "Authentications", "Age"}},
		{"TriggerAuthentication", apiextensionsv1.NamespaceScoped, []string{"ta", "triggerauth"}, []string{"PodIdentity", "Secret", "Env", "VaultAddress", "ScaledObjects", "ScaledJobs", "Age"}},
		{"ClusterTriggerAuthentication", apiextensionsv1.ClusterScoped, []string{"cta", "clustertriggerauth"}, []string{"PodIdentity", "Secret", "Env", "VaultAddress", "ScaledObjects", "ScaledJobs", "Age"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			crd := crds[tt.kind]
			if crd == nil {
				t.Fatalf("no CRD for %s", tt.kind)
			}
			if crd.Spec.Group != "keda.sh" || crd.Spec.Scope != tt.scope {
				t.Errorf("group %s scope %s", crd.Spec.Group, crd.Spec.Scope)
			}
			got := append([]string(nil), crd.Spec.Names.ShortNames...)
			sort.Strings(got)
			want := append([]string(nil), tt.shortNames...)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("short names %v, want %v", got, want)
			}
			v := crd.Spec.Versions[0]
			if v.Name != "v1alpha1" || !v.Served || !v.Storage || v.Subresources == nil || v.Subresources.Status == nil {
				t.Errorf("version %s served=%v storage=%v status subresource=%v", v.Name, v.Served, v.Storage, v.Subresources)
			}
			var cols []string
			for _, c := range v.AdditionalPrinterColumns {
				cols = append(cols, c.Name)
			}
			if strings.Join(cols, ",") != strings.Join(tt.columns, ",") {
				t.Errorf("printer columns %v, want %v", cols, tt.columns)
			}
		})
	}
}

// TestGeneratedFilesAreFresh regenerates deepcopy, CRDs and the scaler schema into a temp dir and
// compares them with the committed files.
func TestGeneratedFilesAreFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds controller-gen")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../../hack/generate.sh")
	cmd.Env = append(os.Environ(), "GENERATE_OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/generate.sh: %v\n%s", err, b)
	}
	var stale []string
	err := filepath.Walk(out, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, path)
		want, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join("..", "..", rel))
		if err != nil || !bytes.Equal(got, want) {
			stale = append(stale, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Errorf("generated files are stale, run make generate: %v", stale)
	}
}
