package scaledjob_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaledjob"
)

func finishedAt(name string, ct batchv1.JobConditionType, completion string) batchv1.Job {
	j := finished(name, ct)
	ts, err := time.Parse(time.RFC3339, completion)
	if err != nil {
		panic(err)
	}
	j.Status.CompletionTime = &metav1.Time{Time: ts}
	return j
}

func names(d scaledjob.Deletion) []string {
	out := make([]string, len(d.Jobs))
	for i, j := range d.Jobs {
		out[i] = j.Name
	}
	return out
}

// The first three cases are KEDA's TestCleanUpNormalCase, TestCleanUpMixedCaseWithSortByTime and
// TestCleanUpDefaultValue (pkg/scaling/executor/scale_jobs_test.go).
func TestHistoryCleanup(t *testing.T) {
	const ok, failed = batchv1.JobComplete, batchv1.JobFailed
	defaults := make([]batchv1.Job, 0, 202)
	defaults = append(defaults, finishedAt("success0", ok, "2020-07-29T15:35:00Z"))
	for i := 1; i < 101; i++ {
		defaults = append(defaults, finishedAt(fmt.Sprintf("success%d", i), ok, "2020-07-29T15:40:00Z"))
	}
	defaults = append(defaults, finishedAt("fail101", failed, "2020-07-29T15:35:00Z"))
	for i := 102; i < 202; i++ {
		defaults = append(defaults, finishedAt(fmt.Sprintf("fail%d", i), failed, "2020-07-29T15:40:00Z"))
	}

	at := func(name string, ct batchv1.JobConditionType, minute int) batchv1.Job {
		j := finished(name, ct)
		j.Status.Conditions[0].LastTransitionTime = metav1.Date(2020, 7, 29, 15, minute, 0, 0, time.UTC)
		return j
	}
	tests := []struct {
		name                    string
		successLimit, failLimit *int32
		jobs                    []batchv1.Job
		want                    []string
	}{
		{
			name: "KEDA normal case", successLimit: ptr.To[int32](2), failLimit: ptr.To[int32](2),
			jobs: []batchv1.Job{finishedAt("name1", ok, "2020-07-29T15:37:00Z"), finishedAt("name2", ok, "2020-07-29T15:36:00Z"), finishedAt("name3", ok, "2020-07-29T15:38:00Z")},
			want: []string{"name2"},
		},
		{
			name: "KEDA mixed case sorted by time", successLimit: ptr.To[int32](1), failLimit: ptr.To[int32](2),
			jobs: []batchv1.Job{
				finishedAt("success1", ok, "2020-07-29T15:37:00Z"), finishedAt("success2", ok, "2020-07-29T15:36:00Z"), finishedAt("success3", ok, "2020-07-29T15:35:00Z"),
				finishedAt("fail1", failed, "2020-07-29T15:37:00Z"), finishedAt("fail2", failed, "2020-07-29T15:36:00Z"), finishedAt("fail3", failed, "2020-07-29T15:38:00Z"),
			},
			want: []string{"success3", "success2", "fail2"},
		},
		{name: "KEDA defaults of 100 each", jobs: defaults, want: []string{"success0", "fail101"}},
		{
			name: "failed Jobs without completionTime go by when they failed", failLimit: ptr.To[int32](1),
			jobs: []batchv1.Job{at("b", failed, 30), at("a", failed, 40), at("c", failed, 20)},
			want: []string{"c", "b"},
		},
		{
			name: "running Jobs are not history", successLimit: ptr.To[int32](0), failLimit: ptr.To[int32](0),
			jobs: []batchv1.Job{{ObjectMeta: metav1.ObjectMeta{Name: "running"}}, finishedAt("done", ok, "2020-07-29T15:37:00Z")},
			want: []string{"done"},
		},
		{name: "within the limits", jobs: []batchv1.Job{finishedAt("done", ok, "2020-07-29T15:37:00Z")}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := slices.Clone(tt.jobs)
			spec := &kedav1alpha1.ScaledJobSpec{SuccessfulJobsHistoryLimit: tt.successLimit, FailedJobsHistoryLimit: tt.failLimit}
			d := scaledjob.HistoryCleanup(spec, input)
			if got := names(d); !slices.Equal(got, tt.want) {
				t.Errorf("deletes %v, want %v", got, tt.want)
			}
			if d.Propagation != metav1.DeletePropagationBackground {
				t.Errorf("propagation %q, want Background", d.Propagation)
			}
			for i := range input {
				if input[i].Name != tt.jobs[i].Name {
					t.Fatal("the input slice was reordered")
				}
			}
		})
	}
}
