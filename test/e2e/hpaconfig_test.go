package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kedactl/kedactl/api/v1alpha1"
)

// TestHPAConfigAndStatusFields: advanced.horizontalPodAutoscalerConfig names the HPA and its
// behavior reaches the HPA unchanged; the ScaledObject's labels are copied to the HPA except
// those listed in scaledobject.keda.sh/hpa-excluded-labels; status carries hpaName,
// triggersTypes, authenticationsTypes and triggersActivity as KEDA writes them, and the activation
// event names the trigger by its name.
func TestHPAConfigAndStatusFields(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "hpaconfig")
	list := "hpaconfig-" + ns
	s.redisAuthentications(t, ns, "hpaconfig-"+ns)
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
  labels:
    team: payments
    internal-only: "yes"
  annotations:
    scaledobject.keda.sh/hpa-excluded-labels: internal-only
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  advanced:
    horizontalPodAutoscalerConfig:
      name: worker-autoscaler
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 17
          policies:
            - type: Pods
              value: 2
              periodSeconds: 11
  triggers:
    - type: redis
      name: backlog
      authenticationRef:
        name: redis-auth
      metadata:
        address: %[1]s
        listName: %[2]s
    - type: cron
      metadata:
        timezone: Etc/UTC
        start: 0 0 1 1 *
        end: 0 1 1 1 *
        desiredReplicas: "1"
`, s.redis.Addr, list))
	rc := s.redis.Client()
	defer rc.Close()
	if err := rc.RPush(context.Background(), list, "a").Err(); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)

	eventually(t, 30*time.Second, "HPA worker-autoscaler as configured", func(ctx context.Context) (bool, string) {
		hpa, err := s.hpa(ctx, ns, "worker-autoscaler")
		if err != nil {
			return false, err.Error()
		}
		b := hpa.Spec.Behavior
		ok := b != nil && b.ScaleDown != nil && b.ScaleDown.StabilizationWindowSeconds != nil && *b.ScaleDown.StabilizationWindowSeconds == 17 &&
			len(b.ScaleDown.Policies) == 1 && b.ScaleDown.Policies[0].Value == 2 && b.ScaleDown.Policies[0].PeriodSeconds == 11
		_, excluded := hpa.Labels["internal-only"]
		return ok && hpa.Labels["team"] == "payments" && !excluded, fmt.Sprintf("behavior %+v labels %v", b, hpa.Labels)
	})
	if _, err := s.hpa(context.Background(), ns, "keda-hpa-worker"); err == nil {
		t.Error("the default HPA name keda-hpa-worker exists next to the configured one")
	}
	eventually(t, 30*time.Second, "status fields", func(ctx context.Context) (bool, string) {
		so, err := s.scaledObject(ctx, ns, "worker")
		if err != nil {
			return false, err.Error()
		}
		types, auths := "", ""
		if so.Status.TriggersTypes != nil {
			types = *so.Status.TriggersTypes
		}
		auths = so.Status.AuthenticationsTypes
		activity := so.Status.TriggersActivity["s0-redis-"+list]
		got := fmt.Sprintf("hpaName=%s triggersTypes=%s authenticationsTypes=%s activity=%+v", so.Status.HpaName, types, auths, so.Status.TriggersActivity)
		return so.Status.HpaName == "worker-autoscaler" && types == "redis,cron" && auths == "redis-auth" && activity.IsActive &&
			len(so.Status.TriggersActivity) == 2, got
	})
	// The activation event names the trigger by its name.
	s.waitEvent(t, ns, "worker", v1alpha1.EventKEDAScaleTargetActivated, "triggered by backlog")
}
