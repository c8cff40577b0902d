package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// redisScaledObject is a ScaledObject on the shared Redis list, polled every second; spec holds
// extra spec fields, indented by two spaces.
func (s *suite) redisScaledObject(name, list, spec string) string {
	return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: %s
spec:
  scaleTargetRef:
    name: %s
  pollingInterval: 1
%s  triggers:
    - type: redis
      metadata:
        address: %s
        passwordFromEnv: REDIS_PASSWORD
        listName: %s
        listLength: "2"
`, name, name, spec, s.redis.Addr, list)
}

// TestMinReplicaCountAboveZeroIsNeverDeactivated: a target whose minReplicaCount is above zero is
// brought up to it and kept there with an empty source, whatever the cooldown.
func TestMinReplicaCountAboveZeroIsNeverDeactivated(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "min")
	s.apply(t, ns, deployment("min", 0, map[string]string{"REDIS_PASSWORD": redisPassword}))
	s.apply(t, ns, s.redisScaledObject("min", "min-"+ns, "  cooldownPeriod: 1\n  minReplicaCount: 1\n  maxReplicaCount: 3\n"))
	s.waitReplicas(t, ns, "min", 1, 30*time.Second)
	s.holdReplicas(t, ns, "min", 1, 5*time.Second)
}

// TestIdleReplicas is KEDA's idle_replicas: with idleReplicaCount 0 and minReplicaCount 2, an
// inactive target goes to 0 (here from 3), an active one to at least 2 and on to what the source
// asks (4), and back to 0 when the source drains.
func TestIdleReplicas(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "idle")
	s.apply(t, ns, deployment("monitored", 0, nil))
	s.apply(t, ns, deployment("worker", 3, nil))
	s.apply(t, ns, workloadScaledObject("worker", "monitored", "", "  idleReplicaCount: 0\n  minReplicaCount: 2\n  maxReplicaCount: 4\n  cooldownPeriod: 2\n"))
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
	s.scaleDeployment(t, ns, "monitored", 2)
	s.waitReplicas(t, ns, "worker", 2, 60*time.Second)
	s.scaleDeployment(t, ns, "monitored", 4)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	s.scaleDeployment(t, ns, "monitored", 0)
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
}

// TestInitialDelayCooldownperiod is KEDA's initial_delay_cooldownperiod: a new ScaledObject whose
// source is empty leaves its target at 1 replica for initialCooldownPeriod (15 s here, 120 s in
// KEDA's), then deactivates it after cooldownPeriod.
func TestInitialDelayCooldownperiod(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "initial")
	s.apply(t, ns, deployment("worker", 1, nil))
	s.apply(t, ns, workloadScaledObject("worker", "no-matches", "", "  minReplicaCount: 0\n  cooldownPeriod: 1\n  initialCooldownPeriod: 15\n"))
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	created := so.CreationTimestamp.Time
	// The creation timestamp has whole seconds: hold until 13 s after it at most.
	if d := time.Until(created.Add(13 * time.Second)); d > 0 {
		s.holdReplicas(t, ns, "worker", 1, d)
	}
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
	if took := time.Since(created); took < 14*time.Second {
		t.Errorf("deactivated %s after creation, before initialCooldownPeriod 15s", took)
	}
}

// TestForceActivation is KEDA's force_activation: a target at its idle count (0, the source
// empty) goes to minReplicaCount (2) when autoscaling.keda.sh/force-activation is set on the
// running ScaledObject, and back to 0 when it is removed.
func TestForceActivation(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "force")
	s.apply(t, ns, deployment("monitored", 0, nil))
	s.apply(t, ns, deployment("worker", 2, nil))
	s.apply(t, ns, workloadScaledObject("worker", "monitored", "", "  idleReplicaCount: 0\n  minReplicaCount: 2\n  maxReplicaCount: 5\n  cooldownPeriod: 0\n"))
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)

	s.annotate(t, ns, "worker", map[string]*string{kedav1alpha1.AnnotationForceActivation: set("true")})
	s.waitReplicas(t, ns, "worker", 2, 60*time.Second)
	s.holdReplicas(t, ns, "worker", 2, 5*time.Second)

	s.annotate(t, ns, "worker", map[string]*string{kedav1alpha1.AnnotationForceActivation: unset})
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
}

// TestRestoreOriginal is KEDA's restore_original: with advanced.restoreToOriginalReplicaCount the
// target's replica count before the ScaledObject (2, kept in status.originalReplicaCount) comes
// back when the ScaledObject is deleted, after it was scaled to 4.
func TestRestoreOriginal(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	ns := s.newNamespace(t, "restore")
	s.apply(t, ns, deployment("monitored", 4, nil))
	s.apply(t, ns, deployment("worker", 2, nil))
	s.apply(t, ns, workloadScaledObject("worker", "monitored", "",
		"  idleReplicaCount: 0\n  minReplicaCount: 2\n  maxReplicaCount: 4\n  cooldownPeriod: 10\n  advanced:\n    restoreToOriginalReplicaCount: true\n"))
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	so, err := s.scaledObject(ctx, ns, "worker")
	if err != nil {
		t.Fatal(err)
	}
	if so.Status.OriginalReplicaCount == nil || *so.Status.OriginalReplicaCount != 2 {
		t.Errorf("status.originalReplicaCount = %v, want 2", so.Status.OriginalReplicaCount)
	}
	if err := s.env.Client.Delete(ctx, so); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 2, 60*time.Second)
}
