package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	redisserver "github.com/kedactl/kedactl/test/servers/redis"
)

// TestManualScaleIsNotFoughtBeforeTheNextPoll: activation acts on a new sample, as KEDA acts only
// in its polling loop. Scaling an active target to zero by hand right after a poll holds until the
// next poll, which reads the source again and activates it.
func TestManualScaleIsNotFoughtBeforeTheNextPoll(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	src := redisserver.Start(t, redisserver.Options{})
	rc := src.Client()
	t.Cleanup(func() { _ = rc.Close() })
	ctx := context.Background()
	ns := s.newNamespace(t, "manual")
	s.apply(t, ns, deployment("worker", 0, nil))
	// Long enough that the hold below ends well before the next poll, even on a loaded machine.
	const interval = 30 * time.Second
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: %d
  cooldownPeriod: 300
  maxReplicaCount: 3
  triggers:
    - type: redis
      useCachedMetrics: true
      metadata:
        address: %s
        listName: jobs
        listLength: "5"
`, int(interval.Seconds()), src.Addr))
	if err := rc.RPush(ctx, "jobs", "1").Err(); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 1, 60*time.Second)

	// Scale to zero just after a poll (its LLEN seen at the source), so that the next one is a
	// whole interval away.
	llens := func() int {
		info, err := rc.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		return commandCalls(info, "llen")
	}
	before := llens()
	eventually(t, 2*interval, "a poll of the source", func(context.Context) (bool, string) {
		n := llens()
		return n > before, fmt.Sprintf("%d LLEN", n)
	})
	s.scaleDeployment(t, ns, "worker", 0)
	s.holdReplicas(t, ns, "worker", 0, interval/3)
	// The next poll still sees the list's item: the target is active again.
	s.waitReplicas(t, ns, "worker", 1, 2*interval)
}
