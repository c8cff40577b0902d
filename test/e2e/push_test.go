package e2e

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The push tests use a pollingInterval of 300s: a target at zero replicas is activated only by the
// engine's own polls (the HPA does not read metrics of a target at zero), so scaling within
// pushDeadline, long before the next poll, shows that the trigger's source pushed.
const (
	pushPollingInterval = 300
	pushDeadline        = 30 * time.Second
)

// TestPushKubernetesWorkload: the kubernetes-workload trigger pushes when a matching pod appears
// or goes (the operator's pod informer tells it), so the worker goes 0 -> 1 -> 0 without waiting
// for a poll.
func TestPushKubernetesWorkload(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "push-workload")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, labelledDeployment("producer", 0, "app: producer"))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: %d
  cooldownPeriod: 2
  maxReplicaCount: 4
  triggers:
    - type: kubernetes-workload
      metadata:
        podSelector: app=producer
        value: "1"
`, pushPollingInterval))
	s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)

	s.scaleDeployment(t, ns, "producer", 1)
	s.waitReplicas(t, ns, "worker", 1, pushDeadline)
	s.scaleDeployment(t, ns, "producer", 0)
	s.waitReplicas(t, ns, "worker", 0, pushDeadline)
}

// TestPushCronBoundary: a cron window that opens at a minute boundary a little ahead scales the
// target at the boundary (the trigger pushes then), not a pollingInterval later; before the
// boundary the target stays at zero.
func TestPushCronBoundary(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "push-cron")
	now := time.Now().UTC()
	start := now.Truncate(time.Minute).Add(time.Minute)
	if start.Sub(now) < 20*time.Second {
		// Leave time to register the ScaledObject before the window opens, so that the first poll
		// sees it closed and only the push at the boundary can open it.
		start = start.Add(time.Minute)
	}
	end := start.Add(time.Minute)
	s.apply(t, ns, deployment("cron-worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: cron-worker
spec:
  scaleTargetRef:
    name: cron-worker
  pollingInterval: %d
  cooldownPeriod: 2
  maxReplicaCount: 5
  triggers:
    - type: cron
      metadata:
        timezone: Etc/UTC
        start: %d * * * *
        end: %d * * * *
        desiredReplicas: "3"
`, pushPollingInterval, start.Minute(), end.Minute()))
	s.waitReady(t, ns, "cron-worker", metav1.ConditionTrue)
	s.holdReplicas(t, ns, "cron-worker", 0, time.Until(start)-2*time.Second)
	s.waitReplicas(t, ns, "cron-worker", 3, time.Until(start)+pushDeadline)
	t.Logf("scaled to 3 at %s, %s after the window opened", time.Now().UTC().Format(time.TimeOnly), time.Since(start).Round(time.Second))
	s.waitReplicas(t, ns, "cron-worker", 0, time.Until(end)+pushDeadline)
}
