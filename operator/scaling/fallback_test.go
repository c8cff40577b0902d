package scaling

import (
	"errors"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
)

func TestFallback(t *testing.T) {
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
	v, ok := FallbackValue(autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(5, resource.DecimalSI)}, 3)
	if !ok || v.Value() != 15 {
		t.Errorf("fallback value = %v %v, want 15", v.String(), ok)
	}
	if _, ok := FallbackValue(autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: resource.NewQuantity(5, resource.DecimalSI)}, 3); ok {
		t.Error("a Value target must not fall back")
	}
	spec := &kedav1alpha1.ScaledObjectSpec{Fallback: &kedav1alpha1.Fallback{FailureThreshold: 3, Replicas: 2}}
	failing := &engine.TriggerState{Sample: engine.Sample{Err: errors.New("down"), ConsecutiveFailures: 2}}
	if FallbackActive(spec, failing) {
		t.Error("active below the threshold")
	}
	failing.ConsecutiveFailures = 3
	if !FallbackActive(spec, failing) || FallbackActive(&kedav1alpha1.ScaledObjectSpec{}, failing) {
		t.Error("fallback active wrongly")
	}
}
