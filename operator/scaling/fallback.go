package scaling

import (
	"fmt"
	"math"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
)

// FallbackActive reports whether fallback is configured and a trigger has failed more than
// failureThreshold times in a row, as KEDA counts it (numberOfFailures > failureThreshold): with a
// threshold of 0 the first failure falls back, with 3 the fourth.
func FallbackActive(spec *kedav1alpha1.ScaledObjectSpec, t *engine.TriggerState) bool {
	f := spec.Fallback
	return f != nil && t.Err != nil && f.FailureThreshold >= 0 && f.Replicas >= 0 && t.ConsecutiveFailures > f.FailureThreshold
}

// FallbackState is what fallback makes of a poll, as KEDA's scale loop sees it once fallback is
// applied to each trigger.
type FallbackState struct {
	// InForce is set when a trigger has failed more than failureThreshold times: the Fallback
	// condition.
	InForce bool
	// Serving is set when a fallback value stands in for a failing trigger, which KEDA counts as an
	// active trigger without error (so it activates the target from zero, as KEDA's
	// TestFallbackFromZero expects). Not under the scalingModifiers behavior: there the formula
	// decides.
	Serving bool
	// PerReadyPod is set when every value served is a Value target's, divided by the target's
	// ready pods: at zero replicas there is none, KEDA serves no fallback and the trigger stays a
	// failure.
	PerReadyPod bool
	// Failing is set when a trigger failed and no fallback stands in for it (within its threshold,
	// or no fallback configured): KEDA's isError.
	Failing bool
	// Missing names the triggers the scalingModifiers formula reads as nil (the scalingModifiers
	// behavior, past the threshold).
	Missing map[string]bool
}

// ServedAt reports whether a fallback value is served with the target at current replicas (known
// false: not read yet): a Value target's needs a ready pod, none at zero.
func (fs FallbackState) ServedAt(current int32, known bool) bool {
	return fs.Serving && !(fs.PerReadyPod && (!known || current == 0))
}

// Fallback tells what fallback makes of st under spec.
func Fallback(spec *kedav1alpha1.ScaledObjectSpec, st *engine.ObjectState) FallbackState {
	var fs FallbackState
	byFormula := spec.Fallback != nil && spec.Fallback.Behavior == kedav1alpha1.FallbackBehaviorScalingModifiers
	modifiersType := autoscalingv2.MetricTargetType("")
	if spec.UsesScalingModifiers() {
		modifiersType = spec.Advanced.ScalingModifiers.MetricType
		if modifiersType == "" {
			modifiersType = autoscalingv2.AverageValueMetricType
		}
	}
	perReadyPod := true
	for i := range st.Triggers {
		t := &st.Triggers[i]
		switch {
		case t.Err == nil:
		case !FallbackActive(spec, t):
			fs.Failing = true
		case byFormula:
			fs.InForce = true
			if t.Name != "" {
				if fs.Missing == nil {
					fs.Missing = map[string]bool{}
				}
				fs.Missing[t.Name] = true
			}
		default:
			fs.InForce, fs.Serving = true, true
			typ := t.Target.Type
			if modifiersType != "" {
				typ = modifiersType
			}
			perReadyPod = perReadyPod && typ == autoscalingv2.ValueMetricType
		}
	}
	fs.PerReadyPod = fs.Serving && perReadyPod
	return fs
}

// FallbackReplicas is how many replicas the HPA should converge to while falling back, given the
// target's current replicas, per fallback.behavior. The scalingModifiers behavior serves no
// replicas of its own (the formula decides); it is not asked here.
func FallbackReplicas(f *kedav1alpha1.Fallback, current int32) int32 {
	switch f.Behavior {
	case kedav1alpha1.FallbackBehaviorCurrentReplicas:
		return current
	case kedav1alpha1.FallbackBehaviorCurrentReplicasIfHigher:
		return max(current, f.Replicas)
	case kedav1alpha1.FallbackBehaviorCurrentReplicasIfLower:
		return min(current, f.Replicas)
	default:
		return f.Replicas
	}
}

// FallbackPlaceholder is the value KEDA serves for a failing trigger under the scalingModifiers
// behavior: the formula reads that trigger as nil, so that expr's ?? operator can replace it.
var FallbackPlaceholder = *resource.NewQuantity(-1, resource.DecimalSI)

// TargetValue is a trigger's HPA target as its metric type and number: the AverageValue or the
// Value.
func TargetValue(t autoscalingv2.MetricTarget) (autoscalingv2.MetricTargetType, float64, error) {
	switch {
	case t.Type == autoscalingv2.AverageValueMetricType && t.AverageValue != nil:
		return t.Type, t.AverageValue.AsApproximateFloat64(), nil
	case t.Type == autoscalingv2.ValueMetricType && t.Value != nil:
		return t.Type, t.Value.AsApproximateFloat64(), nil
	}
	return t.Type, 0, fmt.Errorf("a fallback needs an AverageValue or Value target, the trigger's is %q", t.Type)
}

// FallbackValue is the metric value that makes the HPA converge to replicas, as KEDA computes it:
// for an AverageValue target, target x replicas (the HPA divides by the pods it runs); for a Value
// target, target x replicas / ready, where ready is the target's Running and Ready pods (the HPA
// multiplies the ratio to the target by them). With no ready pod a Value target has no fallback:
// the error says so and the HPA keeps the failure.
func FallbackValue(metricType autoscalingv2.MetricTargetType, target float64, replicas, ready int32) (resource.Quantity, error) {
	perTarget := float64(replicas)
	switch metricType {
	case autoscalingv2.AverageValueMetricType:
	case autoscalingv2.ValueMetricType:
		if ready <= 0 {
			return resource.Quantity{}, fmt.Errorf("the target has no Running and Ready pod, and a Value target's fallback is divided by them: no fallback until a pod is ready")
		}
		perTarget /= float64(ready)
	default:
		return resource.Quantity{}, fmt.Errorf("a fallback needs an AverageValue or Value target, not %q", metricType)
	}
	milli := target * 1000 * perTarget
	switch {
	case math.IsNaN(milli) || milli < 0:
		milli = 0
	case milli > math.MaxInt64/2:
		milli = math.MaxInt64 / 2
	}
	return *resource.NewMilliQuantity(int64(milli), resource.DecimalSI), nil
}

// ReadyReplicas counts the pods that are Running with the Ready condition True, as KEDA (and the
// HPA's replica calculator) count them for a Value target's fallback.
func ReadyReplicas(pods []corev1.Pod) int32 {
	var n int32
	for i := range pods {
		if pods[i].Status.Phase != corev1.PodRunning {
			continue
		}
		for _, c := range pods[i].Status.Conditions {
			if c.Type == corev1.PodReady {
				if c.Status == corev1.ConditionTrue {
					n++
				}
				break
			}
		}
	}
	return n
}
