package scaling

import (
	"errors"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
)

func TestFallbackReplicas(t *testing.T) {
	for _, tc := range []struct {
		behavior string
		current  int32
		want     int32
	}{
		{"", 5, 3}, {"static", 1, 3}, {"currentReplicas", 5, 5},
		{"currentReplicasIfHigher", 5, 5}, {"currentReplicasIfHigher", 1, 3},
		{"currentReplicasIfLower", 5, 3}, {"currentReplicasIfLower", 1, 1},
	} {
		if got := FallbackReplicas(&kedav1alpha1.Fallback{Replicas: 3, Behavior: tc.behavior}, tc.current); got != tc.want {
			t.Errorf("behavior %q current %d: %d, want %d", tc.behavior, tc.current, got, tc.want)
		}
	}
}

// TestFallbackActiveAfterMoreThanThreshold: KEDA falls back once numberOfFailures >
// failureThreshold; a threshold of 0 falls back at the first failure.
func TestFallbackActiveAfterMoreThanThreshold(t *testing.T) {
	down := errors.New("down")
	for _, tc := range []struct {
		name     string
		fallback *kedav1alpha1.Fallback
		failures int32
		err      error
		want     bool
	}{
		{"no fallback", nil, 9, down, false},
		{"threshold 3, 3 failures", &kedav1alpha1.Fallback{FailureThreshold: 3, Replicas: 2}, 3, down, false},
		{"threshold 3, 4 failures", &kedav1alpha1.Fallback{FailureThreshold: 3, Replicas: 2}, 4, down, true},
		{"threshold 0, first failure", &kedav1alpha1.Fallback{FailureThreshold: 0, Replicas: 2}, 1, down, true},
		{"threshold 0, working", &kedav1alpha1.Fallback{FailureThreshold: 0, Replicas: 2}, 0, nil, false},
		{"recovered after failures", &kedav1alpha1.Fallback{FailureThreshold: 1, Replicas: 2}, 5, nil, false},
		{"replicas 0 falls back too", &kedav1alpha1.Fallback{FailureThreshold: 1, Replicas: 0}, 2, down, true},
		{"negative threshold is no fallback (KEDA's HasValidFallback)", &kedav1alpha1.Fallback{FailureThreshold: -1, Replicas: 2}, 2, down, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &kedav1alpha1.ScaledObjectSpec{Fallback: tc.fallback}
			tr := &engine.TriggerState{Sample: engine.Sample{Err: tc.err, ConsecutiveFailures: tc.failures}}
			if got := FallbackActive(spec, tr); got != tc.want {
				t.Errorf("FallbackActive = %v, want %v", got, tc.want)
			}
			st := &engine.ObjectState{Triggers: []engine.TriggerState{{}, *tr}}
			if got := AnyFallbackActive(spec, st); got != tc.want {
				t.Errorf("AnyFallbackActive = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFallbackValue: AverageValue serves target x replicas; Value serves target x replicas /
// ready pods, and nothing with no ready pod, as KEDA's doFallback.
func TestFallbackValue(t *testing.T) {
	for _, tc := range []struct {
		name      string
		typ       autoscalingv2.MetricTargetType
		target    float64
		replicas  int32
		ready     int32
		wantMilli int64
		wantErr   string
	}{
		{name: "AverageValue", typ: "AverageValue", target: 5, replicas: 3, wantMilli: 15000},
		{name: "AverageValue ignores ready pods", typ: "AverageValue", target: 5, replicas: 3, ready: 7, wantMilli: 15000},
		{name: "AverageValue fractional target", typ: "AverageValue", target: 0.5, replicas: 3, wantMilli: 1500},
		{name: "AverageValue 0 replicas", typ: "AverageValue", target: 5, replicas: 0, wantMilli: 0},
		{name: "Value, as many ready pods as replicas", typ: "Value", target: 5, replicas: 3, ready: 3, wantMilli: 5000},
		{name: "Value, 2 ready pods, 4 replicas wanted", typ: "Value", target: 5, replicas: 4, ready: 2, wantMilli: 10000},
		{name: "Value, 3 ready pods, 1 replica wanted", typ: "Value", target: 6, replicas: 1, ready: 3, wantMilli: 2000},
		{name: "Value, no ready pod", typ: "Value", target: 5, replicas: 3, ready: 0, wantErr: "no Running and Ready pod"},
		{name: "Utilization", typ: "Utilization", target: 50, replicas: 3, ready: 3, wantErr: "AverageValue or Value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := FallbackValue(tc.typ, tc.target, tc.replicas, tc.ready)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || v.MilliValue() != tc.wantMilli {
				t.Errorf("FallbackValue = %s (%v), want %dm", v.String(), err, tc.wantMilli)
			}
		})
	}
}

func TestTargetValue(t *testing.T) {
	q := resource.MustParse("2500m")
	for _, tc := range []struct {
		target autoscalingv2.MetricTarget
		want   float64
		ok     bool
	}{
		{autoscalingv2.MetricTarget{Type: "AverageValue", AverageValue: &q}, 2.5, true},
		{autoscalingv2.MetricTarget{Type: "Value", Value: &q}, 2.5, true},
		{autoscalingv2.MetricTarget{Type: "Value", AverageValue: &q}, 0, false},
		{autoscalingv2.MetricTarget{Type: "Utilization"}, 0, false},
	} {
		typ, v, err := TargetValue(tc.target)
		if (err == nil) != tc.ok || v != tc.want || typ != tc.target.Type {
			t.Errorf("TargetValue(%+v) = %s %v %v", tc.target, typ, v, err)
		}
	}
}

func TestReadyReplicas(t *testing.T) {
	pod := func(phase corev1.PodPhase, ready corev1.ConditionStatus) corev1.Pod {
		p := corev1.Pod{Status: corev1.PodStatus{Phase: phase}}
		if ready != "" {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: ready}}
		}
		return p
	}
	pods := []corev1.Pod{
		pod(corev1.PodRunning, corev1.ConditionTrue),
		pod(corev1.PodRunning, corev1.ConditionTrue),
		pod(corev1.PodRunning, corev1.ConditionFalse),  // starting
		pod(corev1.PodRunning, ""),                     // no Ready condition yet
		pod(corev1.PodPending, corev1.ConditionFalse),  // not scheduled
		pod(corev1.PodSucceeded, corev1.ConditionTrue), // finished
	}
	if n := ReadyReplicas(pods); n != 2 {
		t.Errorf("ReadyReplicas = %d, want 2", n)
	}
	if n := ReadyReplicas(nil); n != 0 {
		t.Errorf("ReadyReplicas(nil) = %d", n)
	}
}
