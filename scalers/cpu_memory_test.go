package scalers

import (
	"context"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

func TestResourceScalerMetricSpec(t *testing.T) {
	tests := []struct {
		name       string
		typ        string
		metricType autoscalingv2.MetricTargetType
		meta       map[string]string
		want       autoscalingv2.MetricSpec
	}{
		{
			name: "cpu utilization", typ: "cpu", metricType: "Utilization", meta: map[string]string{"value": "50"},
			want: autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: "cpu", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)}}},
		},
		{
			name: "memory average value", typ: "memory", metricType: "AverageValue", meta: map[string]string{"value": "256Mi"},
			want: autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: "memory", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("256Mi"))}}},
		},
		{
			name: "deprecated metadata type", typ: "cpu", meta: map[string]string{"type": "AverageValue", "value": "500m"},
			want: autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: "cpu", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("500m"))}}},
		},
		{
			name: "both spellings agree", typ: "memory", metricType: "Utilization", meta: map[string]string{"type": "Utilization", "value": "80"},
			want: autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: "memory", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](80)}}},
		},
		{
			name: "one container", typ: "cpu", metricType: "Utilization", meta: map[string]string{"value": "60", "containerName": "app"},
			want: autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
				Name: "cpu", Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](60)}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{TriggerIndex: 1, TriggerType: tt.typ, MetricType: tt.metricType, TriggerMetadata: tt.meta}
			s, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			specs := s.GetMetricSpecForScaling(context.Background())
			if len(specs) != 1 || !equality.Semantic.DeepEqual(specs[0], tt.want) {
				t.Errorf("spec = %+v, want %+v", specs, tt.want)
			}
			if err := ValidateTrigger(cfg); err != nil {
				t.Errorf("ValidateTrigger: %v", err)
			}
			// The engine never polls it; if something does, it says why rather than inventing a value.
			if _, _, err := s.GetMetricsAndActivity(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "metrics.k8s.io") {
				t.Errorf("GetMetricsAndActivity error = %v, want one pointing at metrics.k8s.io", err)
			}
		})
	}
}

func TestResourceScalerErrors(t *testing.T) {
	tests := []struct {
		name       string
		metricType autoscalingv2.MetricTargetType
		meta       map[string]string
		want       []string
	}{
		{name: "no metric type", meta: map[string]string{"value": "50"}, want: []string{"spec.triggers[0].metricType is required", "Utilization or AverageValue"}},
		{name: "Value is refused", metricType: "Value", meta: map[string]string{"value": "50"}, want: []string{`metricType "Value" is not valid for a cpu trigger`, "use Utilization or AverageValue"}},
		{name: "unknown deprecated type", meta: map[string]string{"type": "Value", "value": "50"}, want: []string{"metadata.type", "must be one of Utilization, AverageValue"}},
		{name: "spellings disagree", metricType: "AverageValue", meta: map[string]string{"type": "Utilization", "value": "50"}, want: []string{"metadata.type", "remove the deprecated metadata.type"}},
		{name: "value missing", metricType: "Utilization", meta: map[string]string{}, want: []string{"metadata.value is required"}},
		{name: "utilization not a whole number", metricType: "Utilization", meta: map[string]string{"value": "50.5"}, want: []string{"metadata.value", "whole percentage"}},
		{name: "utilization zero", metricType: "Utilization", meta: map[string]string{"value": "0"}, want: []string{"metadata.value", "greater than 0"}},
		{name: "average value not a quantity", metricType: "AverageValue", meta: map[string]string{"value": "lots"}, want: []string{"metadata.value", "a quantity per pod"}},
		{name: "average value negative", metricType: "AverageValue", meta: map[string]string{"value": "-1"}, want: []string{"metadata.value", "greater than 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{TriggerType: "cpu", MetricType: tt.metricType, TriggerMetadata: tt.meta}
			_, err := New(context.Background(), cfg)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tt.want, "trigger 0 (cpu") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if verr := ValidateTrigger(&Config{TriggerType: "cpu", MetricType: tt.metricType, TriggerMetadata: tt.meta, Offline: true}); verr == nil || verr.Error() != err.Error() {
				t.Errorf("ValidateTrigger offline = %v, want the same error as New", verr)
			}
		})
	}
}
