package scaledjob_test

import (
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaledjob"
)

func spec(name string, averageValue int64) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(averageValue, resource.DecimalSI)},
	}}
}

func value(name string, v int64) external_metrics.ExternalMetricValue {
	return external_metrics.ExternalMetricValue{MetricName: name, Value: *resource.NewQuantity(v, resource.DecimalSI)}
}

// The targets are KEDA's TestTargetAverageValue numbers (pkg/scaling/scaledjob/metrics_test.go).
func TestSampleTrigger(t *testing.T) {
	tests := []struct {
		name       string
		specs      []autoscalingv2.MetricSpec
		values     []external_metrics.ExternalMetricValue
		wantOK     bool
		wantQueue  float64
		wantTarget float64
	}{
		{name: "no spec: skipped", wantOK: false},
		{name: "targets 1 and 1", specs: []autoscalingv2.MetricSpec{spec("s0-q", 1), spec("s0-q", 1)}, wantOK: true, wantTarget: 1},
		{name: "targets 5, 5, 3", specs: []autoscalingv2.MetricSpec{spec("s0-q", 5), spec("s0-q", 5), spec("s0-q", 3)}, wantOK: true, wantTarget: 4.333333333333333},
		{name: "targets 5, 5, 4", specs: []autoscalingv2.MetricSpec{spec("s0-q", 5), spec("s0-q", 5), spec("s0-q", 4)}, wantOK: true, wantTarget: 4.666666666666667},
		{
			name:   "queue length sums the values of the first spec's metric only",
			specs:  []autoscalingv2.MetricSpec{spec("s0-q", 2)},
			values: []external_metrics.ExternalMetricValue{value("s0-q", 7), value("s0-q", 3), value("s1-other", 100)},
			wantOK: true, wantQueue: 10, wantTarget: 2,
		},
		{
			name:   "a resource spec gives no sample",
			specs:  []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType}},
			wantOK: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := scaledjob.SampleTrigger(tt.specs, tt.values, true)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if ok && (got.QueueLength != tt.wantQueue || got.TargetAverageValue != tt.wantTarget || !got.Active) {
				t.Errorf("got %+v, want queue %v target %v active", got, tt.wantQueue, tt.wantTarget)
			}
		})
	}
}

func TestCombineTriggers(t *testing.T) {
	s := func(queue, target float64, active bool) scaledjob.TriggerSample {
		return scaledjob.TriggerSample{QueueLength: queue, TargetAverageValue: target, Active: active}
	}
	// a: queue 10, 2 per Job (5 Jobs); b: queue 6, 1 per Job (6 Jobs); c: inactive, queue 50.
	abc := []scaledjob.TriggerSample{s(10, 2, true), s(6, 1, true), s(50, 1, false)}
	tests := []struct {
		name     string
		calc     string
		min, max *int32
		samples  []scaledjob.TriggerSample
		want     scaledjob.Queue
	}{
		{name: "max picks the longest queue, not the most Jobs", samples: abc, want: scaledjob.Queue{Active: true, Length: 10, MaxScale: 5}},
		{name: "an unknown calculation is max", calc: "median", samples: abc, want: scaledjob.Queue{Active: true, Length: 10, MaxScale: 5}},
		{name: "min picks the shortest active queue", calc: "min", samples: abc, want: scaledjob.Queue{Active: true, Length: 6, MaxScale: 6}},
		{name: "avg of active triggers", calc: "avg", samples: abc, want: scaledjob.Queue{Active: true, Length: 8, MaxScale: 6}}, // 8, 5.5 -> 6
		{name: "sum of active triggers", calc: "sum", samples: abc, want: scaledjob.Queue{Active: true, Length: 16, MaxScale: 11}},
		{name: "sum is capped at maxReplicaCount", calc: "sum", max: ptr.To[int32](7), samples: abc, want: scaledjob.Queue{Active: true, Length: 16, MaxScale: 7}},
		{name: "a trigger's Jobs are capped at max minus min", max: ptr.To[int32](4), min: ptr.To[int32](1), samples: abc, want: scaledjob.Queue{Active: true, Length: 10, MaxScale: 3}},
		{name: "nothing active", samples: []scaledjob.TriggerSample{s(50, 1, false)}, want: scaledjob.Queue{}},
		{name: "minReplicaCount makes it active", min: ptr.To[int32](1), samples: []scaledjob.TriggerSample{s(50, 1, false)}, want: scaledjob.Queue{Active: true}},
		{name: "max: an active trigger reading 0 is not picked, so not active", samples: []scaledjob.TriggerSample{s(0, 1, true)}, want: scaledjob.Queue{}},
		{name: "min: a picked 0 is replaced by the next active trigger", calc: "min", samples: []scaledjob.TriggerSample{s(5, 1, true), s(0, 1, true), s(3, 1, true)}, want: scaledjob.Queue{Active: true, Length: 3, MaxScale: 3}},
		{name: "min: a 0 read last stays", calc: "min", samples: []scaledjob.TriggerSample{s(5, 1, true), s(3, 1, true), s(0, 1, true)}, want: scaledjob.Queue{Active: true}},
		{name: "queue length and Jobs round up", samples: []scaledjob.TriggerSample{s(4.2, 5, true)}, want: scaledjob.Queue{Active: true, Length: 5, MaxScale: 1}},
		{name: "a zero target asks for no Jobs", samples: []scaledjob.TriggerSample{s(4, 0, true)}, want: scaledjob.Queue{Active: true, Length: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := &kedav1alpha1.ScaledJobSpec{MinReplicaCount: tt.min, MaxReplicaCount: tt.max,
				ScalingStrategy: kedav1alpha1.ScalingStrategy{MultipleScalersCalculation: tt.calc}}
			if got := scaledjob.CombineTriggers(sp, tt.samples); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBoundsFor(t *testing.T) {
	tests := []struct {
		name     string
		min, max *int32
		want     scaledjob.Bounds
	}{
		{name: "defaults", want: scaledjob.Bounds{Min: 0, MaxAboveMin: 100}},
		{name: "max 10", max: ptr.To[int32](10), want: scaledjob.Bounds{MaxAboveMin: 10}},
		{name: "min 2 max 10", min: ptr.To[int32](2), max: ptr.To[int32](10), want: scaledjob.Bounds{Min: 2, MaxAboveMin: 8}},
		{name: "min 5 without max: 100 above it", min: ptr.To[int32](5), want: scaledjob.Bounds{Min: 5, MaxAboveMin: 100}},
		{name: "min above max: min lowered, max not reduced", min: ptr.To[int32](5), max: ptr.To[int32](3), want: scaledjob.Bounds{Min: 3, MaxAboveMin: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scaledjob.BoundsFor(&kedav1alpha1.ScaledJobSpec{MinReplicaCount: tt.min, MaxReplicaCount: tt.max}); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
