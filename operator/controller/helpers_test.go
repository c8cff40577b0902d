package controller

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestContainerEnv(t *testing.T) {
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{
			map[string]any{"name": "app", "env": []any{map[string]any{"name": "A", "value": "1"}, map[string]any{"name": "FROM_SECRET", "valueFrom": map[string]any{}}}},
			map[string]any{"name": "sidecar", "env": []any{map[string]any{"name": "B", "value": "2"}}},
		},
	}}}}}
	if got := containerEnv(obj, ""); len(got) != 1 || got["A"] != "1" {
		t.Errorf("first container env = %v", got)
	}
	if got := containerEnv(obj, "sidecar"); len(got) != 1 || got["B"] != "2" {
		t.Errorf("sidecar env = %v", got)
	}
	if got := containerEnv(obj, "missing"); len(got) != 0 {
		t.Errorf("missing container env = %v", got)
	}
}

func TestStatusStrings(t *testing.T) {
	so := &kedav1alpha1.ScaledObject{Spec: kedav1alpha1.ScaledObjectSpec{Triggers: []kedav1alpha1.ScaleTriggers{
		{Type: "redis", AuthenticationRef: &kedav1alpha1.AuthenticationRef{Name: "redis-auth"}},
		{Type: "cron"},
		{Type: "redis", AuthenticationRef: &kedav1alpha1.AuthenticationRef{Name: "redis-auth"}},
	}}}
	if got := triggerTypes(so); got != "redis,cron" {
		t.Errorf("triggersTypes = %q", got)
	}
	if got := authenticationTypes(so); got != "redis-auth" {
		t.Errorf("authenticationsTypes = %q", got)
	}
}
