package jobrunner

import (
	"errors"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/scaledjob"
)

func averageValue(v int64) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(v, resource.DecimalSI)}
}

func polled(v int64, active bool) engine.Sample {
	return engine.Sample{Value: *resource.NewQuantity(v, resource.DecimalSI), Active: active, Polled: true}
}

func TestSamples(t *testing.T) {
	st := &engine.ObjectState{Triggers: []engine.TriggerState{
		{Index: 0, MetricName: "s0-redis-jobs", Target: averageValue(2), Sample: polled(10, true)},
		// An external trigger with two metrics: the first's value, the mean of both targets.
		{Index: 1, MetricName: "s1-external-a", Target: averageValue(3), Sample: polled(7, true)},
		{Index: 1, MetricName: "s1-external-b", Target: averageValue(5), Sample: polled(100, true)},
		// A failed trigger gives no sample, as KEDA skips it.
		{Index: 2, MetricName: "s2-redis-down", Target: averageValue(1), Sample: engine.Sample{Polled: true, Err: errors.New("down")}},
		// Not polled yet: nothing to combine.
		{Index: 3, MetricName: "s3-redis-new", Target: averageValue(1)},
	}}
	got := Samples(st)
	want := []scaledjob.TriggerSample{
		{QueueLength: 10, TargetAverageValue: 2, Active: true},
		{QueueLength: 7, TargetAverageValue: 4, Active: true},
	}
	if len(got) != len(want) {
		t.Fatalf("Samples = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sample %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadyCondition(t *testing.T) {
	ok := engine.TriggerState{Sample: polled(1, true)}
	failed := engine.TriggerState{Sample: engine.Sample{Polled: true, Err: errors.New("down")}}
	for _, tc := range []struct {
		name     string
		triggers []engine.TriggerState
		active   bool
		status   metav1.ConditionStatus
		reason   string
	}{
		{"all good", []engine.TriggerState{ok}, true, metav1.ConditionTrue, kedav1alpha1.ReasonScaledJobReady},
		{"some failed, one active", []engine.TriggerState{ok, failed}, true, metav1.ConditionUnknown, kedav1alpha1.ReasonPartialTriggerError},
		{"failed, none active", []engine.TriggerState{failed}, false, metav1.ConditionFalse, kedav1alpha1.ReasonTriggerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := readyCondition(&engine.ObjectState{Triggers: tc.triggers}, tc.active)
			if c.Status != tc.status || c.Reason != tc.reason {
				t.Errorf("Ready = %s/%s, want %s/%s", c.Status, c.Reason, tc.status, tc.reason)
			}
		})
	}
}

// TestCreatedJobsCountUntilListed: a Job the runner created counts as running until the cache lists
// it, so a loop run before the cache catches up does not create it again; it stops counting once
// listed, or after the grace period.
func TestCreatedJobsCountUntilListed(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	r := New(Options{Clock: clk})
	key := types.NamespacedName{Namespace: "ns", Name: "worker"}
	r.created[key] = []createdJob{{name: "worker-a", at: clk.Now()}, {name: "worker-b", at: clk.Now()}}
	if n := r.unseenCreated(key, nil); n != 2 {
		t.Fatalf("unseen = %d, want 2", n)
	}
	listed := []batchv1.Job{{ObjectMeta: metav1.ObjectMeta{Name: "worker-a"}}}
	if n := r.unseenCreated(key, listed); n != 1 {
		t.Fatalf("unseen after worker-a is listed = %d, want 1", n)
	}
	clk.Step(createdJobGrace)
	if n := r.unseenCreated(key, listed); n != 0 {
		t.Fatalf("unseen after the grace period = %d, want 0", n)
	}
	if _, ok := r.created[key]; ok {
		t.Error("the empty record was kept")
	}
}

func TestALoopRunsOncePerSample(t *testing.T) {
	r := New(Options{})
	key := types.NamespacedName{Namespace: "ns", Name: "worker"}
	if !r.newSample(key, 1) || r.newSample(key, 1) || !r.newSample(key, 2) {
		t.Error("newSample must accept each sample once, in order")
	}
	r.Forget(key)
	if !r.newSample(key, 2) {
		t.Error("after Forget the sample is new again")
	}
}
