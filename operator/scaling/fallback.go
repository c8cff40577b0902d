package scaling

import (
	"math"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
)

// FallbackActive reports whether fallback is configured and a trigger has failed at least
// failureThreshold times in a row.
func FallbackActive(spec *kedav1alpha1.ScaledObjectSpec, t *engine.TriggerState) bool {
	f := spec.Fallback
	return f != nil && t.Err != nil && f.FailureThreshold > 0 && t.ConsecutiveFailures >= f.FailureThreshold
}

// AnyFallbackActive reports whether any trigger of st is falling back.
func AnyFallbackActive(spec *kedav1alpha1.ScaledObjectSpec, st *engine.ObjectState) bool {
	for i := range st.Triggers {
		if FallbackActive(spec, &st.Triggers[i]) {
			return true
		}
	}
	return false
}

// FallbackReplicas is how many replicas the HPA should converge to while falling back, given the
// target's current replicas, per fallback.behavior.
func FallbackReplicas(f *kedav1alpha1.Fallback, current int32) int32 {
	switch f.Behavior {
	case "currentReplicas":
		return current
	case "currentReplicasIfHigher":
		return max(current, f.Replicas)
	case "currentReplicasIfLower":
		return min(current, f.Replicas)
	default:
		return f.Replicas
	}
}

// FallbackValue is the metric value that makes the HPA converge to replicas: for an AverageValue
// target, replicas times the target. ok is false for other target types (fallback needs
// AverageValue triggers, as KEDA requires).
func FallbackValue(target autoscalingv2.MetricTarget, replicas int32) (resource.Quantity, bool) {
	if target.Type != autoscalingv2.AverageValueMetricType || target.AverageValue == nil {
		return resource.Quantity{}, false
	}
	milli := target.AverageValue.MilliValue() * int64(replicas)
	if milli > math.MaxInt64/2 {
		milli = math.MaxInt64 / 2
	}
	return *resource.NewMilliQuantity(milli, resource.DecimalSI), true
}
