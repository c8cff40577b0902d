package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	lokiserver "github.com/kedactl/kedactl/test/servers/loki"
)

// TestLokiScalesZeroToMaxToZero: a loki trigger on the Loki fake (multi-tenant, behind a gateway
// taking basic credentials), with the username and password from a Secret through a
// TriggerAuthentication and the tenant in metadata. A value at activationThreshold leaves the
// workers at 0; above it, 0 -> 1; a burst takes the real HPA to the maximum of 4; back to 0 once
// the errors stop, after the cooldown.
func TestLokiScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const (
		user     = "29384"
		password = "glc_e2e-loki-password"
		tenant   = "team-a"
		query    = `sum(count_over_time({app="checkout"} |= "retry" [1m]))`
	)
	loki := lokiserver.Start(t, lokiserver.Options{MultiTenant: true, Username: user, Password: password})
	loki.SetValue(tenant, query, 0)
	// Another tenant's logs never count.
	loki.SetValue("team-b", query, 500)

	ns := s.newNamespace(t, "loki")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: loki-secret
stringData:
  username: %q
  password: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: loki-auth
spec:
  secretTargetRef:
    - parameter: username
      name: loki-secret
      key: username
    - parameter: password
      name: loki-secret
      key: password
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
    - type: loki
      authenticationRef:
        name: loki-auth
      metadata:
        serverAddress: %s
        query: %q
        threshold: "5"
        activationThreshold: "2"
        tenantName: %s
        authModes: basic
`, user, password, loki.URL, query, tenant))

	const metric = "s0-loki"
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
	loki.SetValue(tenant, query, 2)
	polls := len(loki.Requests())
	eventually(t, 30*time.Second, "three polls that saw the value 2", func(context.Context) (bool, string) {
		n := len(loki.Requests()) - polls
		return n >= 3, fmt.Sprintf("%d polls", n)
	})
	if got, err := s.replicas(context.Background(), ns, "worker"); err != nil || got != 0 {
		t.Fatalf("a value at activationThreshold: %d replicas (%v), want 0", got, err)
	}
	if so, err := s.scaledObject(context.Background(), ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("a value at activationThreshold: the ScaledObject is active (%v)", err)
	}

	// Above it: 0 -> 1.
	loki.SetValue(tenant, query, 3)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metric, "worker"); v != 3 {
		t.Errorf("external metric %s = %d, want 3", metric, v)
	}

	// 60 / 5 per worker = 12 workers, more than the maximum of 4.
	loki.SetValue(tenant, query, 60)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 60 {
		t.Errorf("external metric %s = %d, want 60", metric, v)
	}

	// The retries stop: back to 0 after the cooldown.
	loki.SetValue(tenant, query, 0)
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")

	// Every request carried the tenant and the credentials from the Secret, and the query.
	for _, r := range loki.Requests() {
		if r.Tenant != tenant || r.Status != 200 || r.Path != "/loki/api/v1/query" || r.Query.Get("query") != query {
			t.Fatalf("request %s %s?%s (tenant %q) answered %d", r.Method, r.Path, r.Query.Encode(), r.Tenant, r.Status)
		}
	}
}
