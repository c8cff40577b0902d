package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// TestSpecChangesTakeEffect: editing a trigger, adding one with metricType Value and removing it
// again update the HPA and status without a restart and leave no stale metric behind.
func TestSpecChangesTakeEffect(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "change")
	s.apply(t, ns, deployment("worker", 1, map[string]string{"REDIS_PASSWORD": redisPassword}))
	trigger := func(list, metricType string) string {
		mt := ""
		if metricType != "" {
			mt = "      metricType: " + metricType + "\n"
		}
		return fmt.Sprintf("    - type: redis\n%s      metadata:\n        address: %s\n        passwordFromEnv: REDIS_PASSWORD\n        listName: %s\n", mt, s.redis.Addr, list)
	}
	so := func(triggers ...string) string {
		return "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: worker\nspec:\n  scaleTargetRef:\n    name: worker\n  pollingInterval: 1\n  minReplicaCount: 1\n  triggers:\n" + strings.Join(triggers, "")
	}
	waitMetrics := func(want ...string) {
		t.Helper()
		eventually(t, 30*time.Second, fmt.Sprintf("HPA and status metrics %v", want), func(ctx context.Context) (bool, string) {
			hpa, err := s.hpa(ctx, ns, "keda-hpa-worker")
			if err != nil {
				return false, err.Error()
			}
			var got []string
			for _, m := range hpa.Spec.Metrics {
				got = append(got, m.External.Metric.Name+"/"+string(m.External.Target.Type))
			}
			obj, err := s.scaledObject(ctx, ns, "worker")
			if err != nil {
				return false, err.Error()
			}
			return strings.Join(got, ",") == strings.Join(want, ",") && len(obj.Status.ExternalMetricNames) == len(want),
				fmt.Sprintf("hpa %v status %v", got, obj.Status.ExternalMetricNames)
		})
	}
	s.apply(t, ns, so(trigger("first", "")))
	waitMetrics("s0-redis-first/" + string(autoscalingv2.AverageValueMetricType))
	s.apply(t, ns, so(trigger("second", "")))
	waitMetrics("s0-redis-second/AverageValue")
	s.apply(t, ns, so(trigger("second", ""), trigger("third", "Value")))
	waitMetrics("s0-redis-second/AverageValue", "s1-redis-third/Value")
	if v := s.externalMetric(t, ns, "s1-redis-third", "worker"); v != 0 {
		t.Errorf("s1-redis-third = %d", v)
	}
	s.apply(t, ns, so(trigger("second", "")))
	waitMetrics("s0-redis-second/AverageValue")
}
