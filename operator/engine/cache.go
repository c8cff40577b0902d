package engine

import (
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Sample is the result of one poll of one trigger's metric.
type Sample struct {
	Value  resource.Quantity
	Active bool
	// Err is the poll's error, if any; Value and Active are then those of the last good poll.
	Err  error
	Time time.Time
	// ConsecutiveFailures counts the polls that failed in a row up to this one.
	ConsecutiveFailures int32
	// Polled is false until the first poll has finished.
	Polled bool
	// Seq numbers the engine's samples in the order they were taken: a larger Seq is a newer
	// reading of the source.
	Seq uint64
}

// TriggerState is what the engine knows about one trigger of one ScaledObject.
type TriggerState struct {
	Index      int
	Name       string
	Type       string
	MetricName string
	// Target is the HPA target of the trigger's metric (AverageValue or Value).
	Target autoscalingv2.MetricTarget
	// Resource is set for cpu and memory triggers: a Resource metric that the HPA reads from
	// metrics.k8s.io, never polled by the engine.
	Resource bool
	// UseCachedMetrics is spec.triggers[].useCachedMetrics: the HPA is answered from the last poll
	// rather than from a read at its request.
	UseCachedMetrics bool
	Sample
}

// ObjectState is what the engine knows about one ScaledObject: its triggers' latest samples and the
// errors met while building their scalers.
type ObjectState struct {
	Key      Key
	Triggers []TriggerState
}

// Active reports whether any trigger is active. cpu and memory triggers take no part, as in KEDA:
// beside another trigger, that one decides activation (so the target can go to zero); alone, the
// object is always active (minReplicaCount must then be at least 1).
func (s *ObjectState) Active() bool {
	resourceOnly := len(s.Triggers) > 0
	for _, t := range s.Triggers {
		if t.Resource {
			continue
		}
		resourceOnly = false
		if t.Active {
			return true
		}
	}
	return resourceOnly
}

// NamedValues returns the latest good value of every named trigger that has been polled, by trigger
// name, for the scalingModifiers formula.
func (s *ObjectState) NamedValues() map[string]float64 {
	out := make(map[string]float64, len(s.Triggers))
	for _, t := range s.Triggers {
		if _, seen := out[t.Name]; t.Name != "" && !seen && t.Polled && !t.Resource {
			// A trigger with several metrics enters the formula with its first.
			out[t.Name] = t.Value.AsApproximateFloat64()
		}
	}
	return out
}

// Failing reports whether any trigger's last poll failed.
func (s *ObjectState) Failing() bool {
	for _, t := range s.Triggers {
		if t.Err != nil {
			return true
		}
	}
	return false
}

// Polled reports whether every trigger has been polled at least once.
func (s *ObjectState) Polled() bool {
	for _, t := range s.Triggers {
		if !t.Polled {
			return false
		}
	}
	return true
}

// Newest is the Seq of the newest sample of any trigger: activation acts when it grows.
func (s *ObjectState) Newest() uint64 {
	var n uint64
	for _, t := range s.Triggers {
		n = max(n, t.Seq)
	}
	return n
}

// Metric returns the trigger that serves metricName, or nil. The comparison ignores case: the
// external metrics API hands metric names to the server in lower case.
func (s *ObjectState) Metric(metricName string) *TriggerState {
	for i := range s.Triggers {
		if strings.EqualFold(s.Triggers[i].MetricName, metricName) {
			return &s.Triggers[i]
		}
	}
	return nil
}
