package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// TestTriggerUpdateSo is KEDA's trigger_update_so: editing the triggers of a running ScaledObject
// takes effect without a restart. As KEDA's scenario, on the replicas: one metrics-api trigger
// (target 2) takes the target to 1, 5 (its maximum) and 0; a kubernetes-workload trigger added
// while it is at 1 takes it to 5; removed while it holds the target at 5, the first trigger's 3
// remains; a third trigger whose source cannot be reached does not stop the others scaling to 5.
// Beyond KEDA's scenario: the HPA's metrics and status.externalMetricNames follow each edit, with
// no stale metric left behind.
func TestTriggerUpdateSo(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	t.Run("replicas follow the triggers", func(t *testing.T) {
		t.Parallel()
		testTriggerUpdateReplicas(t, s)
	})
	t.Run("HPA and status follow the triggers", func(t *testing.T) {
		t.Parallel()
		testTriggerUpdateMetrics(t, s)
	})
}

func testTriggerUpdateReplicas(t *testing.T, s *suite) {
	api := startValueAPI(t, 0)
	ns := s.newNamespace(t, "triggerupdate")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, labelledDeployment("wl", 0, "pod: wl"))
	spec := "  pollingInterval: 1\n  cooldownPeriod: 1\n  minReplicaCount: 0\n  maxReplicaCount: 5\n  advanced:\n    horizontalPodAutoscalerConfig:\n      behavior:\n        scaleDown:\n          stabilizationWindowSeconds: 10\n"
	one := apiScaledObject(api, "2", spec)
	two := one + "    - type: kubernetes-workload\n      metadata:\n        podSelector: pod=wl\n        value: \"1\"\n"
	three := two + "    - type: metrics-api\n      metadata:\n        url: http://127.0.0.1:1\n        valueLocation: value\n        targetValue: \"2\"\n"

	// One trigger, its value changing.
	s.apply(t, ns, one)
	for _, step := range []struct {
		value int64
		want  int32
	}{{1, 1}, {10, 5}, {0, 0}} {
		api.Set(step.value)
		s.waitReplicas(t, ns, "worker", step.want, 90*time.Second)
	}

	// A second trigger added while the first holds the target at 1.
	api.Set(1)
	s.waitReplicas(t, ns, "worker", 1, 90*time.Second)
	s.apply(t, ns, two)
	s.scaleDeployment(t, ns, "wl", 5)
	s.waitReplicas(t, ns, "worker", 5, 90*time.Second)

	// Removed while it holds the target at 5: the first trigger's 5 / 2 remains.
	api.Set(5)
	s.apply(t, ns, one)
	s.waitReplicas(t, ns, "worker", 3, 90*time.Second)

	// Three triggers, one of them failing. KEDA's scenario gives it the URL "invalid-invalid",
	// which our metrics-api refuses to parse, so that the object would not be Ready at all
	// (KEDA_SCENARIOS.md): here it is a URL where nothing answers.
	s.apply(t, ns, three)
	api.Set(10)
	s.waitReplicas(t, ns, "worker", 5, 90*time.Second)
}

func testTriggerUpdateMetrics(t *testing.T, s *suite) {
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
