package scaledjob_test

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kedactl/kedactl/operator/scaledjob"
)

func podWith(phase corev1.PodPhase, conditions ...corev1.PodConditionType) corev1.PodStatus {
	st := corev1.PodStatus{Phase: phase}
	for _, c := range conditions {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue})
	}
	return st
}

// The cases of KEDA's TestGetPendingJobCount (pkg/scaling/executor/scale_jobs_test.go): one
// unfinished Job with the given Pods.
func TestIsPending(t *testing.T) {
	readyScheduled := []string{"Ready", "PodScheduled"}
	const ready, scheduled = corev1.PodReady, corev1.PodScheduled
	tests := []struct {
		name       string
		conditions []string
		pods       []corev1.PodStatus
		want       bool
	}{
		{name: "succeeded pod", pods: []corev1.PodStatus{podWith(corev1.PodSucceeded)}, want: false},
		{name: "running pod", pods: []corev1.PodStatus{podWith(corev1.PodRunning)}, want: false},
		{name: "failed pod", pods: []corev1.PodStatus{podWith(corev1.PodFailed)}, want: true},
		{name: "pending pod", pods: []corev1.PodStatus{podWith(corev1.PodPending)}, want: true},
		{name: "unknown pod", pods: []corev1.PodStatus{podWith(corev1.PodUnknown)}, want: true},
		{name: "no conditions", conditions: readyScheduled, pods: []corev1.PodStatus{podWith("")}, want: true},
		{name: "only Ready", conditions: readyScheduled, pods: []corev1.PodStatus{podWith("", ready)}, want: true},
		{name: "only PodScheduled", conditions: readyScheduled, pods: []corev1.PodStatus{podWith("", scheduled)}, want: true},
		{name: "both", conditions: readyScheduled, pods: []corev1.PodStatus{podWith("", ready, scheduled)}, want: false},
		{name: "two pods with both", conditions: readyScheduled, pods: []corev1.PodStatus{podWith("", ready, scheduled), podWith("", ready, scheduled)}, want: false},
		{name: "one of two pods with both", conditions: readyScheduled, pods: []corev1.PodStatus{podWith("", ready, scheduled), podWith("", ready)}, want: false},
		{name: "two pods each missing one", conditions: readyScheduled, pods: []corev1.PodStatus{podWith("", ready), podWith("", scheduled)}, want: true},
		{name: "one of three pods with both", conditions: readyScheduled, pods: []corev1.PodStatus{podWith(""), podWith("", ready), podWith("", ready, scheduled)}, want: false},
		{name: "none of three pods with both", conditions: readyScheduled, pods: []corev1.PodStatus{podWith(""), podWith("", ready), podWith("", scheduled)}, want: true},
		{name: "empty condition list, running pod", conditions: []string{}, pods: []corev1.PodStatus{podWith(corev1.PodRunning, ready)}, want: false},
		// Beyond KEDA's table: what its code does.
		{name: "no pod yet", want: true},
		{name: "no pod yet, with conditions", conditions: readyScheduled, want: true},
		{name: "a condition listed twice is never met", conditions: []string{"Ready", "Ready"}, pods: []corev1.PodStatus{podWith(corev1.PodRunning, ready)}, want: true},
		{name: "a False condition is not met", conditions: []string{"Ready"}, pods: []corev1.PodStatus{{Conditions: []corev1.PodCondition{{Type: ready, Status: corev1.ConditionFalse}}}}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pods := make([]corev1.Pod, len(tt.pods))
			for i, st := range tt.pods {
				pods[i] = corev1.Pod{Status: st}
			}
			if got := scaledjob.IsPending(&batchv1.Job{}, pods, tt.conditions); got != tt.want {
				t.Errorf("IsPending = %v, want %v", got, tt.want)
			}
		})
	}
}

func finished(name string, ct batchv1.JobConditionType) batchv1.Job {
	return batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: ct, Status: corev1.ConditionTrue}}}}
}

func TestCountJobs(t *testing.T) {
	job := func(name string) batchv1.Job {
		return batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}
	}
	pod := func(namespace, jobName string, phase corev1.PodPhase) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Labels: map[string]string{scaledjob.LabelPodJobName: jobName}},
			Status: corev1.PodStatus{Phase: phase}}
	}
	notYet := finished("criteria-met", batchv1.JobSuccessCriteriaMet)
	falseComplete := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "false-complete", Namespace: "ns"},
		Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionFalse}}}}
	jobs := []batchv1.Job{
		job("running"), job("waiting"), job("no-pods"), job("other-namespace-pod"),
		finished("done", batchv1.JobComplete), finished("broken", batchv1.JobFailed), notYet, falseComplete,
	}
	pods := []corev1.Pod{
		pod("ns", "running", corev1.PodRunning),
		pod("ns", "waiting", corev1.PodPending),
		pod("elsewhere", "other-namespace-pod", corev1.PodRunning),
		pod("ns", "criteria-met", corev1.PodSucceeded),
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}, // no job-name label
	}
	got := scaledjob.CountJobs(jobs, pods, nil)
	// running: running, waiting, no-pods, other-namespace-pod, criteria-met, false-complete.
	// pending: waiting, no-pods, other-namespace-pod (its pod is in another namespace), false-complete.
	want := scaledjob.JobCounts{Running: 6, Pending: 4, Succeeded: 1, Failed: 1}
	if got != want {
		t.Errorf("CountJobs = %+v, want %+v", got, want)
	}
}
