package e2e

import (
	"fmt"
	"testing"
	"time"
)

// TestCronWindowScalesUpAndDown uses a one-minute cron window that starts at the current minute:
// the target goes to desiredReplicas inside it and back to zero after it and the cooldown.
func TestCronWindowScalesUpAndDown(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "cron")
	now := time.Now().UTC()
	if now.Second() > 45 {
		// Too close to the minute's end to see the window open: start in the next one.
		time.Sleep(time.Duration(61-now.Second()) * time.Second)
		now = time.Now().UTC()
	}
	start := now.Minute()
	end := (start + 1) % 60
	s.apply(t, ns, deployment("cron-worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: cron-worker
spec:
  scaleTargetRef:
    name: cron-worker
  pollingInterval: 1
  cooldownPeriod: 2
  maxReplicaCount: 5
  triggers:
    - type: cron
      metadata:
        timezone: Etc/UTC
        start: %d * * * *
        end: %d * * * *
        desiredReplicas: "3"
`, start, end))
	s.waitReplicas(t, ns, "cron-worker", 3, 45*time.Second)
	s.waitReplicas(t, ns, "cron-worker", 0, 100*time.Second)
}
