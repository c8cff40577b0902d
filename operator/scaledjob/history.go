package scaledjob

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// HistoryCleanup returns the finished Jobs beyond spec's successfulJobsHistoryLimit and
// failedJobsHistoryLimit (100 each by default), oldest first: the succeeded ones, then the failed
// ones, deleted in the background as KEDA does. A Job is succeeded or failed by its first Complete or
// Failed condition that is True; running Jobs are never history.
//
// KEDA orders by status.completionTime only, which Kubernetes sets on succeeded Jobs alone, so the
// order of KEDA's failed Jobs is the list order. Here a Job without completionTime is dated by the
// lastTransitionTime of its finishing condition, then its creation time, then its name, so the
// oldest failures go first and the choice does not depend on list order.
func HistoryCleanup(spec *kedav1alpha1.ScaledJobSpec, jobs []batchv1.Job) Deletion {
	var succeeded, failed []*batchv1.Job
	for i := range jobs {
		switch FinishedType(&jobs[i]) {
		case batchv1.JobComplete:
			succeeded = append(succeeded, &jobs[i])
		case batchv1.JobFailed:
			failed = append(failed, &jobs[i])
		}
	}
	d := Deletion{Propagation: metav1.DeletePropagationBackground}
	d.Jobs = append(d.Jobs, oldestBeyond(succeeded, spec.SuccessfulJobsHistory())...)
	d.Jobs = append(d.Jobs, oldestBeyond(failed, spec.FailedJobsHistory())...)
	if len(d.Jobs) > 0 {
		d.Why = fmt.Sprintf("%d finished Jobs beyond successfulJobsHistoryLimit %d / failedJobsHistoryLimit %d",
			len(d.Jobs), spec.SuccessfulJobsHistory(), spec.FailedJobsHistory())
	}
	return d
}

// oldestBeyond returns the oldest len(jobs)-limit Jobs. A negative limit (which the CRD forbids)
// keeps none rather than failing.
func oldestBeyond(jobs []*batchv1.Job, limit int32) []JobRef {
	excess := len(jobs) - max(int(limit), 0)
	if excess <= 0 {
		return nil
	}
	slices.SortStableFunc(jobs, func(a, b *batchv1.Job) int {
		return cmp.Or(finishedAt(a).Compare(finishedAt(b)),
			a.CreationTimestamp.Compare(b.CreationTimestamp.Time),
			cmp.Compare(a.Name, b.Name))
	})
	out := make([]JobRef, 0, excess)
	for _, j := range jobs[:excess] {
		out = append(out, refOf(j))
	}
	return out
}

// finishedAt is when a finished Job finished: completionTime, else when its Complete or Failed
// condition turned True.
func finishedAt(job *batchv1.Job) time.Time {
	if job.Status.CompletionTime != nil {
		return job.Status.CompletionTime.Time
	}
	ft := FinishedType(job)
	for _, c := range job.Status.Conditions {
		if c.Type == ft {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}
