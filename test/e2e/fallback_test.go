package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

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
			// KEDA counts the served fallback as an active trigger, so lastActiveTime was kept fresh:
			// the recovered (empty) trigger waits out cooldownPeriod (3600) instead of deactivating.
			if n, err := s.replicas(context.Background(), ns, "worker"); err != nil || n == 0 {
				t.Errorf("replicas = %d (%v) right after the recovery, want the target kept for the cooldown", n, err)
			}
		})
	}
}

// TestFallbackFromZero: as KEDA's TestFallbackFromZero, a target at zero whose only trigger fails
// more than failureThreshold times goes to the fallback replicas: KEDA's scale loop counts a
// trigger whose fallback is served as active, so the target is activated and the HPA converges to
// fallback.replicas.
func TestFallbackFromZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "fallback")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 1
  maxReplicaCount: 5
  fallback:
    failureThreshold: 1
    replicas: 3
  triggers:
    - type: redis
      metadata:
        address: 127.0.0.1:1
        listName: jobs
        listLength: "5"
`)
	s.waitReplicas(t, ns, "worker", 3, 60*time.Second)
	so, err := s.scaledObject(context.Background(), ns, "worker")
	if err != nil {
		t.Fatal(err)
	}
	if h := so.Status.Health["s0-redis-jobs"]; h.NumberOfFailures == nil || *h.NumberOfFailures < 2 {
		t.Errorf("health = %+v, want more than failureThreshold (1) failures before the fallback", h)
	}
}

// TestFallbackValueTrigger: a Value trigger's fallback is target x fallback.replicas / the target's
// ready pods, as KEDA serves it, so the HPA (which multiplies the ratio by the ready pods)
// converges to fallback.replicas; failureThreshold 0 falls back at the first failure. At zero
// replicas there is no ready pod: no fallback value, and the target is not activated by it.
func TestFallbackValueTrigger(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	scaledObject := `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  maxReplicaCount: 6
  fallback:
    failureThreshold: 0
    replicas: 4
  triggers:
    - type: redis
      metricType: Value
      metadata:
        address: 127.0.0.1:1
        listName: jobs
        listLength: "5"
`
	t.Run("running", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "fallback")
		s.apply(t, ns, deployment("worker", 2, nil))
		s.apply(t, ns, scaledObject)
		s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
		// Once the 4 pods are ready the value is 5 x 4 / 4: the HPA stays at 4.
		eventually(t, 60*time.Second, "fallback value 5 with 4 ready pods", func(ctx context.Context) (bool, string) {
			v := s.externalMetric(t, ns, "s0-redis-jobs", "worker")
			return v == 5, fmt.Sprintf("value %d", v)
		})
	})
	t.Run("at zero", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "fallback")
		s.apply(t, ns, deployment("worker", 0, nil))
		s.apply(t, ns, scaledObject)
		eventually(t, 60*time.Second, "Fallback=True", func(ctx context.Context) (bool, string) {
			so, err := s.scaledObject(ctx, ns, "worker")
			if err != nil {
				return false, err.Error()
			}
			return so.Status.Conditions.IsTrue(kedav1alpha1.ConditionFallback), fmt.Sprintf("%+v", so.Status.Conditions)
		})
		// The poll that turned Fallback True was decided on before its status was written.
		if n, err := s.replicas(context.Background(), ns, "worker"); err != nil || n != 0 {
			t.Errorf("replicas = %d (%v), want 0: a Value fallback with no ready pod does not activate", n, err)
		}
		path := fmt.Sprintf("/apis/external.metrics.k8s.io/v1beta1/namespaces/%s/s0-redis-jobs", ns)
		_, err := s.env.Kube.CoreV1().RESTClient().Get().AbsPath(path).Param("labelSelector", kedav1alpha1.LabelScaledObjectName+"=worker").DoRaw(context.Background())
		// The aggregation layer passes on the 503, not its message (the unit tests check that).
		if !apierrors.IsServiceUnavailable(err) {
			t.Errorf("GET %s: %v, want 503: no fallback value without a ready pod", path, err)
		}
	})
}

// TestFallback is the main flow of KEDA's fallback scenario, for an AverageValue and a Value
// trigger: the source takes the target to its maximum (5), the source goes away and after
// failureThreshold (3) failures the target settles at fallback.replicas (3) and stays there, the
// source comes back and the target returns to 5. KEDA's other fallback cases are
// TestFallbackBehaviours (the four behaviors), TestFallbackFromZero and TestFallbackValueTrigger.
func TestFallback(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	for _, metricType := range []string{"AverageValue", "Value"} {
		t.Run(metricType, func(t *testing.T) {
			t.Parallel()
			api := startValueAPI(t, 0)
			ns := s.newNamespace(t, "fallback")
			s.apply(t, ns, deployment("worker", 0, nil))
			s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  minReplicaCount: 0
  maxReplicaCount: 5
  pollingInterval: 1
  cooldownPeriod: 1
  fallback:
    failureThreshold: 3
    replicas: 3
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 1
  triggers:
    - type: metrics-api
      metricType: %s
      metadata:
        url: %q
        valueLocation: value
        targetValue: "5"
`, metricType, api.URL))
			s.waitReady(t, ns, "worker", "True")
			api.Set(50)
			s.waitReplicas(t, ns, "worker", 5, 90*time.Second)

			api.SetDown(true)
			s.waitReplicas(t, ns, "worker", 3, 90*time.Second)
			// KEDA checks the fallback count is stable (kedacore/keda#4249).
			s.holdReplicas(t, ns, "worker", 3, 15*time.Second)
			so, err := s.scaledObject(context.Background(), ns, "worker")
			if err != nil {
				t.Fatal(err)
			}
			if !so.Status.Conditions.IsTrue(kedav1alpha1.ConditionFallback) {
				t.Errorf("Fallback condition = %+v, want True", so.Status.Conditions.Get(kedav1alpha1.ConditionFallback))
			}

			api.SetDown(false)
			s.waitReplicas(t, ns, "worker", 5, 90*time.Second)
		})
	}
}
