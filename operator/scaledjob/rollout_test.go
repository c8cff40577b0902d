package scaledjob_test

import (
	"slices"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaledjob"
)

func TestRolloutCleanup(t *testing.T) {
	gen := func(name, generation string) batchv1.Job {
		j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)}}
		if generation != "" {
			j.Annotations = map[string]string{kedav1alpha1.AnnotationJobGeneration: generation}
		}
		return j
	}
	oldDone := gen("old-done", "2")
	oldDone.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: "True"}}
	jobs := []batchv1.Job{gen("current", "3"), gen("old", "2"), gen("unannotated", ""), oldDone}

	tests := []struct {
		name      string
		rollout   kedav1alpha1.Rollout
		deprecate string
		want      []string
		wantProp  metav1.DeletionPropagation
	}{
		{name: "unset is immediate: older and unannotated Jobs, finished ones too",
			want: []string{"old", "unannotated", "old-done"}, wantProp: metav1.DeletePropagationBackground},
		{name: "immediate, foreground", rollout: kedav1alpha1.Rollout{Strategy: "immediate", PropagationPolicy: "foreground"},
			want: []string{"old", "unannotated", "old-done"}, wantProp: metav1.DeletePropagationForeground},
		{name: "the docs' default is immediate", rollout: kedav1alpha1.Rollout{Strategy: "default"},
			want: []string{"old", "unannotated", "old-done"}, wantProp: metav1.DeletePropagationBackground},
		{name: "gradual keeps them", rollout: kedav1alpha1.Rollout{Strategy: "gradual"}, want: []string{}, wantProp: metav1.DeletePropagationBackground},
		{name: "deprecated gradual wins over rollout.strategy immediate", deprecate: "gradual", rollout: kedav1alpha1.Rollout{Strategy: "immediate"},
			want: []string{}, wantProp: metav1.DeletePropagationBackground},
		{name: "deprecated immediate wins over rollout.strategy gradual", deprecate: "immediate", rollout: kedav1alpha1.Rollout{Strategy: "gradual"},
			want: []string{"old", "unannotated", "old-done"}, wantProp: metav1.DeletePropagationBackground},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sj := &kedav1alpha1.ScaledJob{
				ObjectMeta: metav1.ObjectMeta{Name: "sj", Namespace: "ns", Generation: 3},
				Spec:       kedav1alpha1.ScaledJobSpec{Rollout: tt.rollout, RolloutStrategy: tt.deprecate},
			}
			d := scaledjob.RolloutCleanup(sj, jobs)
			if got := names(d); !slices.Equal(got, tt.want) {
				t.Errorf("deletes %v, want %v", got, tt.want)
			}
			if d.Propagation != tt.wantProp {
				t.Errorf("propagation %q, want %q", d.Propagation, tt.wantProp)
			}
			if d.Why == "" {
				t.Error("no explanation")
			}
		})
	}
}

func TestRemovalCleanupDeletesNothing(t *testing.T) {
	sj := &kedav1alpha1.ScaledJob{ObjectMeta: metav1.ObjectMeta{Name: "sj", Namespace: "ns", UID: "sj-uid"},
		Spec: kedav1alpha1.ScaledJobSpec{JobTargetRef: &batchv1.JobSpec{}}}
	owned, err := scaledjob.BuildJob(sj, "2.21.0")
	if err != nil {
		t.Fatal(err)
	}
	owned.Name = "sj-abcde"
	stray := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "stray", Namespace: "ns", Labels: map[string]string{kedav1alpha1.LabelScaledJobName: "sj"}}}
	d := scaledjob.RemovalCleanup(sj, []batchv1.Job{*owned, stray})
	if len(d.Jobs) != 0 {
		t.Errorf("deletes %v, want none: the garbage collector deletes owned Jobs", names(d))
	}
	const want = "the garbage collector deletes the 1 Jobs the ScaledJob controls; 1 others are kept"
	if d.Why != want {
		t.Errorf("Why = %q, want %q", d.Why, want)
	}
}
