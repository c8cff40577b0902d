package controller

import (
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

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

func TestWithComposite(t *testing.T) {
	external := func(name string) autoscalingv2.MetricSpec {
		return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: name}}}
	}
	cpu := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu"}}
	mem := autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: "memory", Container: "app"}}
	got := withComposite([]autoscalingv2.MetricSpec{external("s0-redis-a"), cpu, external("s2-redis-b"), mem}, external("composite-metric"))
	if len(got) != 3 || got[0].External.Metric.Name != "composite-metric" || got[1].Resource == nil || got[2].ContainerResource == nil {
		t.Errorf("metrics = %+v, want the composite, then cpu and memory", got)
	}
	resources := resourceMetricNames(got)
	if len(resources) != 2 || resources[0] != "cpu" || resources[1] != "memory" {
		t.Errorf("resourceMetricNames = %v", resources)
	}
}
