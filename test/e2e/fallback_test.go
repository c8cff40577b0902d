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

// TestFallbackBehaviours: with the Redis password wrong in the Secret, the trigger fails and each
// fallback.behavior serves the metric that holds the target where KEDA's does (fallback replicas
// 3, the target at 4): static 3, currentReplicas 4, currentReplicasIfHigher 4,
// currentReplicasIfLower 3. Fixing the Secret recovers the trigger: Fallback turns False and
// ScaledObjectFallbackDeactivated is emitted.
func TestFallbackBehaviours(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	for _, c := range []struct {
		behavior string
		want     int32
	}{{"static", 3}, {"currentReplicas", 4}, {"currentReplicasIfHigher", 4}, {"currentReplicasIfLower", 3}} {
		t.Run(c.behavior, func(t *testing.T) {
			t.Parallel()
			ns := s.newNamespace(t, "fallback")
			secret := func(password string) string {
				return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: redis-secret\nstringData:\n  password: %s\n", password)
			}
			s.apply(t, ns, secret("not-the-password"))
			s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: redis-auth
spec:
  secretTargetRef:
    - parameter: password
      name: redis-secret
      key: password
`)
			s.apply(t, ns, deployment("worker", 4, nil))
			s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 3600
  maxReplicaCount: 6
  fallback:
    failureThreshold: 2
    replicas: 3
    behavior: %s
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 0
  triggers:
    - type: redis
      authenticationRef:
        name: redis-auth
      metadata:
        address: %s
        listName: fallback-%s
        listLength: "5"
`, c.behavior, s.redis.Addr, ns))
			eventually(t, 60*time.Second, "Fallback=True", func(ctx context.Context) (bool, string) {
				so, err := s.scaledObject(ctx, ns, "worker")
				if err != nil {
					return false, err.Error()
				}
				return so.Status.Conditions.IsTrue(kedav1alpha1.ConditionFallback), fmt.Sprintf("%+v", so.Status.Conditions)
			})
			if v := s.externalMetric(t, ns, "s0-redis-fallback-"+ns, "worker"); v != int64(c.want)*5 {
				t.Errorf("fallback metric = %d, want %d replicas x target 5", v, c.want)
			}
			s.waitReplicas(t, ns, "worker", c.want, 60*time.Second)

			s.apply(t, ns, secret(redisPassword))
			eventually(t, 60*time.Second, "Fallback=False after the Secret is fixed", func(ctx context.Context) (bool, string) {
				so, err := s.scaledObject(ctx, ns, "worker")
				if err != nil {
					return false, err.Error()
				}
				c := so.Status.Conditions.Get(kedav1alpha1.ConditionFallback)
				return c != nil && c.Status == "False", fmt.Sprintf("%+v", so.Status.Conditions)
			})
			s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledObjectFallbackDeactivated)
		})
	}
}
