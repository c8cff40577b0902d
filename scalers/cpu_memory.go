package scalers

import (
	"context"
	"fmt"
	"strconv"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"

	"github.com/kedactl/kedactl/scalers/meta"
)

// resourceMetadata is the metadata of the cpu and memory triggers. They are not polled by the
// operator: they become a Resource (or ContainerResource) metric of the HPA, which reads it from
// metrics.k8s.io itself.
type resourceMetadata struct {
	// Type is the deprecated spelling of spec.triggers[].metricType.
	Type          string `keda:"name=type, order=triggerMetadata, optional, enum=Utilization;AverageValue"`
	Value         string `keda:"name=value, order=triggerMetadata"`
	ContainerName string `keda:"name=containerName, order=triggerMetadata, optional"`

	target autoscalingv2.MetricTarget
}

// ValidateConfig decides the HPA target from the metric type and the value together.
func (m *resourceMetadata) ValidateConfig(cfg *meta.Trigger) error {
	t, err := resourceTarget(cfg, m)
	m.target = t
	return err
}

// ResourceTriggerTypes are the trigger types served by a Resource metric rather than an External one.
var ResourceTriggerTypes = map[string]corev1.ResourceName{
	"cpu":    corev1.ResourceCPU,
	"memory": corev1.ResourceMemory,
}

// IsResourceTrigger reports whether a trigger type is cpu or memory.
func IsResourceTrigger(triggerType string) bool {
	_, ok := ResourceTriggerTypes[triggerType]
	return ok
}

type resourceScaler struct {
	spec autoscalingv2.MetricSpec
}

func newResourceScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var md resourceMetadata
	if err := ParseMetadata(cfg, &md); err != nil {
		return nil, err
	}
	target := md.target
	name := ResourceTriggerTypes[cfg.TriggerType]
	spec := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{Name: name, Target: target}}
	if md.ContainerName != "" {
		spec = autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: name, Container: md.ContainerName, Target: target}}
	}
	return &resourceScaler{spec: spec}, nil
}

// resourceTarget decides the HPA target: spec.triggers[].metricType wins over the deprecated
// metadata.type; Utilization takes a whole percentage, AverageValue a quantity.
func resourceTarget(cfg *meta.Trigger, md *resourceMetadata) (autoscalingv2.MetricTarget, error) {
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

func (s *resourceScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return []autoscalingv2.MetricSpec{*s.spec.DeepCopy()}
}

// GetMetricsAndActivity is never called by the engine (it polls External metrics only): the HPA
// reads cpu and memory from metrics.k8s.io.
func (s *resourceScaler) GetMetricsAndActivity(context.Context, string) ([]external_metrics.ExternalMetricValue, bool, error) {
	return nil, false, fmt.Errorf("%s triggers are read by the HPA from metrics.k8s.io, not polled by the operator", s.spec.Type)
}

func (s *resourceScaler) Close(context.Context) error { return nil }
