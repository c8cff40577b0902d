package diagnose

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaledjob"
	"github.com/kedactl/kedactl/plugin/view"
)

func TestDiagnoseScaledJob(t *testing.T) {
	ready := kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue}
	active := kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionTrue}
	inactive := kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionFalse}
	spec := kedav1alpha1.ScaledJobSpec{MaxReplicaCount: ptr.To[int32](3)}
	// decide is the operator's decision on a queue and Jobs, as view.ScaledJobStateOf hands it over.
	decide := func(s kedav1alpha1.ScaledJobSpec, q scaledjob.Queue, c scaledjob.JobCounts) *scaledjob.Decision {
		d := scaledjob.Decide(&s, q, c)
		return &d
	}
	trigger := []view.JobTrigger{{Trigger: "#0", Type: "redis", Value: "1", Activation: "5"}}
	cases := []struct {
		name        string
		annotations map[string]string
		spec        *kedav1alpha1.ScaledJobSpec
		conds       kedav1alpha1.Conditions
		in          JobInputs
		want        []string
		// detail must appear in the details.
		detail string
	}{
		{name: "no status yet", want: []string{"Not reconciled yet", "Jobs: running 0, pending 0, succeeded 0, failed 0 (max 3)"}},
		{name: "not ready", conds: kedav1alpha1.Conditions{{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "ScaledJobCheckFailed"}},
			in:   JobInputs{CountsErr: errors.New("forbidden")},
			want: []string{"Not ready: ScaledJobCheckFailed", "Jobs cannot be counted"}},
		{name: "creating", conds: kedav1alpha1.Conditions{ready, active},
			in:   JobInputs{Counts: scaledjob.JobCounts{Running: 1}, Decision: decide(spec, scaledjob.Queue{Active: true, Length: 2, MaxScale: 2}, scaledjob.JobCounts{Running: 1})},
			want: []string{"Jobs: queue 2, running 1, pending 0 -> 1 new Job (default, max 3)"}},
		{name: "covered by running Jobs", conds: kedav1alpha1.Conditions{ready, active},
			in:   JobInputs{Counts: scaledjob.JobCounts{Running: 2}, Decision: decide(spec, scaledjob.Queue{Active: true, Length: 2, MaxScale: 2}, scaledjob.JobCounts{Running: 2})},
			want: []string{"Jobs: queue 2, running 2, pending 0 -> 0 new Jobs (default, max 3): the 2 running Jobs already cover the 2 the queue asks for"}},
		{name: "at max", conds: kedav1alpha1.Conditions{ready, active},
			in:     JobInputs{Counts: scaledjob.JobCounts{Running: 3}, Decision: decide(spec, scaledjob.Queue{Active: true, Length: 7, MaxScale: 3}, scaledjob.JobCounts{Running: 3})},
			want:   []string{"At maxReplicaCount: 3 Jobs running", "Jobs: queue 7, running 3, pending 0 -> 0 new Jobs (default, max 3): maxReplicaCount reached"},
			detail: "3 unfinished Jobs, the most this ScaledJob runs at once"},
		{name: "at max with minReplicaCount above maxReplicaCount", spec: &kedav1alpha1.ScaledJobSpec{MinReplicaCount: ptr.To[int32](5), MaxReplicaCount: ptr.To[int32](3)},
			conds: kedav1alpha1.Conditions{ready, active}, in: JobInputs{Counts: scaledjob.JobCounts{Running: 6}},
			want:   []string{"At maxReplicaCount: 6 Jobs running", "Jobs: running 6, pending 0, succeeded 0, failed 0 (max 6)"},
			detail: "with minReplicaCount 5 the most is 6"},
		{name: "paused", annotations: map[string]string{kedav1alpha1.AnnotationPaused: "true"}, conds: kedav1alpha1.Conditions{ready, active},
			in: JobInputs{Counts: scaledjob.JobCounts{Running: 3}, Decision: func() *scaledjob.Decision {
				d := decide(spec, scaledjob.Queue{Active: true, Length: 5, MaxScale: 3}, scaledjob.JobCounts{Running: 3})
				d.Create, d.Why = 0, "paused"
				return d
			}()},
			want:   []string{"Paused", "Jobs: queue 5, running 3, pending 0 -> 0 new Jobs (default, max 3): paused"},
			detail: "`kubectl keda resume sj/importer` resumes"},
		{name: "not active", conds: kedav1alpha1.Conditions{ready, inactive},
			in:     JobInputs{Triggers: trigger, Decision: decide(spec, scaledjob.Queue{}, scaledjob.JobCounts{})},
			want:   []string{"Jobs: queue 0, running 0, pending 0 -> 0 new Jobs (default, max 3): no trigger is active"},
			detail: "trigger #0 (redis): value 1, activation threshold 5"},
		{name: "upstream KEDA: no queue", conds: kedav1alpha1.Conditions{ready, active},
			in:     JobInputs{Counts: scaledjob.JobCounts{Running: 1, Succeeded: 4, Failed: 1}, QueueUnavailable: "status.externalMetricNames is empty: " + view.QueueFromOperatorOnly},
			want:   []string{"Jobs: running 1, pending 0, succeeded 4, failed 1 (max 3)"},
			detail: "queue length not available: status.externalMetricNames is empty: the queue length is served by kedactl's operator only"},
		{name: "upstream KEDA, inactive", conds: kedav1alpha1.Conditions{ready, inactive},
			want: []string{"Jobs: running 0, pending 0, succeeded 0, failed 0 (max 3)", "Not active"}},
		{name: "a metric not served", conds: kedav1alpha1.Conditions{ready, active},
			in:   JobInputs{MetricErrors: map[string]string{"s1-redis-b": "503", "s0-redis-a": "503"}, Decision: decide(spec, scaledjob.Queue{Active: true, Length: 1, MaxScale: 1}, scaledjob.JobCounts{})},
			want: []string{"Metric not served: s0-redis-a", "Metric not served: s1-redis-b", "Jobs: queue 1, running 0, pending 0 -> 1 new Job (default, max 3)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := spec
			if tc.spec != nil {
				s = *tc.spec
			}
			in := tc.in
			in.ScaledJob = &kedav1alpha1.ScaledJob{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "importer", Annotations: tc.annotations},
				Spec:       s,
				Status:     kedav1alpha1.ScaledJobStatus{Conditions: tc.conds},
			}
			got := DiagnoseScaledJob(in)
			var titles []string
			details := ""
			for _, f := range got {
				titles = append(titles, f.Title)
				details += f.Detail + "\n"
			}
			if strings.Join(titles, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(titles, "\n"), strings.Join(tc.want, "\n"))
			}
			if !strings.Contains(details, tc.detail) {
				t.Errorf("details do not say %q:\n%s", tc.detail, details)
			}
		})
	}
}
