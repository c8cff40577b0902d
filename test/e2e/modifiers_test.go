package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestScalingModifiersComposeTriggers: two Redis lists combined by advanced.scalingModifiers. The
// HPA sees one composite metric (their sum) against the modifiers' target, and the target activates
// only when the sum passes activationTarget, whatever each trigger says on its own.
func TestScalingModifiersComposeTriggers(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "modifiers")
	l1, l2 := "mod-a-"+ns, "mod-b-"+ns
	s.apply(t, ns, deployment("mod", 0, map[string]string{"REDIS_PASSWORD": redisPassword}))
	trigger := func(name, list string) string {
		return fmt.Sprintf("    - type: redis\n      name: %s\n      metadata:\n        address: %s\n        passwordFromEnv: REDIS_PASSWORD\n        listName: %s\n        listLength: \"1\"\n", name, s.redis.Addr, list)
	}
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: mod
spec:
  scaleTargetRef:
    name: mod
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 5
  advanced:
    scalingModifiers:
      formula: "q1 + q2"
      target: "2"
      activationTarget: "3"
  triggers:
%s%s`, trigger("q1", l1), trigger("q2", l2)))

	so := s.waitReady(t, ns, "mod", metav1.ConditionTrue)
	if so.Status.CompositeScalerName != "composite-metric" {
		t.Errorf("status.compositeScalerName = %q, want composite-metric", so.Status.CompositeScalerName)
	}
	// As KEDA's, status names the triggers' metrics, not the composite the HPA reads.
	if got := so.Status.ExternalMetricNames; len(got) != 2 || !strings.HasPrefix(got[0], "s0-redis-") || !strings.HasPrefix(got[1], "s1-redis-") {
		t.Errorf("status.externalMetricNames = %q, want the two triggers' metrics", got)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := hpa.Spec.Metrics; len(m) != 1 || m[0].External == nil || m[0].External.Metric.Name != "composite-metric" || m[0].External.Target.AverageValue.String() != "2" {
		t.Fatalf("HPA metrics = %+v, want one External composite-metric with averageValue 2", m)
	}

	rc := s.redis.Client()
	defer rc.Close()
	ctx := context.Background()
	// 2 items: each trigger alone would be active (listLength 1, activation 0), the sum is not above 3.
	if err := rc.RPush(ctx, l1, "a", "b").Err(); err != nil {
		t.Fatal(err)
	}
	s.holdReplicas(t, ns, "mod", 0, 4*time.Second)

	// 2 more on the other list: the sum 4 passes 3; the HPA keeps 4 / 2 = 2 replicas.
	if err := rc.RPush(ctx, l2, "c", "d").Err(); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "mod", 2, 60*time.Second)
	if v := s.externalMetric(t, ns, "composite-metric", "mod"); v != 4 {
		t.Errorf("external metric composite-metric = %d, want 4", v)
	}

	// Drained: back to zero after the cooldown.
	if err := rc.Del(ctx, l1, l2).Err(); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "mod", 0, 60*time.Second)
}

// TestScalingModifiersFallback: when a trigger the formula reads has failed failureThreshold
// times, the composite metric serves the fallback replicas against the modifiers' target, so the
// HPA converges to fallback.replicas, and Fallback turns True.
func TestScalingModifiersFallback(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "modfallback")
	s.apply(t, ns, deployment("mod", 1, map[string]string{"REDIS_PASSWORD": redisPassword}))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: mod
spec:
  scaleTargetRef:
    name: mod
  pollingInterval: 1
  maxReplicaCount: 5
  fallback:
    failureThreshold: 2
    replicas: 3
  advanced:
    scalingModifiers:
      formula: "up + down"
      target: "2"
  triggers:
    - type: redis
      name: up
      metadata:
        address: %s
        passwordFromEnv: REDIS_PASSWORD
        listName: modfallback-%s
    - type: redis
      name: down
      metadata:
        address: 127.0.0.1:1
        listName: jobs
`, s.redis.Addr, ns))
	s.waitReplicas(t, ns, "mod", 3, 60*time.Second)
	if v := s.externalMetric(t, ns, "composite-metric", "mod"); v != 6 {
		t.Errorf("composite-metric under fallback = %d, want 3 replicas x target 2 = 6", v)
	}
	eventually(t, 20*time.Second, "Fallback=True", func(ctx context.Context) (bool, string) {
		so, err := s.scaledObject(ctx, ns, "mod")
		if err != nil {
			return false, err.Error()
		}
		return so.Status.Conditions.IsTrue("Fallback"), fmt.Sprintf("%+v", so.Status.Conditions)
	})
}

