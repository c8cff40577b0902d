package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestPauseHoldsReplicasAndResumeRestores: `kubectl keda pause` freezes the target (the HPA goes
// away), `pause --replicas N` scales to N and holds it, `resume` brings the HPA and scaling back.
func TestPauseHoldsReplicasAndResumeRestores(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "pause")
	list := "pause-" + ns
	rc := s.redis.Client()
	defer rc.Close()
	ctx := context.Background()
	if err := rc.RPush(ctx, list, "1", "2", "3", "4").Err(); err != nil {
		t.Fatal(err)
	}
	s.apply(t, ns, deployment("worker", 0, map[string]string{"REDIS_PASSWORD": redisPassword}))
	s.apply(t, ns, s.redisScaledObject("worker", list, "  cooldownPeriod: 300\n  maxReplicaCount: 3\n"))
	s.waitReplicas(t, ns, "worker", 2, 40*time.Second)

	if _, errOut, err := s.kubectlKeda(t, "pause", "worker", "-n", ns); err != nil {
		t.Fatalf("pause: %v %s", err, errOut)
	}
	s.waitGone(t, "HPA keda-hpa-worker while paused", func(ctx context.Context) error {
		_, err := s.hpa(ctx, ns, "keda-hpa-worker")
		return err
	})
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledObjectPaused)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScalersStopped, "Stopped scalers watch")
	if err := rc.RPush(ctx, list, "5", "6", "7", "8", "9", "10").Err(); err != nil {
		t.Fatal(err)
	}
	s.holdReplicas(t, ns, "worker", 2, 5*time.Second)
	so, _ := s.scaledObject(ctx, ns, "worker")
	if c := so.Status.Conditions.Get(kedav1alpha1.ConditionPaused); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Paused condition = %+v", c)
	}

	if _, errOut, err := s.kubectlKeda(t, "pause", "worker", "-n", ns, "--replicas", "0"); err != nil {
		t.Fatalf("pause --replicas 0: %v %s", err, errOut)
	}
	s.waitReplicas(t, ns, "worker", 0, 20*time.Second)
	s.holdReplicas(t, ns, "worker", 0, 4*time.Second)
	eventually(t, 10*time.Second, "status.pausedReplicaCount 0", func(ctx context.Context) (bool, string) {
		so, err := s.scaledObject(ctx, ns, "worker")
		if err != nil {
			return false, err.Error()
		}
		return so.Status.PausedReplicaCount != nil && *so.Status.PausedReplicaCount == 0, fmt.Sprint(so.Status.PausedReplicaCount)
	})

	if _, errOut, err := s.kubectlKeda(t, "resume", "worker", "-n", ns); err != nil {
		t.Fatalf("resume: %v %s", err, errOut)
	}
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledObjectUnpaused)
	eventually(t, 20*time.Second, "the HPA to come back", func(ctx context.Context) (bool, string) {
		_, err := s.hpa(ctx, ns, "keda-hpa-worker")
		return err == nil, fmt.Sprint(err)
	})
	s.waitReplicas(t, ns, "worker", 3, 60*time.Second)
	so, _ = s.scaledObject(ctx, ns, "worker")
	if so.Status.PausedReplicaCount != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionPaused) {
		t.Errorf("after resume: pausedReplicaCount=%v paused=%+v", so.Status.PausedReplicaCount, so.Status.Conditions.Get(kedav1alpha1.ConditionPaused))
	}
}
