package kedaclient

import (
	"testing"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestParseMetricAnswer reads an answer as kedactl's operator serves it for a ScaledJob trigger: the
// value with the target per Job and the activity as metricLabels.
func TestParseMetricAnswer(t *testing.T) {
	raw := []byte(`{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[
{"metricName":"s0-redis-orders","metricLabels":{"kedactl.dev/active":"true","kedactl.dev/target-average-value":"2"},"timestamp":"2026-11-23T12:00:00Z","value":"12"}]}`)
	v, err := ParseMetricAnswer(raw, "s0-redis-orders")
	if err != nil {
		t.Fatal(err)
	}
	if v.Value != "12" || v.Labels[kedav1alpha1.MetricLabelActive] != "true" || v.Labels[kedav1alpha1.MetricLabelTargetAverageValue] != "2" || v.Timestamp.IsZero() {
		t.Errorf("value = %+v", v)
	}
	if _, err := ParseMetricAnswer([]byte(`{"items":[]}`), "m"); err == nil {
		t.Error("an empty answer must be an error")
	}
	if _, err := ParseMetricAnswer([]byte(`<html>`), "m"); err == nil {
		t.Error("an undecodable answer must be an error")
	}
}
