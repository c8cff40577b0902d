package scaledjob_test

import (
	"testing"

	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaledjob"
)

// KEDA's getScalingDecision tests (pkg/scaling/executor/scale_jobs_test.go): below minReplicaCount the
// missing Jobs are created whatever the queue; at it, the strategy decides.
func TestDecideMinReplicaCount(t *testing.T) {
	tests := []struct {
		name       string
		min        int32
		queue      scaledjob.Queue
		running    int64
		wantCreate int64
	}{
		{"none running, min 2", 2, scaledjob.Queue{Active: true}, 0, 2},
		{"1 running, min 2", 2, scaledjob.Queue{Active: true}, 1, 1},
		{"1 running, min 1, queue asks for 2", 1, scaledjob.Queue{Active: true, Length: 2, MaxScale: 2}, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &kedav1alpha1.ScaledJobSpec{MinReplicaCount: ptr.To(tt.min), MaxReplicaCount: ptr.To[int32](100)}
			d := scaledjob.Decide(spec, tt.queue, scaledjob.JobCounts{Running: tt.running})
			if d.Create != tt.wantCreate {
				t.Errorf("Create = %d, want %d (%s)", d.Create, tt.wantCreate, d)
			}
		})
	}
}

// The maxReplicaCount table and the minReplicaCount example of KEDA's ScaledJob specification
// (keda.sh/docs/2.21/reference/scaledjob-spec), run through CombineTriggers and Decide.
func TestDecideDocsExamples(t *testing.T) {
	tests := []struct {
		name                string
		queueLength, target float64
		min, max            *int32
		running             int64
		want                int64
	}{
		{name: "queue 10, max 3, target 1", queueLength: 10, target: 1, max: ptr.To[int32](3), want: 3},
		{name: "queue 10, max 3, target 2", queueLength: 10, target: 2, max: ptr.To[int32](3), want: 3},
		{name: "queue 10, max 3, target 1, 1 running", queueLength: 10, target: 1, max: ptr.To[int32](3), running: 1, want: 2},
		{name: "queue 10, max 100, target 1", queueLength: 10, target: 1, max: ptr.To[int32](100), want: 10},
		{name: "queue 4, max 3, target 5", queueLength: 4, target: 5, max: ptr.To[int32](3), want: 1},
		{name: "min 2 running, 3 new messages, target 1: 3 more Jobs", queueLength: 3, target: 1, min: ptr.To[int32](2), running: 2, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &kedav1alpha1.ScaledJobSpec{MinReplicaCount: tt.min, MaxReplicaCount: tt.max}
			q := scaledjob.CombineTriggers(spec, []scaledjob.TriggerSample{{QueueLength: tt.queueLength, TargetAverageValue: tt.target, Active: true}})
			d := scaledjob.Decide(spec, q, scaledjob.JobCounts{Running: tt.running})
			if d.Create != tt.want {
				t.Errorf("Create = %d, want %d (%s)", d.Create, tt.want, d)
			}
		})
	}
}

func TestDecisionString(t *testing.T) {
	tests := []struct {
		name  string
		spec  kedav1alpha1.ScaledJobSpec
		queue scaledjob.Queue
		jobs  scaledjob.JobCounts
		want  string
	}{
		{
			name:  "accurate subtracts pending Jobs",
			spec:  kedav1alpha1.ScaledJobSpec{MaxReplicaCount: ptr.To[int32](20), ScalingStrategy: kedav1alpha1.ScalingStrategy{Strategy: "accurate"}},
			queue: scaledjob.Queue{Active: true, Length: 12, MaxScale: 12},
			jobs:  scaledjob.JobCounts{Running: 3, Pending: 1},
			want:  "queue 12, running 3, pending 1 -> 11 new Jobs (accurate, max 20)",
		},
		{
			name:  "not active",
			spec:  kedav1alpha1.ScaledJobSpec{},
			queue: scaledjob.Queue{},
			want:  "queue 0, running 0, pending 0 -> 0 new Jobs (default, max 100): no trigger is active",
		},
		{
			name:  "default: running Jobs cover the queue",
			spec:  kedav1alpha1.ScaledJobSpec{MaxReplicaCount: ptr.To[int32](10)},
			queue: scaledjob.Queue{Active: true, Length: 3, MaxScale: 3},
			jobs:  scaledjob.JobCounts{Running: 3},
			want:  "queue 3, running 3, pending 0 -> 0 new Jobs (default, max 10): the 3 running Jobs already cover the 3 the queue asks for",
		},
		{
			name:  "at maxReplicaCount",
			spec:  kedav1alpha1.ScaledJobSpec{MaxReplicaCount: ptr.To[int32](5)},
			queue: scaledjob.Queue{Active: true, Length: 9, MaxScale: 5},
			jobs:  scaledjob.JobCounts{Running: 5},
			want:  "queue 9, running 5, pending 0 -> 0 new Jobs (default, max 5): maxReplicaCount reached",
		},
		{
			name:  "minReplicaCount",
			spec:  kedav1alpha1.ScaledJobSpec{MinReplicaCount: ptr.To[int32](2), MaxReplicaCount: ptr.To[int32](5)},
			queue: scaledjob.Queue{Active: true},
			jobs:  scaledjob.JobCounts{Running: 1, Pending: 1},
			want:  "queue 0, running 1, pending 1 -> 1 new Job (default, max 5): to keep minReplicaCount 2",
		},
		{
			name:  "custom with a bad percentage falls back to default",
			spec:  kedav1alpha1.ScaledJobSpec{ScalingStrategy: kedav1alpha1.ScalingStrategy{Strategy: "custom", CustomScalingRunningJobPercentage: "50%"}},
			queue: scaledjob.Queue{Active: true, Length: 4, MaxScale: 4},
			jobs:  scaledjob.JobCounts{Running: 1},
			want:  `queue 4, running 1, pending 0 -> 3 new Jobs (default, max 100); custom ignored: customScalingRunningJobPercentage "50%" is not a number`,
		},
		{
			name:  "eager counts pending Jobs twice",
			spec:  kedav1alpha1.ScaledJobSpec{MaxReplicaCount: ptr.To[int32](4), ScalingStrategy: kedav1alpha1.ScalingStrategy{Strategy: "eager"}},
			queue: scaledjob.Queue{Active: true, Length: 6, MaxScale: 4},
			jobs:  scaledjob.JobCounts{Running: 2, Pending: 2},
			want:  "queue 6, running 2, pending 2 -> 0 new Jobs (eager, max 4): 2 running and 2 pending Jobs fill maxReplicaCount (eager counts pending Jobs twice)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scaledjob.Decide(&tt.spec, tt.queue, tt.jobs).String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
