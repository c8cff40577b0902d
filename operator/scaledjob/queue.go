package scaledjob

import (
	"math"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TriggerSample is one trigger's reading in one poll. A trigger whose read failed gives no sample:
// KEDA leaves it out of the combination (and marks the ScaledJob's Ready condition instead).
type TriggerSample struct {
	// QueueLength is the trigger's value: the sum of the values it returned for its metric.
	QueueLength float64
	// TargetAverageValue is how many queue items one Job takes (the trigger's target value).
	TargetAverageValue float64
	// Active says the trigger is above its activation threshold.
	Active bool
}

// SampleTrigger turns what a scaler returned (its metric specs, the values read for them, and its
// activity) into a TriggerSample the way KEDA does: the queue length sums the values named like the
// first spec's metric, and the target is the mean AverageValue over all the specs (a spec without one
// counts as 0). ok is false when the scaler has no External metric spec, which KEDA skips.
func SampleTrigger(specs []autoscalingv2.MetricSpec, values []external_metrics.ExternalMetricValue, active bool) (sample TriggerSample, ok bool) {
	if len(specs) == 0 || specs[0].External == nil {
		return TriggerSample{}, false
	}
	name := specs[0].External.Metric.Name
	for _, v := range values {
		if v.MetricName == name {
			sample.QueueLength += v.Value.AsApproximateFloat64()
		}
	}
	var sum float64
	for _, s := range specs {
		if s.External != nil && s.External.Target.AverageValue != nil {
			sum += s.External.Target.AverageValue.AsApproximateFloat64()
		}
	}
	sample.TargetAverageValue = sum / float64(len(specs))
	sample.Active = active
	return sample, true
}

// jobsFor is how many Jobs one trigger asks for before rounding: its queue length over its target,
// capped at the Jobs the queue may add. A zero target asks for nothing rather than dividing by zero.
func (s TriggerSample) jobsFor(maxAboveMin int64) float64 {
	if s.TargetAverageValue == 0 {
		return 0
	}
	return math.Min(s.QueueLength/s.TargetAverageValue, float64(maxAboveMin))
}

// Queue is the triggers' combined reading that the scaling strategies work from.
type Queue struct {
	// Active says the ScaledJob should create Jobs at all this poll: a selected trigger is active,
	// or minReplicaCount is above zero.
	Active bool
	// Length is the combined queue length rounded up (KEDA's "scaleTo").
	Length int64
	// MaxScale is the combined Jobs-for-the-queue, capped at Bounds.MaxAboveMin and rounded up.
	MaxScale int64
}

// CombineTriggers combines the samples of one poll with spec.scalingStrategy.multipleScalersCalculation,
// exactly as KEDA does, including its quirks:
//   - only active triggers count; with max, a trigger is picked for the largest queue length (not the
//     most Jobs), and an active trigger with queue length 0 is never picked, so it does not make the
//     ScaledJob active;
//   - with min, the active trigger with the smaller queue length is picked, but a picked length of 0
//     is replaced by the next active trigger whatever its length, so the result depends on the order
//     of the triggers when one of them reads 0;
//   - avg and sum average or add the queue lengths and the Jobs-for-the-queue of the active triggers;
//   - minReplicaCount > 0 makes the ScaledJob active whatever the triggers say.
func CombineTriggers(spec *kedav1alpha1.ScaledJobSpec, samples []TriggerSample) Queue {
	bounds := BoundsFor(spec)
	var length, jobs float64
	active := false
	switch spec.EffectiveMultipleScalersCalculation() {
	case kedav1alpha1.MultipleScalersCalculationMin:
		for _, s := range samples {
			if s.Active && (length == 0 || s.QueueLength < length) {
				length, jobs, active = s.QueueLength, s.jobsFor(bounds.MaxAboveMin), true
			}
		}
	case kedav1alpha1.MultipleScalersCalculationAvg, kedav1alpha1.MultipleScalersCalculationSum:
		n := 0
		for _, s := range samples {
			if s.Active {
				length += s.QueueLength
				jobs += s.jobsFor(bounds.MaxAboveMin)
				active = true
				n++
			}
		}
		if n > 0 && spec.EffectiveMultipleScalersCalculation() == kedav1alpha1.MultipleScalersCalculationAvg {
			length /= float64(n)
			jobs /= float64(n)
		}
	default:
		for _, s := range samples {
			if s.Active && s.QueueLength > length {
				length, jobs, active = s.QueueLength, s.jobsFor(bounds.MaxAboveMin), true
			}
		}
	}
	if bounds.Min > 0 {
		active = true
	}
	jobs = math.Min(jobs, float64(bounds.MaxAboveMin))
	return Queue{Active: active, Length: ceilInt64(length), MaxScale: ceilInt64(jobs)}
}

// ceilInt64 rounds up as KEDA does, but saturates instead of overflowing: a float64 beyond int64's
// range has no defined conversion in Go, and a NaN reading should ask for nothing.
func ceilInt64(x float64) int64 {
	switch {
	case math.IsNaN(x):
		return 0
	case x >= math.MaxInt64:
		return math.MaxInt64
	case x <= math.MinInt64:
		return math.MinInt64
	}
	return int64(math.Ceil(x))
}
