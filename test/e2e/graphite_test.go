package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	graphiteserver "github.com/kedactl/kedactl/test/servers/graphite"
)

// TestGraphiteScalesZeroToMaxToZero: a graphite trigger reads a queue's length from Debian's
// Graphite, behind a proxy that requires basic auth, with the username and password from a
// Secret through a TriggerAuthentication. A point at the activation threshold leaves the workers
// at 0; above it they start; 40 jobs at 5 per worker take the real HPA to the maximum of 4; a
// point of 0 takes them back to 0 after the cooldown.
func TestGraphiteScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const user, password = "keda", "e2e-graphite-s3cret"
	g := graphiteserver.Start(t, graphiteserver.Options{Username: user, Password: password})
	const metric = "queue.orders.jobs"
	g.Put(t, metric, 1)

	ns := s.newNamespace(t, "graphite")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: graphite-secret
stringData:
  username: %q
  password: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: graphite-auth
spec:
  secretTargetRef:
    - parameter: username
      name: graphite-secret
      key: username
    - parameter: password
      name: graphite-secret
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
    - type: graphite
      authenticationRef:
        name: graphite-auth
      metadata:
        serverAddress: %s
        query: %s
        queryTime: -5min
        threshold: "5"
        activationThreshold: "1"
        authModes: basic
`, user, password, g.URL, metric))

	const metricName = "s0-graphite"
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metricName {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metricName)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].External == nil || hpa.Spec.Metrics[0].External.Metric.Name != metricName ||
		hpa.Spec.Metrics[0].External.Target.Type != autoscalingv2.AverageValueMetricType || hpa.Spec.Metrics[0].External.Target.AverageValue.Value() != 5 {
		t.Fatalf("HPA metrics = %+v, want %s with AverageValue 5", hpa.Spec.Metrics, metricName)
	}

	// At the activation threshold: the operator polls (through the proxy, so with the Secret's
	// credentials) and leaves the workers at 0.
	before := g.Served()
	eventually(t, 30*time.Second, "three polls with the credentials", func(context.Context) (bool, string) {
		n := g.Served() - before
		return n >= 3, fmt.Sprintf("%d polls", n)
	})
	if got, err := s.replicas(context.Background(), ns, "worker"); err != nil || got != 0 {
		t.Fatalf("a point at activationThreshold: %d replicas (%v), want 0", got, err)
	}
	if so, err := s.scaledObject(context.Background(), ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("a point at activationThreshold: the ScaledObject is active (%v)", err)
	}

	// Above it: 0 -> 1.
	g.Put(t, metric, 3)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metricName, "worker"); v != 3 {
		t.Errorf("external metric %s = %d, want 3", metricName, v)
	}

	// 40 jobs / 5 per worker = 8 workers, more than the maximum of 4.
	g.Put(t, metric, 40)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metricName, "worker"); v != 40 {
		t.Errorf("external metric %s = %d, want 40", metricName, v)
	}

	// The queue drains: back to 0 after the cooldown.
	g.Put(t, metric, 0)
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
}
