package diagnose

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestDiagnoseScaledJob(t *testing.T) {
	ready := kedav1alpha1.Condition{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue}
	active := kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionTrue}
	inactive := kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionFalse}
	max3 := int32(3)
	cases := []struct {
		name        string
		annotations map[string]string
		conds       kedav1alpha1.Conditions
		running     int
		runningErr  error
		want        []string
	}{
		{name: "no status yet", want: []string{"Not reconciled yet"}},
		{name: "not ready", conds: kedav1alpha1.Conditions{{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "ScaledJobCheckFailed"}},
			want: []string{"Not ready: ScaledJobCheckFailed"}},
		{name: "paused", annotations: map[string]string{kedav1alpha1.AnnotationPaused: "true"}, conds: kedav1alpha1.Conditions{ready, inactive}, running: 3,
			want: []string{"Paused"}},
		{name: "at max", conds: kedav1alpha1.Conditions{ready, active}, running: 3, want: []string{"At maxReplicaCount: 3 Jobs running"}},
		{name: "jobs unreadable", conds: kedav1alpha1.Conditions{ready, active}, runningErr: errors.New("forbidden"), want: []string{"Running Jobs cannot be counted"}},
		{name: "inactive", conds: kedav1alpha1.Conditions{ready, inactive}, want: []string{"Not active"}},
		{name: "normal", conds: kedav1alpha1.Conditions{ready, active}, running: 1, want: []string{"Scaling normally"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sj := &kedav1alpha1.ScaledJob{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "importer", Annotations: tc.annotations},
				Spec:       kedav1alpha1.ScaledJobSpec{MaxReplicaCount: &max3},
				Status:     kedav1alpha1.ScaledJobStatus{Conditions: tc.conds},
			}
			got := DiagnoseScaledJob(JobInputs{ScaledJob: sj, RunningJobs: tc.running, RunningErr: tc.runningErr})
			var titles []string
			for _, f := range got {
				titles = append(titles, f.Title)
			}
			if len(titles) != len(tc.want) {
				t.Fatalf("findings %q, want %q", titles, tc.want)
			}
			for i := range titles {
				if titles[i] != tc.want[i] {
					t.Errorf("finding %d = %q, want %q", i, titles[i], tc.want[i])
				}
			}
		})
	}
}
