package diagnose

import (
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func readySO() *kedav1alpha1.ScaledObject {
	return &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: "worker", Namespace: "ns"},
		Spec: kedav1alpha1.ScaledObjectSpec{
			ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "worker"},
			CooldownPeriod: ptr.To[int32](60),
			Triggers:       []kedav1alpha1.ScaleTriggers{{Type: "redis", Metadata: map[string]string{"listName": "jobs", "activationListLength": "3"}}},
		},
		Status: kedav1alpha1.ScaledObjectStatus{
			Conditions: kedav1alpha1.Conditions{
				{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue},
				{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionFalse},
			},
			ExternalMetricNames: []string{"s0-redis-jobs"},
			Health:              map[string]kedav1alpha1.HealthStatus{"s0-redis-jobs": {Status: kedav1alpha1.HealthStatusHappy, NumberOfFailures: ptr.To[int32](0)}},
		},
	}
}

func TestDiagnose(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "keda-hpa-worker"}}
	base := func() Inputs {
		return Inputs{Now: now, ScaledObject: readySO(), HPA: hpa.DeepCopy(), Scale: &autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: 2}},
			MetricsAPIAvailable: true, Values: map[string]string{"s0-redis-jobs": "1"}}
	}
	tests := []struct {
		name   string
		mutate func(in *Inputs)
		first  string
		also   string
	}{
		{name: "healthy and active", mutate: func(in *Inputs) {
			in.ScaledObject.Status.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionTrue})
		}, first: "Scaling normally"},
		{name: "not ready", mutate: func(in *Inputs) {
			in.ScaledObject.Status.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "ScaleTargetNotFound", Message: "gone"})
		}, first: "Not ready: ScaleTargetNotFound"},
		{name: "metrics API down", mutate: func(in *Inputs) { in.MetricsAPIAvailable, in.MetricsAPIMessage = false, "FailedDiscoveryCheck" }, first: "External metrics API unavailable"},
		{name: "paused replicas", mutate: func(in *Inputs) {
			in.ScaledObject.Annotations = map[string]string{kedav1alpha1.AnnotationPausedReplicas: "0"}
		}, first: "Paused at 0 replicas"},
		{name: "failing trigger", mutate: func(in *Inputs) {
			in.ScaledObject.Status.Health["s0-redis-jobs"] = kedav1alpha1.HealthStatus{Status: kedav1alpha1.HealthStatusFailing, NumberOfFailures: ptr.To[int32](7)}
		}, first: "Trigger failing: s0-redis-jobs", also: "7 failure(s)"},
		{name: "failing trigger that made Ready False, as KEDA's scale loop does", mutate: func(in *Inputs) {
			in.ScaledObject.Status.Health["s0-redis-jobs"] = kedav1alpha1.HealthStatus{Status: kedav1alpha1.HealthStatusFailing, NumberOfFailures: ptr.To[int32](7)}
			in.ScaledObject.Status.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: kedav1alpha1.ReasonTriggerError, Message: "Triggers defined in ScaledObject are not working correctly"})
			in.HPA.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: "FailedGetExternalMetric", Message: "unable to get external metric"}}
		}, first: "Trigger failing: s0-redis-jobs", also: "HPA scaling inactive: FailedGetExternalMetric"},
		{name: "hpa limited", mutate: func(in *Inputs) {
			in.ScaledObject.Status.Conditions.Set(kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionTrue})
			in.HPA.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScalingLimited, Status: corev1.ConditionTrue, Reason: "TooManyReplicas", Message: "the desired replica count is more than the maximum replica count"}}
		}, first: "HPA limited: TooManyReplicas", also: "maxReplicaCount is 100"},
		{name: "foreign hpa", mutate: func(in *Inputs) {
			in.HPAs = []autoscalingv2.HorizontalPodAutoscaler{{ObjectMeta: metav1.ObjectMeta{Name: "mine"}, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "worker"}}}}
		}, first: "A foreign HPA scales the same target", also: "transfer-hpa worker --hpa mine"},
		{name: "cooldown", mutate: func(in *Inputs) {
			in.ScaledObject.Status.LastActiveTime = &metav1.Time{Time: now.Add(-20 * time.Second)}
		}, first: "Cooldown: scaling to 0 in 40s"},
		{name: "below activation", mutate: func(in *Inputs) { in.Scale.Spec.Replicas = 0 }, first: "No trigger active", also: "value 1, activation threshold 3"},
		{name: "hpa missing", mutate: func(in *Inputs) { in.HPA = nil }, first: "HPA missing"},
		{name: "cpu beside the trigger that activates", mutate: func(in *Inputs) {
			in.Scale.Spec.Replicas = 0
			in.ScaledObject.Spec.Triggers = append(in.ScaledObject.Spec.Triggers, kedav1alpha1.ScaleTriggers{Type: "cpu", MetricType: "Utilization", Metadata: map[string]string{"value": "50"}})
		}, first: "No trigger active", also: "trigger 1 (cpu): a Resource metric the HPA reads from metrics.k8s.io, which takes no part in activation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.mutate(&in)
			got := Diagnose(in)
			if len(got) == 0 || !strings.HasPrefix(got[0].Title, tt.first) {
				t.Fatalf("first finding = %+v, want %q", got, tt.first)
			}
			if tt.also != "" {
				all := ""
				for _, f := range got {
					all += f.Title + " " + f.Detail + "\n"
				}
				if !strings.Contains(all, tt.also) {
					t.Errorf("findings do not mention %q:\n%s", tt.also, all)
				}
			}
		})
	}
}