// TestFallbackScalingModifiers is KEDA's fallback_scaling_modifiers scenario. With
// fallback.behavior scalingModifiers a trigger past its threshold enters the formula as nil, so
// "primary ?? secondary ?? 8" (target 2, primary 16, secondary 12) reads the primary (8 replicas),
// then the secondary when the primary fails (6), then the constant when both fail (4), and the
// primary again when both recover (8). Beyond KEDA's scenario: a formula that gives nil serves
// fallback.replicas (3) x target, and Fallback turns True while a trigger fails.
func TestFallbackScalingModifiers(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	scaledObject := func(formula, triggers string) string {
		return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: mod
spec:
  scaleTargetRef:
    name: mod
  pollingInterval: 1
  cooldownPeriod: 5
  minReplicaCount: 1
  maxReplicaCount: 20
  fallback:
    behavior: scalingModifiers
    failureThreshold: 3
    replicas: 3
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 0
    scalingModifiers:
      formula: %q
      target: "2"
  triggers:
%s`, formula, triggers)
	}
	fallbackTrue := func(t *testing.T, ns string) {
		t.Helper()
		eventually(t, 20*time.Second, "Fallback=True", func(ctx context.Context) (bool, string) {
			so, err := s.scaledObject(ctx, ns, "mod")
			if err != nil {
				return false, err.Error()
			}
			return so.Status.Conditions.IsTrue("Fallback"), fmt.Sprintf("%+v", so.Status.Conditions)
		})
	}

	t.Run("primary, secondary, constant, recovery", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "modfallback")
		primary, secondary := startValueAPI(t, 16), startValueAPI(t, 12)
		s.apply(t, ns, deployment("mod", 1, nil))
		target := "        targetValue: \"2\"\n"
		s.apply(t, ns, scaledObject("primary ?? secondary ?? 8", primary.trigger("primary", target)+secondary.trigger("secondary", target)))
		step := func(what string, want int32) {
			t.Helper()
			s.waitReplicas(t, ns, "mod", want, 90*time.Second)
			if v := s.externalMetric(t, ns, "composite-metric", "mod"); v != int64(want)*2 {
				t.Errorf("%s: composite-metric = %d, want %d replicas x target 2", what, v, want)
			}
			s.holdReplicas(t, ns, "mod", want, 5*time.Second)
		}
		step("both working: the primary", 8)
		primary.SetDown(true)
		step("primary failing: the secondary", 6)
		fallbackTrue(t, ns)
		secondary.SetDown(true)
		step("both failing: the constant", 4)
		primary.SetDown(false)
		secondary.SetDown(false)
		step("both recovered: the primary", 8)
	})

	t.Run("both failing, formula nil: fallback replicas", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "modfallback")
		dead := func(name string) string {
			return fmt.Sprintf("    - type: redis\n      name: %s\n      metadata:\n        address: 127.0.0.1:1\n        listName: %s\n        listLength: \"2\"\n", name, name)
		}
		s.apply(t, ns, deployment("mod", 1, nil))
		s.apply(t, ns, scaledObject("primary ?? secondary", dead("primary")+dead("secondary")))
		s.waitReplicas(t, ns, "mod", 3, 90*time.Second)
		if v := s.externalMetric(t, ns, "composite-metric", "mod"); v != 6 {
			t.Errorf("composite-metric = %d, want 3 replicas x target 2", v)
		}
		fallbackTrue(t, ns)
	})
}

// TestScalingModifiers is KEDA's scaling_modifiers scenario: a metrics-api trigger and a
// kubernetes-workload trigger without targets, combined by "metrics_api + kw_trig" (target 2,
// activationTarget 2). 0 + 0 leaves the target at 0; 3 + 2 pods takes it to 3 replicas; the
// metrics API going away serves fallback.replicas (5); back with 2, 2 + 2 gives 2 replicas. Then
// "count([kw_trig,metrics_api],{#>1}) > 1 ? 5 : 0" gives 0 (only the pods are above 1) and, the
// API at 2, 5: 3 replicas.
func TestScalingModifiers(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "scalingmodifiers")
	api := startValueAPI(t, 0)
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, labelledDeployment("base", 0, "pod: workload-test"))
	scaledObject := func(formula string) string {
		return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 5
  minReplicaCount: 0
  maxReplicaCount: 10
  fallback:
    replicas: 5
    failureThreshold: 3
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 5
    scalingModifiers:
      formula: %q
      target: "2"
      activationTarget: "2"
  triggers:
    - type: metrics-api
      name: metrics_api
      metricType: AverageValue
      metadata:
        url: %q
        valueLocation: value
    - type: kubernetes-workload
      name: kw_trig
      metricType: AverageValue
      metadata:
        podSelector: pod=workload-test
`, formula, api.URL)
	}
	s.apply(t, ns, scaledObject("metrics_api + kw_trig"))
	s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	s.holdReplicas(t, ns, "worker", 0, 8*time.Second)

	api.Set(3)
	s.scaleDeployment(t, ns, "base", 2)
	s.waitReplicas(t, ns, "worker", 3, 90*time.Second)

	api.SetDown(true)
	s.waitReplicas(t, ns, "worker", 5, 90*time.Second)
	s.holdReplicas(t, ns, "worker", 5, 10*time.Second)

	api.Set(2)
	api.SetDown(false)
	s.waitReplicas(t, ns, "worker", 2, 90*time.Second)

	api.Set(0)
	s.apply(t, ns, scaledObject("count([kw_trig,metrics_api],{#>1}) > 1 ? 5 : 0"))
	s.waitReplicas(t, ns, "worker", 0, 90*time.Second)
	api.Set(2)
	s.waitReplicas(t, ns, "worker", 3, 90*time.Second)
}

