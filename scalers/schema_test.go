package scalers

import (
	"os"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestSchemaMatchesKEDA: for every scaler we ship, the parameters our tags declare have KEDA's
// names, defaults, optionality and sources.
func TestSchemaMatchesKEDA(t *testing.T) {
	data, err := os.ReadFile("testdata/keda-scalers-schema-2.21.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var keda Schema
	if err := yaml.Unmarshal(data, &keda); err != nil {
		t.Fatal(err)
	}
	kedaByType := map[string]SchemaScaler{}
	for _, s := range keda.Scalers {
		kedaByType[s.Type] = s
	}
	ours, err := BuildSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ours.Scalers {
		t.Run(s.Type, func(t *testing.T) {
			k, ok := kedaByType[s.Type]
			if !ok {
				t.Fatalf("KEDA has no scaler %q", s.Type)
			}
			want := map[string]SchemaParameter{}
			for _, p := range k.Parameters {
				want[p.Name] = mergeKEDAParameter(want, p)
			}
			for _, p := range s.Parameters {
				w, ok := want[p.Name]
				if !ok {
					t.Errorf("parameter %q is not KEDA's", p.Name)
					continue
				}
				delete(want, p.Name)
				if p.Default != w.Default || p.Optional != w.Optional || p.Separator != w.Separator || p.MetadataVariableReadable != w.MetadataVariableReadable ||
					p.EnvVariableReadable != w.EnvVariableReadable || p.TriggerAuthenticationVariableReadable != w.TriggerAuthenticationVariableReadable {
					t.Errorf("parameter %q: ours %+v, KEDA's %+v", p.Name, p, w)
				}
			}
			for name := range want {
				t.Errorf("KEDA's parameter %q is missing", name)
			}
		})
	}
}

// mergeKEDAParameter returns p combined with an earlier declaration of the same name in
// seen: KEDA's schema lists a parameter twice when a scaler and the authentication struct it
// embeds both declare it (rabbitmq's username and password), and KEDA then reads it from the
// sources of either.
func mergeKEDAParameter(seen map[string]SchemaParameter, p SchemaParameter) SchemaParameter {
	prev, ok := seen[p.Name]
	if !ok {
		return p
	}
	prev.Optional = prev.Optional && p.Optional
	if prev.Default == "" {
		prev.Default = p.Default
	}
	prev.MetadataVariableReadable = prev.MetadataVariableReadable || p.MetadataVariableReadable
	prev.EnvVariableReadable = prev.EnvVariableReadable || p.EnvVariableReadable
	prev.TriggerAuthenticationVariableReadable = prev.TriggerAuthenticationVariableReadable || p.TriggerAuthenticationVariableReadable
	return prev
}

// TestSchemaFileIsFresh is covered by api/v1alpha1's TestGeneratedFilesAreFresh (make generate
// writes scalers/schema.yaml); here we only check it parses and lists every registered type.
func TestSchemaFileListsEveryType(t *testing.T) {
	data, err := os.ReadFile("schema.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s Schema
	if err := yaml.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if s.SchemaVersion != 1 || len(s.Scalers) != len(Types()) {
		t.Errorf("schema.yaml has version %d and %d scalers, want 1 and %d", s.SchemaVersion, len(s.Scalers), len(Types()))
	}
}
