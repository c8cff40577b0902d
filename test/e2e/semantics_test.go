package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
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

// TestActivationSemantics covers how the operator moves a target between zero (or idle) and min:
// idleReplicaCount, minReplicaCount above zero, initialCooldownPeriod and
// advanced.restoreToOriginalReplicaCount.
func TestActivationSemantics(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	env := map[string]string{"REDIS_PASSWORD": redisPassword}
	rc := s.redis.Client()
	// Subtests run in parallel after this function returns: close the client when they are done.
	t.Cleanup(func() { _ = rc.Close() })
	ctx := context.Background()

	t.Run("idleReplicaCount: inactive goes to idle, active to min", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "idle")
		list := "idle-" + ns
		s.apply(t, ns, deployment("idle", 3, env))
		s.apply(t, ns, s.redisScaledObject("idle", list, "  cooldownPeriod: 2\n  idleReplicaCount: 0\n  minReplicaCount: 2\n  maxReplicaCount: 4\n"))
		s.waitReplicas(t, ns, "idle", 0, 30*time.Second)
		if err := rc.RPush(ctx, list, "a").Err(); err != nil {
			t.Fatal(err)
		}
		s.waitReplicas(t, ns, "idle", 2, 30*time.Second)
		if err := rc.Del(ctx, list).Err(); err != nil {
			t.Fatal(err)
		}
		s.waitReplicas(t, ns, "idle", 0, 30*time.Second)
	})

	t.Run("minReplicaCount above zero is never deactivated", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "min")
		s.apply(t, ns, deployment("min", 0, env))
		s.apply(t, ns, s.redisScaledObject("min", "min-"+ns, "  cooldownPeriod: 1\n  minReplicaCount: 1\n  maxReplicaCount: 3\n"))
		s.waitReplicas(t, ns, "min", 1, 30*time.Second)
		s.holdReplicas(t, ns, "min", 1, 5*time.Second)
	})

	t.Run("initialCooldownPeriod holds a new object up", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "initial")
		s.apply(t, ns, deployment("initial", 2, env))
		s.apply(t, ns, s.redisScaledObject("initial", "initial-"+ns, "  cooldownPeriod: 1\n  initialCooldownPeriod: 10\n"))
		s.waitReady(t, ns, "initial", "True")
		so, err := s.scaledObject(ctx, ns, "initial")
		if err != nil {
			t.Fatal(err)
		}
		created := so.CreationTimestamp.Time
		s.waitReplicas(t, ns, "initial", 0, 40*time.Second)
		if took := time.Since(created); took < 9*time.Second {
			t.Errorf("deactivated %s after creation, before initialCooldownPeriod 10s", took)
		}
	})

	t.Run("force-activation keeps an idle target up", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "force")
		s.apply(t, ns, deployment("force", 0, env))
		doc := s.redisScaledObject("force", "force-"+ns, "  cooldownPeriod: 1\n")
		doc = strings.Replace(doc, "metadata:\n  name: force\n", "metadata:\n  name: force\n  annotations:\n    autoscaling.keda.sh/force-activation: \"true\"\n", 1)
		s.apply(t, ns, doc)
		s.waitReplicas(t, ns, "force", 1, 30*time.Second)
		s.holdReplicas(t, ns, "force", 1, 4*time.Second)
	})

	t.Run("restoreToOriginalReplicaCount on deletion", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "restore")
		s.apply(t, ns, deployment("restore", 3, env))
		s.apply(t, ns, s.redisScaledObject("restore", "restore-"+ns, "  cooldownPeriod: 1\n  advanced:\n    restoreToOriginalReplicaCount: true\n"))
		s.waitReplicas(t, ns, "restore", 0, 30*time.Second)
		so, err := s.scaledObject(ctx, ns, "restore")
		if err != nil {
			t.Fatal(err)
		}
		if so.Status.OriginalReplicaCount == nil || *so.Status.OriginalReplicaCount != 3 {
			t.Fatalf("status.originalReplicaCount = %v, want 3", so.Status.OriginalReplicaCount)
		}
		if err := s.env.Client.Delete(ctx, so); err != nil {
			t.Fatal(err)
		}
		s.waitReplicas(t, ns, "restore", 3, 30*time.Second)
	})
}
