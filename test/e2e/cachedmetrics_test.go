package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	redisserver "github.com/kedactl/kedactl/test/servers/redis"
)

// TestCacheMetrics is KEDA's cache_metrics: a trigger with useCachedMetrics answers the HPA from
// the last poll, one without it with a read of the source at each request.
//
// As KEDA's scenario, with a pollingInterval of 1000 s: the source going from 8 to 4 (target 2)
// takes the target from 4 to 2 replicas without the cache, and leaves it at 4 with it. The source
// is a metrics-api server: a kubernetes-workload trigger, which KEDA's scenario uses, pushes a new
// poll on every pod change here (README, "Push activation"), which refreshes the cache too.
//
// Beyond KEDA's scenario, the source's own count of reads: with the cache it is read once per
// pollingInterval; without it, the read at each HPA request counts as the trigger's poll, so the
// source sees no more queries than KEDA's (its polls plus one per HPA request). Each case uses a
// Redis of its own so that its LLEN count is the trigger's alone.
func TestCacheMetrics(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("replicas, useCachedMetrics=%v", cached), func(t *testing.T) {
			t.Parallel()
			api := startValueAPI(t, 8)
			ns := s.newNamespace(t, "cachereplicas")
			s.apply(t, ns, deployment("worker", 1, nil))
			s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1000
  minReplicaCount: 0
  maxReplicaCount: 10
  cooldownPeriod: 0
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 1
  triggers:
    - type: metrics-api
      useCachedMetrics: %v
      metadata:
        url: %q
        valueLocation: value
        targetValue: "2"
`, cached, api.URL))
			// 8 against a target of 2: 4 replicas, whatever the current count.
			s.waitReplicas(t, ns, "worker", 4, 90*time.Second)
			api.Set(4)
			if cached {
				// The next poll is 1000 s away: the HPA keeps being served 8.
				s.holdReplicas(t, ns, "worker", 4, 20*time.Second)
				return
			}
			s.waitReplicas(t, ns, "worker", 2, 90*time.Second)
		})
		t.Run(fmt.Sprintf("source reads, useCachedMetrics=%v", cached), func(t *testing.T) {
			t.Parallel()
			src := redisserver.Start(t, redisserver.Options{})
			rc := src.Client()
			t.Cleanup(func() { _ = rc.Close() })
			ctx := context.Background()
			ns := s.newNamespace(t, "cached")
			s.apply(t, ns, deployment("worker", 0, nil))
			s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 6
  maxReplicaCount: 5
  triggers:
    - type: redis
      useCachedMetrics: %v
      metadata:
        address: %s
        listName: jobs
        listLength: "2"
`, cached, src.Addr))
			if err := rc.RPush(ctx, "jobs", "1", "2", "3", "4").Err(); err != nil {
				t.Fatal(err)
			}
			s.waitReplicas(t, ns, "worker", 2, 60*time.Second)

			// The HPA asks for the metric every HPA sync (2s here): count its successful reads of
			// the metric and the scaler's LLENs over the same window.
			llens := func() int {
				t.Helper()
				info, err := rc.Info(ctx, "commandstats").Result()
				if err != nil {
					t.Fatal(err)
				}
				return commandCalls(info, "llen")
			}
			before := llens()
			window := 24 * time.Second
			serving := 0
			deadline := time.Now().Add(window)
			for time.Now().Before(deadline) {
				if hpa, err := s.hpa(ctx, ns, "keda-hpa-worker"); err == nil && len(hpa.Status.CurrentMetrics) > 0 {
					serving++
				}
				time.Sleep(2 * time.Second)
			}
			polls := llens() - before
			t.Logf("useCachedMetrics=%v: %d LLEN in %s with pollingInterval 6s; the HPA showed a current value at %d of 12 checks", cached, polls, window, serving)
			if serving < 10 {
				t.Errorf("the HPA showed a current value at only %d of 12 checks: it was not reading the metric throughout", serving)
			}
			if polls < 2 {
				t.Errorf("the source was read %d times in %s: the trigger is not being polled", polls, window)
			}
			if cached {
				// One poll per 6s is 4 in the window, plus one at each edge.
				if polls > 6 {
					t.Errorf("the source was read %d times in %s: the HPA's requests reached it (want at most 6, one per pollingInterval)", polls, window)
				}
				if v := s.externalMetric(t, ns, "s0-redis-jobs", "worker"); v != 4 {
					t.Errorf("the metric served is %d, want 4", v)
				}
				return
			}
			// KEDA would have polled 4 times and read once per HPA sync (12): never more than that.
			if polls > 4+12 {
				t.Errorf("the source was read %d times in %s: more than KEDA's polls plus one read per HPA request (16)", polls, window)
			}
			// A request is answered with a read at that moment: a change to the list shows at
			// once, not at the next poll.
			if err := rc.RPush(ctx, "jobs", "5", "6").Err(); err != nil {
				t.Fatal(err)
			}
			if v := s.externalMetric(t, ns, "s0-redis-jobs", "worker"); v != 6 {
				t.Errorf("right after the list grew to 6 the metric served is %d: the request was not answered from the source", v)
			}
		})
	}
}

// commandCalls reads calls=N of cmdstat_<cmd> from INFO commandstats.
func commandCalls(info, cmd string) int {
	for _, line := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
		return n
	}
	return 0
}
