package scaling

import (
	"errors"
	"reflect"
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
			if got := Fallback(spec, st).InForce; got != tc.want {
				t.Errorf("Fallback(...).InForce = %v, want %v", got, tc.want)
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

// TestFallbackState: what fallback makes of a poll, as KEDA's scale loop sees it (threshold 2).
func TestFallbackState(t *testing.T) {
	down := errors.New("down")
	avg, val := target(autoscalingv2.AverageValueMetricType), target(autoscalingv2.ValueMetricType)
	ok := func(name string, tg autoscalingv2.MetricTarget) engine.TriggerState {
		return engine.TriggerState{Name: name, Target: tg, Sample: engine.Sample{Polled: true}}
	}
	failing := func(name string, tg autoscalingv2.MetricTarget, n int32) engine.TriggerState {
		return engine.TriggerState{Name: name, Target: tg, Sample: engine.Sample{Polled: true, Err: down, ConsecutiveFailures: n}}
	}
	withModifiers := func(metricType autoscalingv2.MetricTargetType) *kedav1alpha1.AdvancedConfig {
		return &kedav1alpha1.AdvancedConfig{ScalingModifiers: kedav1alpha1.ScalingModifiers{Formula: "a ?? b", Target: "2", MetricType: metricType}}
	}
	for _, tc := range []struct {
		name     string
		behavior string
		advanced *kedav1alpha1.AdvancedConfig
		noFB     bool
		triggers []engine.TriggerState
		want     FallbackState
	}{
		{name: "all working", triggers: []engine.TriggerState{ok("a", avg)}},
		{name: "failing within the threshold", triggers: []engine.TriggerState{failing("a", avg, 2)}, want: FallbackState{Failing: true}},
		{name: "failing without a fallback", noFB: true, triggers: []engine.TriggerState{failing("a", avg, 9)}, want: FallbackState{Failing: true}},
		{name: "past the threshold: served", triggers: []engine.TriggerState{failing("a", avg, 3)}, want: FallbackState{InForce: true, Serving: true}},
		{name: "Value past the threshold: per ready pod", triggers: []engine.TriggerState{failing("a", val, 3)}, want: FallbackState{InForce: true, Serving: true, PerReadyPod: true}},
		{name: "Value and AverageValue past the threshold", triggers: []engine.TriggerState{failing("a", val, 3), failing("b", avg, 3)}, want: FallbackState{InForce: true, Serving: true}},
		{name: "one served, one within its threshold", triggers: []engine.TriggerState{failing("a", avg, 3), failing("b", avg, 1)}, want: FallbackState{InForce: true, Serving: true, Failing: true}},
		{name: "composite Value metric type", advanced: withModifiers("Value"), triggers: []engine.TriggerState{failing("a", avg, 3), ok("b", avg)}, want: FallbackState{InForce: true, Serving: true, PerReadyPod: true}},
		{name: "composite AverageValue over a Value trigger", advanced: withModifiers(""), triggers: []engine.TriggerState{failing("a", val, 3), ok("b", avg)}, want: FallbackState{InForce: true, Serving: true}},
		{name: "scalingModifiers behavior: the formula reads nil", behavior: "scalingModifiers", advanced: withModifiers(""), triggers: []engine.TriggerState{failing("a", avg, 3), ok("b", avg)}, want: FallbackState{InForce: true, Missing: map[string]bool{"a": true}}},
		{name: "scalingModifiers behavior within the threshold", behavior: "scalingModifiers", advanced: withModifiers(""), triggers: []engine.TriggerState{failing("a", avg, 2), ok("b", avg)}, want: FallbackState{Failing: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &kedav1alpha1.ScaledObjectSpec{Advanced: tc.advanced, Fallback: &kedav1alpha1.Fallback{FailureThreshold: 2, Replicas: 3, Behavior: tc.behavior}}
			if tc.noFB {
				spec.Fallback = nil
			}
			got := Fallback(spec, &engine.ObjectState{Triggers: tc.triggers})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Fallback = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func target(typ autoscalingv2.MetricTargetType) autoscalingv2.MetricTarget {
	q := resource.NewQuantity(5, resource.DecimalSI)
	if typ == autoscalingv2.ValueMetricType {
		return autoscalingv2.MetricTarget{Type: typ, Value: q}
	}
	return autoscalingv2.MetricTarget{Type: typ, AverageValue: q}
}

func TestFallbackServedAt(t *testing.T) {
	for _, tc := range []struct {
		fs      FallbackState
		current int32
		known   bool
		want    bool
	}{
		{FallbackState{}, 3, true, false},
		{FallbackState{InForce: true, Serving: true}, 0, true, true},
		{FallbackState{InForce: true, Serving: true}, 0, false, true},
		{FallbackState{InForce: true, Serving: true, PerReadyPod: true}, 0, true, false},
		{FallbackState{InForce: true, Serving: true, PerReadyPod: true}, 2, false, false},
		{FallbackState{InForce: true, Serving: true, PerReadyPod: true}, 2, true, true},
		{FallbackState{InForce: true, Missing: map[string]bool{"a": true}}, 2, true, false},
	} {
		if got := tc.fs.ServedAt(tc.current, tc.known); got != tc.want {
			t.Errorf("%+v.ServedAt(%d, %v) = %v, want %v", tc.fs, tc.current, tc.known, got, tc.want)
		}
	}
}
