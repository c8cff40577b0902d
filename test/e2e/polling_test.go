package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// apiScaledObject is a ScaledObject on a metrics-api source as KEDA's polling, replica and
// trigger scenarios write it; spec holds the spec lines between scaleTargetRef and triggers
// (indented two spaces).
func apiScaledObject(api *valueAPI, target, spec string) string {
	return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
%s  triggers:
%s`, spec, api.trigger("", "        targetValue: \""+target+"\"\n"))
}

// TestPollingCooldownSo is KEDA's polling_cooldown_so: with a long pollingInterval (30 s here, 75
// in KEDA's) a change of the source is not acted on before the next poll, going up (0 -> 1) and
// going down (1 -> 0, cooldownPeriod 0; with useCachedMetrics, see below); with a long cooldownPeriod (15 s here, 75 in KEDA's) a
// drained source leaves the target up until the cooldown has passed.
func TestPollingCooldownSo(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	spec := func(polling, cooldown int) string {
		return fmt.Sprintf("  pollingInterval: %d\n  cooldownPeriod: %d\n  minReplicaCount: 0\n  maxReplicaCount: 1\n  advanced:\n    horizontalPodAutoscalerConfig:\n      name: polling-hpa\n", polling, cooldown)
	}

	t.Run("pollingInterval going up", func(t *testing.T) {
		t.Parallel()
		api := startValueAPI(t, 0)
		ns := s.newNamespace(t, "polling")
		s.apply(t, ns, deployment("worker", 0, nil))
		s.apply(t, ns, apiScaledObject(api, "1", spec(30, 0)))
		// The HPA is there once the ScaledObject is reconciled and its first poll made.
		s.waitHPA(t, ns, "polling-hpa", true)
		s.waitReady(t, ns, "worker", metav1.ConditionTrue)
		api.Set(1)
		s.holdReplicas(t, ns, "worker", 0, 12*time.Second)
		s.waitReplicas(t, ns, "worker", 1, 60*time.Second)
	})

	t.Run("pollingInterval going down", func(t *testing.T) {
		t.Parallel()
		api := startValueAPI(t, 1)
		ns := s.newNamespace(t, "polling")
		// Without useCachedMetrics each HPA request (every 2 s here) reads the source and counts
		// as the trigger's poll (README, useCachedMetrics), so a drained source deactivates the
		// target at the next HPA request, not at the next pollingInterval as in KEDA
		// (KEDA_SCENARIOS.md). With the cache only the scheduled polls read the source, as KEDA's.
		cached := func(doc string) string {
			return strings.Replace(doc, "    - type: metrics-api\n", "    - type: metrics-api\n      useCachedMetrics: true\n", 1)
		}
		s.apply(t, ns, deployment("worker", 0, nil))
		s.apply(t, ns, cached(apiScaledObject(api, "1", spec(1, 0))))
		s.waitReplicas(t, ns, "worker", 1, 60*time.Second)
		// The spec change restarts the trigger's polling: its first poll still sees 1.
		s.apply(t, ns, cached(apiScaledObject(api, "1", spec(30, 0))))
		s.waitHPA(t, ns, "polling-hpa", true)
		time.Sleep(3 * time.Second)
		api.Set(0)
		s.holdReplicas(t, ns, "worker", 1, 12*time.Second)
		s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
	})

	t.Run("cooldownPeriod", func(t *testing.T) {
		t.Parallel()
		api := startValueAPI(t, 1)
		ns := s.newNamespace(t, "cooldown")
		s.apply(t, ns, deployment("worker", 0, nil))
		s.apply(t, ns, apiScaledObject(api, "1", spec(1, 15)))
		s.waitReplicas(t, ns, "worker", 1, 60*time.Second)
		api.Set(0)
		drained := time.Now()
		s.holdReplicas(t, ns, "worker", 1, 10*time.Second)
		s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
		checkCooldown(t, drained, 15*time.Second, time.Second)
	})
}

// TestReplicaUpdateSo is KEDA's replica_update_so: editing maxReplicaCount of a running
// ScaledObject moves a target held at its maximum up (5 -> 15) and down (15 -> 5), and editing
// minReplicaCount moves a target with an empty source up from zero (0 -> 5) and back (5 -> 0).
func TestReplicaUpdateSo(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	spec := func(min, max int) string {
		return fmt.Sprintf("  pollingInterval: 1\n  cooldownPeriod: 1\n  minReplicaCount: %d\n  maxReplicaCount: %d\n  advanced:\n    horizontalPodAutoscalerConfig:\n      behavior:\n        scaleDown:\n          stabilizationWindowSeconds: 0\n", min, max)
	}
	t.Run("maxReplicaCount", func(t *testing.T) {
		t.Parallel()
		api := startValueAPI(t, 100)
		ns := s.newNamespace(t, "replicaupdate")
		s.apply(t, ns, deployment("worker", 0, nil))
		s.apply(t, ns, apiScaledObject(api, "2", spec(0, 5)))
		s.waitReplicas(t, ns, "worker", 5, 90*time.Second)
		s.apply(t, ns, apiScaledObject(api, "2", spec(0, 15)))
		s.waitReplicas(t, ns, "worker", 15, 90*time.Second)
		s.apply(t, ns, apiScaledObject(api, "2", spec(0, 5)))
		s.waitReplicas(t, ns, "worker", 5, 90*time.Second)
	})
	t.Run("minReplicaCount", func(t *testing.T) {
		t.Parallel()
		api := startValueAPI(t, 0)
		ns := s.newNamespace(t, "replicaupdate")
		s.apply(t, ns, deployment("worker", 0, nil))
		s.apply(t, ns, apiScaledObject(api, "2", spec(0, 5)))
		s.waitReady(t, ns, "worker", metav1.ConditionTrue)
		s.holdReplicas(t, ns, "worker", 0, 3*time.Second)
		s.apply(t, ns, apiScaledObject(api, "2", spec(5, 5)))
		s.waitReplicas(t, ns, "worker", 5, 90*time.Second)
		s.apply(t, ns, apiScaledObject(api, "2", spec(0, 5)))
		s.waitReplicas(t, ns, "worker", 0, 90*time.Second)
	})
}
