package scalers

import (
	"fmt"
	"math"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// metricNameReplacer turns the characters KEDA replaces in metric names into dashes.
var metricNameReplacer = strings.NewReplacer(
	"/", "-", ".", "-", ":", "-", "%", "-", "(", "-", ")", "-", "\"", "-", " ", "-",
	"<", "-", ">", "-", "$", "-", "#", "-", "{", "-", "}", "-", "@", "-", "*", "-",
)

// NormalizeMetricName makes s usable in a metric name the way KEDA does.
func NormalizeMetricName(s string) string {
	return metricNameReplacer.Replace(s)
}

// MetricName is the external metric name of trigger index: s<index>-<normalized name>.
func MetricName(index int, name string) string {
	return fmt.Sprintf("s%d-%s", index, NormalizeMetricName(name))
}

// ExternalMetricSpec is the HPA metric spec of a trigger: AverageValue target unless the trigger's
// metricType says Value.
func ExternalMetricSpec(cfg *Config, metricName string, target float64) (autoscalingv2.MetricSpec, error) {
	milli := saturatedMillis(target, math.Trunc)
	if milli <= 0 && cfg.AsMetricSource && target == 0 {
		// A metric source of scalingModifiers without a target (KEDA makes some optional): the
		// HPA gets the formula's composite metric instead of this one, so no target is needed.
		milli = 0
	} else if milli <= 0 {
		// The HPA refuses a target that is not above 0, and a target below a thousandth is 0 in
		// milli units.
		return autoscalingv2.MetricSpec{}, fmt.Errorf("trigger %d (%s): metric %s: the target %g is not at least 0.001: the HPA needs a target above 0",
			cfg.TriggerIndex, cfg.TriggerType, meta.Clip(metricName, 80), target)
	}
	q := resource.NewMilliQuantity(milli, resource.DecimalSI)
	t := autoscalingv2.MetricTarget{}
	switch cfg.MetricType {
	case "", autoscalingv2.AverageValueMetricType:
		t.Type, t.AverageValue = autoscalingv2.AverageValueMetricType, q
	case autoscalingv2.ValueMetricType:
		t.Type, t.Value = autoscalingv2.ValueMetricType, q
	default:
		return autoscalingv2.MetricSpec{}, fmt.Errorf("trigger %d (%s): spec.triggers[%d].metricType %q is not valid for this trigger: use AverageValue or Value",
			cfg.TriggerIndex, cfg.TriggerType, cfg.TriggerIndex, cfg.MetricType)
	}
	return autoscalingv2.MetricSpec{
		Type:     autoscalingv2.ExternalMetricSourceType,
		External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: metricName}, Target: t},
	}, nil
}

// oneMetricSpec is GetMetricSpecForScaling for a trigger with one metric: its External spec, or
// none when the target cannot be one (parsing refuses such targets before a scaler is built).
func oneMetricSpec(cfg *Config, metricName string, target float64) []autoscalingv2.MetricSpec {
	spec, err := ExternalMetricSpec(cfg, metricName, target)
	if err != nil {
		return nil
	}
	return []autoscalingv2.MetricSpec{spec}
}

// oneMetricValue is GetMetricsAndActivity's value list for a trigger with one metric.
func oneMetricValue(metricName string, v float64) []external_metrics.ExternalMetricValue {
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *floatQuantity(v)}}
}

// floatQuantity is v with millis precision, as KEDA reports metric values.
func floatQuantity(v float64) *resource.Quantity {
	return resource.NewMilliQuantity(saturatedMillis(v, math.Round), resource.DecimalSI)
}
