package e2e

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// journey is the path every scaler's e2e test walks with the ScaledObject worker on its
// Deployment worker (maxReplicaCount 4, cooldownPeriod 5, a target of 2 per replica): Ready with
// metric as its only external metric and an HPA built on it; nothing waiting holds it at zero; one
// item activates it; a backlog of 20 makes the real HPA scale it to 4; drained, it returns to zero
// after the cooldown.
type journey struct {
	metric string
	// fill makes the source hold total items (1, then 20).
	fill func(total int)
	// drain empties the source.
	drain func()
	// activateWithin bounds the first activation (some sources show a new item late).
	activateWithin time.Duration
	// slack is what the cooldown check allows beyond cooldownPeriod (poll and source delays).
	slack time.Duration
}

func (s *suite) walkZeroToMaxToZero(t *testing.T, ns string, j journey) {
	t.Helper()
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != j.metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, j.metric)
	}
	if got := so.Labels[kedav1alpha1.LabelScaledObjectName]; got != "worker" {
		t.Errorf("label %s = %q, want the ScaledObject's name, as KEDA sets it", kedav1alpha1.LabelScaledObjectName, got)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	checkHPA(t, hpa, j.metric)

	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)

	j.fill(1)
	if j.activateWithin == 0 {
		j.activateWithin = 20 * time.Second
	}
	s.waitReplicas(t, ns, "worker", 1, j.activateWithin)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, j.metric, "worker"); v != 1 {
		t.Errorf("external metric %s = %d, want 1", j.metric, v)
	}

	// 20 items / 2 per replica = 10 replicas, more than the maximum of 4.
	j.fill(20)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, j.metric, "worker"); v != 20 {
		t.Errorf("external metric %s = %d, want 20", j.metric, v)
	}

	j.drain()
	drained := time.Now()
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	checkCooldown(t, drained, 5*time.Second, j.slack)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
}
