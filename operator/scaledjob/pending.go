package scaledjob

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// LabelPodJobName is the label by which KEDA finds a Job's Pods. The Job controller sets it (and
// batch.kubernetes.io/job-name) on every Pod it creates.
const LabelPodJobName = "job-name"

// FinishedType returns JobComplete or JobFailed when the Job has that condition True (the first such
// condition wins), else "". Conditions such as SuccessCriteriaMet or FailureTarget do not finish a
// Job for KEDA: it keeps counting it as running until Complete or Failed is set.
func FinishedType(job *batchv1.Job) batchv1.JobConditionType {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type
		}
	}
	return ""
}

// IsFinished says whether the Job has Complete or Failed True.
func IsFinished(job *batchv1.Job) bool { return FinishedType(job) != "" }

// IsPending says whether an unfinished Job still waits for its Pods, given the Job's own Pods.
// Without pendingPodConditions a Job is pending until one of its Pods is Running or Succeeded. With
// them, it is pending until one Pod has every listed condition True. Either way a Job with no Pod yet
// is pending. As in KEDA, a condition listed twice can never be met, so such a Job stays pending.
func IsPending(job *batchv1.Job, pods []corev1.Pod, pendingPodConditions []string) bool {
	if IsFinished(job) {
		return false
	}
	if len(pendingPodConditions) == 0 {
		for i := range pods {
			if p := pods[i].Status.Phase; p == corev1.PodRunning || p == corev1.PodSucceeded {
				return false
			}
		}
		return true
	}
	for i := range pods {
		if hasAllConditions(&pods[i], pendingPodConditions) {
			return false
		}
	}
	return true
}

// hasAllConditions counts the distinct listed conditions that are True on the Pod and compares the
// count with the length of the list, not the number of distinct entries: that is KEDA's test.
func hasAllConditions(pod *corev1.Pod, conditions []string) bool {
	wanted := make(map[string]bool, len(conditions))
	for _, c := range conditions {
		wanted[c] = true
	}
	met := map[string]bool{}
	for _, c := range pod.Status.Conditions {
		if wanted[string(c.Type)] && c.Status == corev1.ConditionTrue {
			met[string(c.Type)] = true
		}
	}
	return len(met) == len(conditions)
}

// JobCounts is the state of a ScaledJob's Jobs that the scaling strategies and the explanation need.
type JobCounts struct {
	// Running counts the unfinished Jobs, pending ones included (KEDA's runningJobCount).
	Running int64
	// Pending counts the unfinished Jobs still waiting for their Pods (a subset of Running).
	Pending int64
	// Succeeded and Failed count the finished Jobs still kept as history.
	Succeeded int64
	Failed    int64
}

// CountJobs classifies a ScaledJob's Jobs. pods may hold the Pods of any Jobs (for example all Pods
// labelled scaledjob.keda.sh/name=<ScaledJob>, which KEDA puts on the pod template): each Job gets the
// Pods in its namespace whose job-name label is its name.
func CountJobs(jobs []batchv1.Job, pods []corev1.Pod, pendingPodConditions []string) JobCounts {
	type key struct{ namespace, name string }
	byJob := map[key][]corev1.Pod{}
	for _, p := range pods {
		if name, ok := p.Labels[LabelPodJobName]; ok {
			k := key{p.Namespace, name}
			byJob[k] = append(byJob[k], p)
		}
	}
	var c JobCounts
	for i := range jobs {
		job := &jobs[i]
		switch FinishedType(job) {
		case batchv1.JobComplete:
			c.Succeeded++
		case batchv1.JobFailed:
			c.Failed++
		default:
			c.Running++
			if IsPending(job, byJob[key{job.Namespace, job.Name}], pendingPodConditions) {
				c.Pending++
			}
		}
	}
	return c
}
