package timeline

import (
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(sec int) metav1.Time { return metav1.NewTime(t0.Add(time.Duration(sec) * time.Second)) }

func event(kind, name, reason, msg string, sec int) corev1.Event {
	return corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name}, Reason: reason, Message: msg, Type: corev1.EventTypeNormal, LastTimestamp: at(sec)}
}

func reading(value int64, active bool) historyv1alpha1.TriggerReading {
	return historyv1alpha1.TriggerReading{Name: "queue", Type: "redis", Value: ptrQ(value), Active: active}
}

func TestBuild(t *testing.T) {
	object := Ref{Kind: "ScaledObject", Name: "worker"}
	hpa := Ref{Kind: "HorizontalPodAutoscaler", Name: "keda-hpa-worker"}
	triggers := []Trigger{{Index: 0, Name: "queue", Type: "redis"}, {Index: 1, Type: "cpu"}}
	for _, tc := range []struct {
		name string
		in   Input
		// want is each entry as "second kind source trigger|message-fragment".
		want []string
	}{
		{
			name: "events of other objects are ignored, those of the target and Jobs kept",
			in: Input{Object: object, HPA: hpa, Target: Ref{Kind: "Deployment", Name: "worker"}, Jobs: []string{"worker-abc"}, Events: []corev1.Event{
				event("ScaledObject", "other", "KEDAScaleTargetActivated", "x", 1),
				event("Deployment", "worker", "ScalingReplicaSet", "up", 2),
				event("Job", "worker-abc", "Completed", "done", 3),
				event("Job", "unrelated", "Completed", "done", 4),
			}},
			want: []string{"2 event Deployment/worker |ScalingReplicaSet: up", "3 event Job/worker-abc |Completed: done"},
		},
		{
			name: "an HPA rescale names the metric and the trigger behind it",
			in: Input{Object: object, HPA: hpa, Triggers: triggers, Events: []corev1.Event{
				event("HorizontalPodAutoscaler", "keda-hpa-worker", "SuccessfulRescale", "New size: 4; reason: external metric s0-redis-orders(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: worker,},MatchExpressions:[]LabelSelectorRequirement{},}) above target", 5),
				event("HorizontalPodAutoscaler", "keda-hpa-worker", "SuccessfulRescale", "New size: 2; reason: cpu resource utilization (percentage of request) above target", 6),
				event("HorizontalPodAutoscaler", "keda-hpa-worker", "FailedGetExternalMetric", "unable to get external metric", 7),
			}},
			want: []string{"5 rescaled HorizontalPodAutoscaler/keda-hpa-worker queue|to 4 replicas: external metric s0-redis-orders above target (trigger queue)",
				"6 rescaled HorizontalPodAutoscaler/keda-hpa-worker cpuScaler|to 2 replicas: cpu resource",
				"7 event HorizontalPodAutoscaler/keda-hpa-worker |FailedGetExternalMetric"},
		},
		{
			name: "without history, the object's events carry the decisions",
			in: Input{Object: object, Events: []corev1.Event{
				event("ScaledObject", "worker", "KEDAScaleTargetActivated", "Scaled apps/v1.Deployment ns/worker from 0 to 1, triggered by queue", 1),
				event("ScaledObject", "worker", "ScaledObjectPaused", "ScaledObject was paused", 2),
			}},
			want: []string{"1 activated ScaledObject/worker queue|from 0 to 1", "2 paused ScaledObject/worker |was paused"},
		},
		{
			name: "with history, events repeating a decision are dropped, older ones kept",
			in: Input{Object: object, Events: []corev1.Event{
				event("ScaledObject", "worker", "KEDAScaleTargetDeactivated", "before the operator started", -100),
				event("ScaledObject", "worker", "KEDAScaleTargetActivated", "triggered by queue", 1),
				event("ScaledObject", "worker", "ScaledObjectReady", "ready", 2),
			}, History: &historyv1alpha1.History{Since: at(0), DecisionCapacity: 10, Decisions: []historyv1alpha1.Decision{
				{Time: at(1), Type: historyv1alpha1.DecisionActivated, Trigger: "queue", FromReplicas: ptr(int32(0)), ToReplicas: ptr(int32(1))},
			}}},
			want: []string{"-100 deactivated ScaledObject/worker |before the operator started", "1 activated operator queue|by queue: 0 -> 1 replicas", "2 event ScaledObject/worker |ScaledObjectReady"},
		},
		{
			name: "samples become a values line only when a reading changes",
			in: Input{Object: object, History: &historyv1alpha1.History{Since: at(0), Samples: []historyv1alpha1.Sample{
				{Time: at(0), Replicas: ptr(int32(0)), Triggers: []historyv1alpha1.TriggerReading{reading(0, false)}},
				{Time: at(1), Replicas: ptr(int32(0)), Triggers: []historyv1alpha1.TriggerReading{reading(0, false)}},
				{Time: at(2), Replicas: ptr(int32(0)), DesiredReplicas: ptr(int32(1)), Triggers: []historyv1alpha1.TriggerReading{reading(3, true)}},
				{Time: at(3), Replicas: ptr(int32(0)), DesiredReplicas: ptr(int32(1)), Triggers: []historyv1alpha1.TriggerReading{reading(3, true)}},
			}}},
			want: []string{"0 values operator |queue=0 (inactive); replicas 0", "2 values operator queue|queue=3 (active); replicas 0 (desired 1)"},
		},
		{
			name: "since drops older entries",
			in: Input{Object: object, Since: t0.Add(2 * time.Second), Events: []corev1.Event{
				event("ScaledObject", "worker", "ScaledObjectReady", "old", 1),
				event("ScaledObject", "worker", "ScaledObjectReady", "new", 2),
			}},
			want: []string{"2 event ScaledObject/worker |new"},
		},
		{
			name: "without history, spec writes come from managed fields, status writes do not",
			in: Input{Object: object, Generation: 3, ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply, Time: ptr(at(4))},
				{Manager: "keda-operator", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", Time: ptr(at(5))},
			}},
			want: []string{"4 config-changed ScaledObject/worker |last written by kubectl (apply); generation now 3"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Build(tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("%d entries, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, e := range got {
				head, fragment, _ := strings.Cut(tc.want[i], "|")
				line := strings.Join([]string{itoa(int(e.Time.Sub(t0) / time.Second)), string(e.Kind), e.Source, e.Trigger}, " ")
				if line != head || !strings.Contains(e.Message, fragment) {
					t.Errorf("entry %d = %q %q, want %q containing %q", i, line, e.Message, head, fragment)
				}
			}
		})
	}
}

func TestRenderKeepsOneLinePerEntry(t *testing.T) {
	var b strings.Builder
	err := Render(&b, []Entry{{Time: t0, Kind: KindScalerError, Source: SourceOperator, Warning: true, Count: 3, Message: "line one\nline two"}}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "2025-03-01T12:00:00Z  operator  scaler-error!  line one line two (x3)\n"; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func ptrQ(v int64) *resource.Quantity { return resource.NewQuantity(v, resource.DecimalSI) }
