package diagnose

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaledjob"
	"github.com/kedactl/kedactl/plugin/view"
)

// JobInputs is what the cluster shows about one ScaledJob. A ScaledJob has no HPA: the operator
// creates its Jobs each poll from its triggers' queue and its unfinished Jobs, so its state is its
// conditions, its Jobs and that arithmetic (view.ScaledJobStateOf redoes it).
type JobInputs struct {
	ScaledJob *kedav1alpha1.ScaledJob
	// Counts are its Jobs as the operator counts them; CountsErr says why they are unknown.
	Counts    scaledjob.JobCounts
	CountsErr error
	// Decision is the operator's decision on the live numbers, nil when the queue or the Jobs are
	// unavailable; QueueUnavailable says why the queue is.
	Decision         *scaledjob.Decision
	QueueUnavailable string
	// Triggers are the triggers' latest samples, MetricErrors the metrics that could not be read.
	Triggers     []view.JobTrigger
	MetricErrors map[string]string
}

// DiagnoseScaledJob returns a ScaledJob's findings, most important first. Unless the Jobs cannot be
// read, one is the Jobs line: the decision's sentence, or the Job counts when there is no decision.
func DiagnoseScaledJob(in JobInputs) []Finding {
	sj := in.ScaledJob
	var out []Finding
	add := func(sev Severity, title, detail string) {
		out = append(out, Finding{Severity: sev, Title: title, Detail: detail})
	}
	ready := sj.Status.Conditions.Get(kedav1alpha1.ConditionReady)
	switch {
	case ready == nil:
		add(Error, "Not reconciled yet", "status has no Ready condition: is the operator running, watching this namespace and handling ScaledJobs?")
	case ready.Status != metav1.ConditionTrue:
		add(Error, "Not ready: "+ready.Reason, ready.Message)
	}
	paused := sj.Paused() || sj.Status.Conditions.IsTrue(kedav1alpha1.ConditionPaused)
	resume := "`kubectl keda resume sj/" + sj.Name + "` resumes"
	if paused {
		add(Warning, "Paused", "annotation "+kedav1alpha1.AnnotationPaused+": no new Jobs are started; "+resume)
	}
	if in.CountsErr != nil {
		add(Warning, "Jobs cannot be counted", in.CountsErr.Error())
	}
	for _, m := range sortedKeys(in.MetricErrors) {
		add(Warning, "Metric not served: "+m, in.MetricErrors[m]+" (the operator leaves this trigger out of the queue too)")
	}
	bounds := scaledjob.BoundsFor(&sj.Spec)
	atMax := in.CountsErr == nil && in.Counts.Running >= bounds.Total()
	if atMax && !paused {
		detail := fmt.Sprintf("no more Jobs start until some finish; raise spec.maxReplicaCount (%d) to run more at once", sj.Spec.MaxReplicas())
		if bounds.Total() != int64(sj.Spec.MaxReplicas()) {
			// KEDA's arithmetic lets minReplicaCount and an omitted maxReplicaCount move the real cap.
			detail += fmt.Sprintf("; with minReplicaCount %d the most is %d", sj.Spec.MinReplicas(), bounds.Total())
		}
		add(Warning, fmt.Sprintf("At maxReplicaCount: %d Jobs running", in.Counts.Running), detail)
	}

	switch d := in.Decision; {
	case d != nil:
		detail := ""
		if d.Create == 0 {
			switch {
			case paused:
				detail = "the operator creates no Jobs while " + kedav1alpha1.AnnotationPaused + " is set; " + resume
			case !d.Active:
				detail = "a trigger activates when its value exceeds its activation threshold; " + triggerValues(in.Triggers)
			case atMax:
				detail = fmt.Sprintf("%d unfinished Jobs, the most this ScaledJob runs at once", in.Counts.Running)
			}
		}
		add(Info, "Jobs: "+d.String(), detail)
	case in.CountsErr == nil:
		c := in.Counts
		add(Info, fmt.Sprintf("Jobs: running %d, pending %d, succeeded %d, failed %d (max %d)", c.Running, c.Pending, c.Succeeded, c.Failed, bounds.Total()),
			"queue length not available: "+in.QueueUnavailable)
		if !paused && ready != nil && ready.Status == metav1.ConditionTrue {
			if active := sj.Status.Conditions.Get(kedav1alpha1.ConditionActive); active != nil && active.Status != metav1.ConditionTrue {
				add(Info, "Not active", "no trigger is above its activation threshold, so no Jobs are started")
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity < out[j].Severity })
	return out
}

// triggerValues lists each trigger's value against its activation threshold.
func triggerValues(triggers []view.JobTrigger) string {
	parts := make([]string, 0, len(triggers))
	for _, t := range triggers {
		parts = append(parts, fmt.Sprintf("trigger %s (%s): value %s, activation threshold %s", t.Trigger, t.Type, t.Value, t.Activation))
	}
	return strings.Join(parts, "; ")
}
