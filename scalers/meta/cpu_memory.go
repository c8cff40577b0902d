package meta

import (
	"fmt"
	"strconv"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ResourceMetadata is the metadata of the cpu and memory triggers. They are not polled by the
// operator: they become a Resource (or ContainerResource) metric of the HPA, which reads it from
// metrics.k8s.io itself.
type ResourceMetadata struct {
	// Type is the deprecated spelling of spec.triggers[].metricType.
	Type          string `keda:"name=type, order=triggerMetadata, optional, enum=Utilization;AverageValue"`
	Value         string `keda:"name=value, order=triggerMetadata"`
	ContainerName string `keda:"name=containerName, order=triggerMetadata, optional"`

	Target autoscalingv2.MetricTarget
}

// ValidateConfig decides the HPA target from the metric type and the value together.
func (m *ResourceMetadata) ValidateConfig(cfg *Trigger) error {
	t, err := resourceTarget(cfg, m)
	m.Target = t
	return err
}

// resourceTarget decides the HPA target: spec.triggers[].metricType wins over the deprecated
// metadata.type; Utilization takes a whole percentage, AverageValue a quantity.
func resourceTarget(cfg *Trigger, md *ResourceMetadata) (autoscalingv2.MetricTarget, error) {
	perr := func(param, problem, fix string) error {
		return &ParamError{TriggerIndex: cfg.Index, TriggerType: cfg.Type, TriggerName: cfg.Name, Param: param, Problem: problem, Fix: fix}
	}
	metricType := cfg.MetricType
	switch {
	case metricType == "" && md.Type == "":
		return autoscalingv2.MetricTarget{}, fmt.Errorf("trigger %d (%s): spec.triggers[%d].metricType is required for a %s trigger: set it to Utilization or AverageValue",
			cfg.Index, cfg.Type, cfg.Index, cfg.Type)
	case metricType == "":
		metricType = autoscalingv2.MetricTargetType(md.Type)
	case md.Type != "" && autoscalingv2.MetricTargetType(md.Type) != metricType:
		return autoscalingv2.MetricTarget{}, perr("type", fmt.Sprintf("is %q but spec.triggers[%d].metricType is %q", md.Type, cfg.Index, metricType),
			"remove the deprecated metadata.type and keep metricType")
	}
	switch metricType {
	case autoscalingv2.UtilizationMetricType:
		pct, err := strconv.ParseInt(md.Value, 10, 32)
		if err != nil || pct <= 0 {
			return autoscalingv2.MetricTarget{}, perr("value", fmt.Sprintf("is %q", md.Value),
				"with metricType Utilization it is a whole percentage of the containers' requests greater than 0, e.g. \"60\"")
		}
		p := int32(pct)
		return autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &p}, nil
	case autoscalingv2.AverageValueMetricType:
		q, err := resource.ParseQuantity(md.Value)
		if err != nil || q.Sign() <= 0 {
			return autoscalingv2.MetricTarget{}, perr("value", fmt.Sprintf("is %q", md.Value),
				"with metricType AverageValue it is a quantity per pod greater than 0, e.g. \"500m\" for cpu or \"256Mi\" for memory")
		}
		return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}, nil
	default:
		return autoscalingv2.MetricTarget{}, fmt.Errorf("trigger %d (%s): spec.triggers[%d].metricType %q is not valid for a %s trigger: use Utilization or AverageValue",
			cfg.Index, cfg.Type, cfg.Index, metricType, cfg.Type)
	}
}
