package controller

import (
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestStatusStrings(t *testing.T) {
	so := &kedav1alpha1.ScaledObject{Spec: kedav1alpha1.ScaledObjectSpec{Triggers: []kedav1alpha1.ScaleTriggers{
		{Type: "redis", AuthenticationRef: &kedav1alpha1.AuthenticationRef{Name: "redis-auth"}},
		{Type: "cron"},
		{Type: "redis", AuthenticationRef: &kedav1alpha1.AuthenticationRef{Name: "redis-auth"}},
	}}}
	if got := triggerTypes(so.Spec.Triggers); got != "redis,cron" {
		t.Errorf("triggersTypes = %q", got)
	}
	if got := authenticationTypes(so.Spec.Triggers); got != "redis-auth" {
		t.Errorf("authenticationsTypes = %q", got)
	}
}

func TestReferrers(t *testing.T) {
	so := func(ns, name string, deleting bool) kedav1alpha1.ScaledObject {
		o := kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if deleting {
			o.DeletionTimestamp = &metav1.Time{}
		}
		return o
	}
	sj := func(ns, name string) kedav1alpha1.ScaledJob {
		return kedav1alpha1.ScaledJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	for _, tc := range []struct {
		name           string
		sos            []kedav1alpha1.ScaledObject
		sjs            []kedav1alpha1.ScaledJob
		wantSO, wantSJ string
	}{
		{name: "none"},
		{name: "sorted names", sos: []kedav1alpha1.ScaledObject{so("a", "web", false), so("a", "api", false)}, sjs: []kedav1alpha1.ScaledJob{sj("a", "import")},
			wantSO: "api,web", wantSJ: "import"},
		{name: "deleting left out", sos: []kedav1alpha1.ScaledObject{so("a", "web", true), so("a", "api", false)}, wantSO: "api"},
		{name: "names alone, each once, as KEDA writes them for the cluster kind", sos: []kedav1alpha1.ScaledObject{so("b", "web", false), so("a", "web", false), so("a", "api", false)}, sjs: []kedav1alpha1.ScaledJob{sj("c", "import")},
			wantSO: "api,web", wantSJ: "import"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotSO, gotSJ := referrers(tc.sos, tc.sjs)
			if gotSO != tc.wantSO || gotSJ != tc.wantSJ {
				t.Errorf("referrers = %q, %q; want %q, %q", gotSO, gotSJ, tc.wantSO, tc.wantSJ)
			}
		})
	}
}

func TestAuthRefKeys(t *testing.T) {
	triggers := []kedav1alpha1.ScaleTriggers{
		{Type: "redis", AuthenticationRef: &kedav1alpha1.AuthenticationRef{Name: "ta"}},
		{Type: "redis", AuthenticationRef: &kedav1alpha1.AuthenticationRef{Name: "ta", Kind: kedav1alpha1.KindTriggerAuthentication}},
		{Type: "redis", AuthenticationRef: &kedav1alpha1.AuthenticationRef{Name: "shared", Kind: kedav1alpha1.KindClusterTriggerAuthentication}},
		{Type: "cron"},
	}
	got := authRefKeys("ns", triggers)
	want := []string{"TriggerAuthentication/ns/ta", "ClusterTriggerAuthentication//shared"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("authRefKeys = %q, want %q", got, want)
	}
	reqs := authRequests(got)
	if reqs[0].Namespace != "ns" || reqs[0].Name != "ta" || reqs[1].Namespace != "" || reqs[1].Name != "shared" {
		t.Errorf("authRequests = %v", reqs)
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
