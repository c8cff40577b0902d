package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	ddserver "github.com/kedactl/kedactl/test/servers/datadog"
)

// TestDatadogScalesZeroToMaxToZero: a datadog trigger on the Datadog API fake, with the API key,
// the application key and the site (the fake's address) from a Secret through a
// TriggerAuthentication, as KEDA's documentation keeps them. A value at activationQueryValue
// leaves the workers at 0; above it, 0 -> 1; a burst takes the real HPA to the maximum of 4;
// back to 0 once the queue drains, after the cooldown.
func TestDatadogScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const (
		apiKey = "e2e-datadog-api-key-0c1d"
		appKey = "e2e-datadog-app-key-9a7f"
		query  = "sum:worker.queue.depth{service:checkout}"
	)
	dd := ddserver.Start(t, ddserver.Options{APIKey: apiKey, AppKey: appKey})
	dd.SetValue(query, 0)

	ns := s.newNamespace(t, "datadog")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: datadog-secrets
stringData:
  apiKey: %q
  appKey: %q
  datadogSite: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: keda-trigger-auth-datadog-secret
spec:
  secretTargetRef:
    - parameter: apiKey
      name: datadog-secrets
      key: apiKey
    - parameter: appKey
      name: datadog-secrets
      key: appKey
    - parameter: datadogSite
      name: datadog-secrets
      key: datadogSite
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
    - type: datadog
      authenticationRef:
        name: keda-trigger-auth-datadog-secret
      metadata:
        query: %q
        queryValue: "5"
        activationQueryValue: "2"
        age: "60"
`, apiKey, appKey, dd.URL, query))

	const metric = "s0-datadog-sum-worker-queue-depth"
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

	// At activationQueryValue: not above it, so the workers stay at 0.
	dd.SetValue(query, 2)
	polls := len(dd.Requests())
	eventually(t, 30*time.Second, "three polls that saw the value 2", func(context.Context) (bool, string) {
		n := len(dd.Requests()) - polls
		return n >= 3, fmt.Sprintf("%d polls", n)
	})
	if got, err := s.replicas(context.Background(), ns, "worker"); err != nil || got != 0 {
		t.Fatalf("a value at activationQueryValue: %d replicas (%v), want 0", got, err)
	}
	if so, err := s.scaledObject(context.Background(), ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("a value at activationQueryValue: the ScaledObject is active (%v)", err)
	}

	// Above it: 0 -> 1.
	dd.SetValue(query, 3)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metric, "worker"); v != 3 {
		t.Errorf("external metric %s = %d, want 3", metric, v)
	}

	// 60 / 5 per worker = 12 workers, more than the maximum of 4.
	dd.SetValue(query, 60)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 60 {
		t.Errorf("external metric %s = %d, want 60", metric, v)
	}

	// The queue drains: back to 0 after the cooldown.
	dd.SetValue(query, 0)
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")

	// Every request carried the keys from the Secret in Datadog's headers, and a 60 s window.
	for _, r := range dd.Requests() {
		if r.APIKey != apiKey || r.AppKey != appKey || r.Status != 200 || r.Path != "/api/v1/query" || r.Query.Get("query") != query {
			t.Fatalf("request %s %s?%s answered %d (keys as in the Secret: %t)", r.Method, r.Path, r.Query.Encode(), r.Status, r.APIKey == apiKey && r.AppKey == appKey)
		}
	}
}
