package tui

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
)

func TestHistorySamples(t *testing.T) {
	at := func(s int) metav1.Time { return metav1.NewTime(time.Date(2026, 12, 7, 12, 0, s, 0, time.UTC)) }
	h := &historyv1alpha1.History{
		Samples: []historyv1alpha1.Sample{
			{Time: at(0), Replicas: ptr.To[int32](0), Triggers: []historyv1alpha1.TriggerReading{{MetricName: "s0-redis-q", Value: ptr.To(resource.MustParse("0"))}}},
			{Time: at(30), Replicas: ptr.To[int32](0), DesiredReplicas: ptr.To[int32](1), Triggers: []historyv1alpha1.TriggerReading{
				{MetricName: "s0-redis-q", Value: ptr.To(resource.MustParse("6")), Target: ptr.To(resource.MustParse("2")), Activation: "1", Active: true}}},
			{Time: at(40), Triggers: []historyv1alpha1.TriggerReading{{MetricName: "s0-redis-q", Error: "connection refused"}}},
		},
		Decisions: []historyv1alpha1.Decision{
			{Time: at(0), Type: historyv1alpha1.DecisionConfigChanged, Generation: 1},
			{Time: at(31), Type: historyv1alpha1.DecisionActivated, Trigger: "queue"},
			{Time: at(40), Type: historyv1alpha1.DecisionScalerError, Trigger: "queue", Message: "connection refused"},
		},
	}
	got := historySamples(h, at(10).Time)
	if len(got.Samples) != 2 || len(got.Events) != 2 {
		t.Fatalf("from 12:00:10: %d samples and %d events, want 2 and 2", len(got.Samples), len(got.Events))
	}
	s := got.Samples[0]
	tr := s.Triggers[0]
	if !s.HasReplicas || s.Current != 0 || s.Desired != 1 || tr.Value != 6 || !tr.HasValue || tr.Target != 2 || tr.Activation != 1 || !tr.Active {
		t.Errorf("the active sample reads %+v", s)
	}
	if failed := got.Samples[1]; failed.HasReplicas || failed.Triggers[0].HasValue {
		t.Errorf("a failed poll without replicas reads %+v: want gaps, not zeros", failed)
	}
	if e := got.Events[0]; e.Reason != "Activated" || e.Type != "Normal" || e.Message != "trigger queue" || eventMark(e.Type, e.Reason) != 'A' {
		t.Errorf("activation event %+v", e)
	}
	if e := got.Events[1]; e.Type != "Warning" || e.Message != "connection refused" {
		t.Errorf("scaler error event %+v", e)
	}
}
