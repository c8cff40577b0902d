package history

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
)

// Readings turns the engine's trigger states into history readings, with each trigger's
// activation threshold from its spec (triggers[Index].metadata). Triggers never polled and cpu or
// memory triggers (which the HPA reads itself) are left out.
func Readings(states []engine.TriggerState, spec []kedav1alpha1.ScaleTriggers) []historyv1alpha1.TriggerReading {
	out := make([]historyv1alpha1.TriggerReading, 0, len(states))
	for _, t := range states {
		if t.Resource || !t.Polled {
			continue
		}
		r := historyv1alpha1.TriggerReading{
			Index:      int32(t.Index),
			Name:       t.Name,
			Type:       t.Type,
			MetricName: t.MetricName,
			Value:      ptrTo(t.Value),
			Active:     t.Active,
		}
		switch t.Target.Type {
		case autoscalingv2.AverageValueMetricType:
			r.Target, r.TargetType = copyQuantity(t.Target.AverageValue), string(t.Target.Type)
		case autoscalingv2.ValueMetricType:
			r.Target, r.TargetType = copyQuantity(t.Target.Value), string(t.Target.Type)
		}
		if t.Index >= 0 && t.Index < len(spec) {
			r.Activation = kedav1alpha1.ActivationThreshold(spec[t.Index].Metadata)
		}
		if t.Err != nil {
			r.Error = t.Err.Error()
		}
		out = append(out, r)
	}
	return out
}

func ptrTo(q resource.Quantity) *resource.Quantity {
	c := q.DeepCopy()
	return &c
}

func copyQuantity(q *resource.Quantity) *resource.Quantity {
	if q == nil {
		return nil
	}
	return ptrTo(*q)
}
