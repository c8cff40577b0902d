package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestFallbackConvergesToFallbackReplicas: a trigger whose source is down fails failureThreshold
// times; the metric served to the HPA then makes it converge to fallback.replicas, the Fallback
// condition turns True and ScaledObjectFallbackActivated is emitted.
func TestFallbackConvergesToFallbackReplicas(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "fallback")
	s.apply(t, ns, deployment("worker", 1, nil))
	s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  maxReplicaCount: 5
  fallback:
    failureThreshold: 3
    replicas: 3
  triggers:
    - type: redis
      metadata:
        address: 127.0.0.1:1
        listName: jobs
`)
	s.waitReplicas(t, ns, "worker", 3, 60*time.Second)
	eventually(t, 20*time.Second, "Fallback=True", func(ctx context.Context) (bool, string) {
		so, err := s.scaledObject(ctx, ns, "worker")
		if err != nil {
			return false, err.Error()
		}
		return so.Status.Conditions.IsTrue(kedav1alpha1.ConditionFallback), fmt.Sprintf("%+v", so.Status.Conditions)
	})
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledObjectFallbackActivated)
	if v := s.externalMetric(t, ns, "s0-redis-jobs", "worker"); v != 15 {
		t.Errorf("fallback metric = %d, want 3 replicas x target 5 = 15", v)
	}
}
