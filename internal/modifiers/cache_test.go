package modifiers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestCacheCompilesOncePerGeneration(t *testing.T) {
	so := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", UID: "u1", Generation: 1}}
	so.Spec = kedav1alpha1.ScaledObjectSpec{
		Advanced: &kedav1alpha1.AdvancedConfig{ScalingModifiers: kedav1alpha1.ScalingModifiers{Formula: "a + b", Target: "2"}},
		Triggers: []kedav1alpha1.ScaleTriggers{{Type: "redis", Name: "a"}, {Type: "redis", Name: "b"}},
	}
	var c Cache
	first, errs := c.Compile(so)
	if first == nil || len(errs) > 0 {
		t.Fatalf("Compile = %v, %v", first, errs)
	}
	if again, _ := c.Compile(so); again != first {
		t.Error("the same generation was compiled again")
	}
	so.Generation = 2
	so.Spec.Advanced.ScalingModifiers.Formula = "a * b"
	changed, _ := c.Compile(so)
	if changed == first {
		t.Fatal("a new generation must be compiled anew")
	}
	if v, err := changed.Evaluate(map[string]float64{"a": 3, "b": 4}); err != nil || v != 12 {
		t.Errorf("new formula = %v, %v; want 12", v, err)
	}
	key := types.NamespacedName{Namespace: "ns", Name: "a"}
	c.Forget(key)
	if _, ok := c.entries[key]; ok {
		t.Error("Forget kept the entry")
	}
}
