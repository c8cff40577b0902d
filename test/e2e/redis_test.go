package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/metrics/pkg/apis/external_metrics/v1beta1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestRedisListScalesZeroToMaxToZero is the walking skeleton: a ScaledObject written as KEDA's
// docs write it keeps an idle worker at 0, activates it on the first item, lets the real HPA scale
// it to max on a backlog, returns it to 0 after the cooldown, and leaves no HPA behind on deletion.
func TestRedisListScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "redis")
	list := "jobs-" + ns
	s.apply(t, ns, deployment("worker", 0, map[string]string{"REDIS_PASSWORD": redisPassword}))
	s.apply(t, ns, s.redisScaledObject("worker", list, "  cooldownPeriod: 5\n  maxReplicaCount: 4\n"))

	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	metric := "s0-redis-" + list
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	if so.Status.HpaName != "keda-hpa-worker" || so.Status.ScaleTargetKind != "apps/v1.Deployment" {
		t.Errorf("status hpaName=%q scaleTargetKind=%q", so.Status.HpaName, so.Status.ScaleTargetKind)
	}
	if so.Status.OriginalReplicaCount == nil || *so.Status.OriginalReplicaCount != 0 {
		t.Errorf("status.originalReplicaCount = %v, want 0", so.Status.OriginalReplicaCount)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	checkHPA(t, hpa, metric)

	// An empty list keeps the worker at zero.
	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)

	// One item activates it.
	rc := s.redis.Client()
	defer rc.Close()
	if err := rc.RPush(context.Background(), list, "job-1").Err(); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 1, 20*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metric, "worker"); v != 1 {
		t.Errorf("external metric %s = %d, want 1", metric, v)
	}

	// A backlog makes the real HPA scale it to max (20 items / listLength 2 = 10 > max 4).
	items := make([]any, 19)
	for i := range items {
		items[i] = fmt.Sprintf("job-%d", i+2)
	}
	if err := rc.RPush(context.Background(), list, items...).Err(); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)

	// Draining returns it to zero after the cooldown.
	if err := rc.Del(context.Background(), list).Err(); err != nil {
		t.Fatal(err)
	}
	drained := time.Now()
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	checkCooldown(t, drained, 5*time.Second, time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
	so, err = s.scaledObject(context.Background(), ns, "worker")
	if err != nil {
		t.Fatal(err)
	}
	if so.Status.LastActiveTime == nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Errorf("after draining: lastActiveTime=%v active=%v", so.Status.LastActiveTime, so.Status.Conditions.Get(kedav1alpha1.ConditionActive))
	}

	// Deleting the ScaledObject garbage-collects its HPA.
	if err := s.env.Client.Delete(context.Background(), so); err != nil {
		t.Fatal(err)
	}
	s.waitGone(t, "HPA keda-hpa-worker", func(ctx context.Context) error {
		_, err := s.hpa(ctx, ns, "keda-hpa-worker")
		return err
	})
}

func checkHPA(t *testing.T, hpa *autoscalingv2.HorizontalPodAutoscaler, metric string) {
	t.Helper()
	if len(hpa.OwnerReferences) != 1 || hpa.OwnerReferences[0].Kind != "ScaledObject" || hpa.OwnerReferences[0].Controller == nil || !*hpa.OwnerReferences[0].Controller {
		t.Errorf("HPA owner references = %+v, want the ScaledObject as controller", hpa.OwnerReferences)
	}
	if *hpa.Spec.MinReplicas != 1 || hpa.Spec.MaxReplicas != 4 {
		t.Errorf("HPA min/max = %d/%d, want 1/4", *hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.APIVersion != "apps/v1" {
		t.Errorf("HPA target = %+v", hpa.Spec.ScaleTargetRef)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].External == nil {
		t.Fatalf("HPA metrics = %+v, want one External metric", hpa.Spec.Metrics)
	}
	ext := hpa.Spec.Metrics[0].External
	if ext.Metric.Name != metric {
		t.Errorf("HPA metric name = %s, want %s", ext.Metric.Name, metric)
	}
	if ext.Metric.Selector == nil || ext.Metric.Selector.MatchLabels[kedav1alpha1.LabelScaledObjectName] != "worker" {
		t.Errorf("HPA metric selector = %+v", ext.Metric.Selector)
	}
	if ext.Target.Type != autoscalingv2.AverageValueMetricType || ext.Target.AverageValue == nil || ext.Target.AverageValue.Value() != 2 {
		t.Errorf("HPA metric target = %+v, want AverageValue 2", ext.Target)
	}
}

// externalMetric reads a metric through the apiserver's aggregation layer, as the HPA does.
func (s *suite) externalMetric(t *testing.T, ns, metric, so string) int64 {
	t.Helper()
	path := fmt.Sprintf("/apis/external.metrics.k8s.io/v1beta1/namespaces/%s/%s", ns, metric)
	raw, err := s.env.Kube.CoreV1().RESTClient().Get().AbsPath(path).
		Param("labelSelector", kedav1alpha1.LabelScaledObjectName+"="+so).DoRaw(context.Background())
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	var list v1beta1.ExternalMetricValueList
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("GET %s returned %d items", path, len(list.Items))
	}
	return list.Items[0].Value.Value()
}
