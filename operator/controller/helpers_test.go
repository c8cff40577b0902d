package controller

import (
	"testing"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

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

func TestEditList(t *testing.T) {
	for _, tc := range []struct {
		list, name string
		remove     bool
		want       string
	}{
		{"", "a", false, "a"}, {"b", "a", false, "a,b"}, {"a,b", "a", false, "a,b"}, {"a,b", "a", true, "b"}, {"", "a", true, ""},
	} {
		if got := editList(tc.list, tc.name, tc.remove); got != tc.want {
			t.Errorf("editList(%q, %q, %v) = %q, want %q", tc.list, tc.name, tc.remove, got, tc.want)
		}
	}
}
