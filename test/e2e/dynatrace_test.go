package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	dtserver "github.com/kedactl/kedactl/test/servers/dynatrace"
)

// TestDynatraceScalesZeroToMaxToZero: a dynatrace trigger on the Dynatrace contract fake, with
// the access token from a Secret through a TriggerAuthentication. A value at
// activationThreshold leaves the workers at 0; above it, 0 -> 1; a burst takes the real HPA to
// the maximum of 4; back to 0 once the queue drains, after the cooldown.
func TestDynatraceScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const (
		token    = "dt0c01.E2EMETRICS.never-in-status-6b2f"
		selector = `builtin:queue.incoming_requests:splitBy():fold(sum)`
	)
	dt := dtserver.Start(t, dtserver.Options{Tokens: map[string][]string{token: {dtserver.ScopeMetricsRead}}})
	dt.SetValue(selector, 0)

	ns := s.newNamespace(t, "dynatrace")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: dynatrace-secret
stringData:
  token: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: dynatrace-auth
spec:
  secretTargetRef:
    - parameter: token
      name: dynatrace-secret
      key: token
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 4
  triggers:
    - type: dynatrace
      authenticationRef:
        name: dynatrace-auth
      metadata:
        host: %s
        metricSelector: %q
        from: now-5m
        threshold: "5"
        activationThreshold: "2"
`, token, dt.URL, selector))

	const metric = "s0-dynatrace"
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].External == nil || hpa.Spec.Metrics[0].External.Metric.Name != metric ||
		hpa.Spec.Metrics[0].External.Target.Type != autoscalingv2.AverageValueMetricType || hpa.Spec.Metrics[0].External.Target.AverageValue.Value() != 5 {
		t.Fatalf("HPA metrics = %+v, want %s with AverageValue 5", hpa.Spec.Metrics, metric)
	}

	// At activationThreshold: not above it, so the workers stay at 0.
	dt.SetValue(selector, 2)
	polls := len(dt.Requests())
	eventually(t, 30*time.Second, "three polls that saw the value 2", func(context.Context) (bool, string) {
		n := len(dt.Requests()) - polls
		return n >= 3, fmt.Sprintf("%d polls", n)
	})
	if got, err := s.replicas(context.Background(), ns, "worker"); err != nil || got != 0 {
		t.Fatalf("a value at activationThreshold: %d replicas (%v), want 0", got, err)
	}
	if so, err := s.scaledObject(context.Background(), ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("a value at activationThreshold: the ScaledObject is active (%v)", err)
	}

	// Above it: 0 -> 1.
	dt.SetValue(selector, 3)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metric, "worker"); v != 3 {
		t.Errorf("external metric %s = %d, want 3", metric, v)
	}

	// 60 / 5 per worker = 12 workers, more than the maximum of 4.
	dt.SetValue(selector, 60)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 60 {
		t.Errorf("external metric %s = %d, want 60", metric, v)
	}

	// The queue drains: back to 0 after the cooldown.
	dt.SetValue(selector, 0)
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")

	// Every request carried the token from the Secret, the selector and the range.
	for _, r := range dt.Requests() {
		if r.Authorization != "Api-Token "+token || r.Status != 200 || r.Path != "/api/v2/metrics/query" ||
			r.Query.Get("metricSelector") != selector || r.Query.Get("from") != "now-5m" {
			t.Fatalf("request %s %s?%s answered %d", r.Method, r.Path, r.Query.Encode(), r.Status)
		}
	}
}