// TestScalingModifiersMetricSourcesWithoutTargets is KEDA's documented scalingModifiers example: a
// kubernetes-workload trigger without value and a metrics-api trigger without targetValue, as
// metric sources of "(trig_one + trig_two)/2". Admission takes it, and the target follows the
// formula: 0 while it is not above activationTarget 2, then the HPA's replicas for the average.
func TestScalingModifiersMetricSourcesWithoutTargets(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "modsources")
	var tasks atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"tasks": %d}`, tasks.Load())
	}))
	defer api.Close()
	s.apply(t, ns, deployment("workload", 0, nil))
	s.apply(t, ns, labelledDeployment("producer", 0, "pod: workload-test"))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: workload
spec:
  scaleTargetRef:
    name: workload
  pollingInterval: 1
  cooldownPeriod: 3
  maxReplicaCount: 5
  advanced:
    scalingModifiers:
      formula: "(trig_one + trig_two)/2"
      target: "2"
      activationTarget: "2"
      metricType: "AverageValue"
  triggers:
    - type: kubernetes-workload
      name: trig_one
      metadata:
        podSelector: 'pod=workload-test'
    - type: metrics-api
      name: trig_two
      metadata:
        url: "%s"
        valueLocation: "tasks"
`, api.URL))
	s.waitReady(t, ns, "workload", metav1.ConditionTrue)

	// (1 pod + 2 tasks) / 2 = 1.5: not above activationTarget 2.
	s.scaleDeployment(t, ns, "producer", 1)
	tasks.Store(2)
	s.holdReplicas(t, ns, "workload", 0, 4*time.Second)

	// (2 + 10) / 2 = 6: active; the HPA keeps 6 / 2 = 3 replicas.
	s.scaleDeployment(t, ns, "producer", 2)
	tasks.Store(10)
	s.waitReplicas(t, ns, "workload", 3, 60*time.Second)
	if v := s.externalMetric(t, ns, "composite-metric", "workload"); v != 6 {
		t.Errorf("external metric composite-metric = %d, want 6", v)
	}

	s.scaleDeployment(t, ns, "producer", 0)
	tasks.Store(0)
	s.waitReplicas(t, ns, "workload", 0, 60*time.Second)
}
