package controller

import (
	"context"
	"errors"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/kedactl/kedactl/operator/engine"
)

func TestOutcomeOf(t *testing.T) {
	spec := autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType}
	spec2 := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType}
	for _, tc := range []struct {
		name      string
		infos     []engine.TriggerInfo
		specs     int
		errs      string
		transient bool
	}{
		{"all built", []engine.TriggerInfo{{MetricSpecs: []autoscalingv2.MetricSpec{spec}}, {MetricSpecs: []autoscalingv2.MetricSpec{spec2}}}, 2, "", true},
		{"a spec error", []engine.TriggerInfo{{MetricSpecs: []autoscalingv2.MetricSpec{spec}}, {Err: errors.New("trigger 1 (redis): listName is required")}}, 1, "trigger 1 (redis): listName is required", false},
		{"a source that timed out", []engine.TriggerInfo{{Err: context.DeadlineExceeded}}, 0, context.DeadlineExceeded.Error(), true},
		{"both", []engine.TriggerInfo{{Err: context.DeadlineExceeded}, {Err: errors.New("bad")}}, 0, context.DeadlineExceeded.Error() + "; bad", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := outcomeOf(tc.infos)
			if len(got.metricSpecs) != tc.specs || got.errs != tc.errs || (tc.errs != "" && got.allTransient != tc.transient) {
				t.Errorf("outcomeOf = %+v, want %d specs, errs %q, transient %v", got, tc.specs, tc.errs, tc.transient)
			}
		})
	}
}
