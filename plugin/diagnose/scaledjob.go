package diagnose

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// JobInputs is what the cluster shows about one ScaledJob. A ScaledJob has no HPA and no external
// metric: the operator starts Jobs itself, so its state is its conditions and its running Jobs.
type JobInputs struct {
	ScaledJob *kedav1alpha1.ScaledJob
	// RunningJobs counts its Jobs still running; RunningErr says why they could not be counted.
	RunningJobs int
	RunningErr  error
}

// DiagnoseScaledJob returns a ScaledJob's findings, most important first.
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
	paused := sj.Annotations[kedav1alpha1.AnnotationPaused] == "true" || sj.Status.Conditions.IsTrue(kedav1alpha1.ConditionPaused)
	if paused {
		add(Warning, "Paused", "annotation "+kedav1alpha1.AnnotationPaused+": no new Jobs are started; `kubectl keda resume sj/"+sj.Name+"` resumes")
	}
	if in.RunningErr != nil {
		add(Warning, "Running Jobs cannot be counted", in.RunningErr.Error())
	} else if max := sj.Spec.MaxReplicas(); !paused && int32(in.RunningJobs) >= max {
		add(Warning, fmt.Sprintf("At maxReplicaCount: %d Jobs running", in.RunningJobs),
			fmt.Sprintf("no more Jobs start until some finish; raise spec.maxReplicaCount (%d) to run more at once", max))
	}
	if !paused && ready != nil && ready.Status == metav1.ConditionTrue {
		if active := sj.Status.Conditions.Get(kedav1alpha1.ConditionActive); active != nil && active.Status != metav1.ConditionTrue {
			add(Info, "Not active", "no trigger is above its activation threshold, so no Jobs are started")
		}
	}
	if len(out) == 0 {
		out = []Finding{{Severity: Info, Title: "Scaling normally", Detail: fmt.Sprintf("Ready, not paused, %d Job(s) running", in.RunningJobs)}}
	}
	return out
}
