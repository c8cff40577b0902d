package scalers

import (
	"context"
	"fmt"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

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
	var md meta.ResourceMetadata
	if err := ParseMetadata(cfg, &md); err != nil {
		return nil, err
	}
	target := md.Target
	name := ResourceTriggerTypes[cfg.TriggerType]
	spec := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{Name: name, Target: target}}
	if md.ContainerName != "" {
		spec = autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: name, Container: md.ContainerName, Target: target}}
	}
	return &resourceScaler{spec: spec}, nil
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
