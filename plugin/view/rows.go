// Package view turns KEDA objects into the rows the plugin prints and the TUI shows. It is pure:
// the objects come in, rows go out.
package view

import (
	"fmt"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TriggerRow is one trigger of one ScaledObject, as `kubectl keda top` prints it.
type TriggerRow struct {
	// Kind is ScaledObject or ScaledJob.
	Kind         string `json:"kind"`
	Namespace    string `json:"namespace"`
	ScaledObject string `json:"scaledObject,omitempty"`
	ScaledJob    string `json:"scaledJob,omitempty"`
	Target       string `json:"target"`
	Trigger      string `json:"trigger"`
	Type         string `json:"type"`
	Metric       string `json:"metric"`
	Value        string `json:"value"`
	TargetValue  string `json:"targetValue"`
	Activation   string `json:"activation"`
	Active       string `json:"active"`
	Replicas     string `json:"replicas"`
	MinMax       string `json:"minMax"`
	Paused       string `json:"paused"`
	Fallback     string `json:"fallback"`
	Ready        string `json:"ready"`
	Health       string `json:"health"`
	// Queue, the Job counts and Max are a ScaledJob's (ScaledJobState), the same on each of its
	// rows; Queue is absent when unavailable, the counts when the Jobs could not be read.
	Queue     *int64 `json:"queue,omitempty"`
	Running   *int64 `json:"running,omitempty"`
	Pending   *int64 `json:"pending,omitempty"`
	Succeeded *int64 `json:"succeeded,omitempty"`
	Failed    *int64 `json:"failed,omitempty"`
	Max       *int64 `json:"max,omitempty"`
	Strategy  string `json:"strategy,omitempty"`
	// Owner is the operator replica that polls the object, when the replicas split them.
	Owner string `json:"owner,omitempty"`
}

// Inputs is what TriggerRows needs about one ScaledObject; HPA, Scale and Values may be missing.
type Inputs struct {
	ScaledObject *kedav1alpha1.ScaledObject
	HPA          *autoscalingv2.HorizontalPodAutoscaler
	Scale        *autoscalingv1.Scale
	// Values are the external metrics API's answers by metric name; Errors its failures.
	Values map[string]string
	Errors map[string]error
}

// TriggerRows returns one row per trigger.
func TriggerRows(in Inputs) []TriggerRow {
	so := in.ScaledObject
	target := "-"
	if ref := so.Spec.ScaleTargetRef; ref != nil {
		kind := ref.Kind
		if kind == "" {
			kind = "Deployment"
		}
		target = kind + "/" + ref.Name
	}
	replicas := "-"
	if in.Scale != nil {
		desired := "-"
		if in.HPA != nil {
			desired = fmt.Sprint(in.HPA.Status.DesiredReplicas)
		}
		replicas = fmt.Sprintf("%d/%s", in.Scale.Status.Replicas, desired)
	}
	minMax := fmt.Sprintf("%d-%d", so.Spec.MinReplicas(), so.Spec.MaxReplicas())
	if so.Spec.IdleReplicaCount != nil {
		minMax = fmt.Sprintf("%d|%s", *so.Spec.IdleReplicaCount, minMax)
	}
	paused := conditionStatus(so.Status.Conditions, kedav1alpha1.ConditionPaused)
	if p, err := so.Pause(); err == nil && p.Paused {
		paused = "True"
	}
	if v, ok := so.Annotations[kedav1alpha1.AnnotationPausedReplicas]; ok {
		paused = "True(" + v + ")"
	}
	targets := hpaTargets(in.HPA)
	metrics := metricNamesByTrigger(so)
	rows := make([]TriggerRow, 0, len(so.Spec.Triggers))
	for i, t := range so.Spec.Triggers {
		row := TriggerRow{
			Kind: "ScaledObject", Namespace: so.Namespace, ScaledObject: so.Name, Target: target, Trigger: TriggerName(t, i), Type: t.Type,
			Metric: "-", Value: "-", TargetValue: "-", Activation: ActivationThreshold(t.Metadata), Active: "-",
			Replicas: replicas, MinMax: minMax, Paused: paused,
			Fallback: conditionStatus(so.Status.Conditions, kedav1alpha1.ConditionFallback),
			Ready:    conditionStatus(so.Status.Conditions, kedav1alpha1.ConditionReady),
			Health:   "-",
		}
		if m := metrics[i]; m != "" {
			row.Metric = m
			if v, ok := in.Values[m]; ok {
				row.Value = v
			} else if err, ok := in.Errors[m]; ok && err != nil {
				row.Value = "<error>"
			}
			if tv, ok := targets[strings.ToLower(m)]; ok {
				row.TargetValue = tv
			}
			if a, ok := so.Status.TriggersActivity[m]; ok {
				row.Active = fmt.Sprint(a.IsActive)
			}
			if h, ok := so.Status.Health[m]; ok {
				row.Health = string(h.Status)
				if h.NumberOfFailures != nil && *h.NumberOfFailures > 0 {
					row.Health += fmt.Sprintf("(%d)", *h.NumberOfFailures)
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// ScaledJobRows returns one row per trigger of a ScaledJob, each with the trigger's latest value and
// target per Job (when kedactl's operator serves them) and the ScaledJob's queue and Jobs from st.
// Replicas is the unfinished Jobs, as the list of the TUI shows them.
func ScaledJobRows(sj *kedav1alpha1.ScaledJob, st *ScaledJobState) []TriggerRow {
	replicas := "-"
	var running, pending, succeeded, failed *int64
	if st.JobsUnavailable == "" {
		replicas = fmt.Sprintf("%d/-", st.Running)
		running, pending, succeeded, failed = &st.Running, &st.Pending, &st.Succeeded, &st.Failed
	}
	paused := conditionStatus(sj.Status.Conditions, kedav1alpha1.ConditionPaused)
	if sj.Paused() {
		paused = "True"
	}
	if v, ok := sj.Annotations[kedav1alpha1.AnnotationPausedReplicas]; ok {
		paused = "True(" + v + ")"
	}
	rows := make([]TriggerRow, 0, len(sj.Spec.Triggers))
	for i, t := range sj.Spec.Triggers {
		row := TriggerRow{
			Kind: "ScaledJob", Namespace: sj.Namespace, ScaledJob: sj.Name, Target: "Job", Trigger: TriggerName(t, i), Type: t.Type,
			Metric: "-", Value: "-", TargetValue: "-", Activation: ActivationThreshold(t.Metadata),
			Active:   conditionStatus(sj.Status.Conditions, kedav1alpha1.ConditionActive),
			Replicas: replicas, MinMax: fmt.Sprintf("%d-%d", st.Min, st.Max), Paused: paused,
			Fallback: "-", Ready: conditionStatus(sj.Status.Conditions, kedav1alpha1.ConditionReady), Health: "-",
			Queue: st.Queue, Running: running, Pending: pending, Succeeded: succeeded, Failed: failed, Max: &st.Max, Strategy: st.Strategy,
		}
		if i < len(st.Triggers) {
			jt := st.Triggers[i]
			if jt.Metric != "" {
				row.Metric = jt.Metric
			}
			row.Value, row.TargetValue = jt.Value, jt.Target
			if jt.Error != "" {
				row.Value = "<error>"
			}
			if jt.Active != "-" {
				row.Active = jt.Active
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// metricNamesByTrigger maps trigger index to its external metric name. Status lists the names in
// trigger order; a trigger's name starts with s<index>-, which is what ties them together.
func metricNamesByTrigger(so *kedav1alpha1.ScaledObject) map[int]string {
	out := map[int]string{}
	for _, m := range so.Status.ExternalMetricNames {
		var idx int
		if _, err := fmt.Sscanf(m, "s%d-", &idx); err == nil {
			out[idx] = m
		}
	}
	return out
}

// ActivationThreshold finds the trigger's activation parameter: every KEDA scaler names it
// activation<Something>; "0" when the trigger sets none. The operator's history reads it the
// same way.
func ActivationThreshold(meta map[string]string) string {
	return kedav1alpha1.ActivationThreshold(meta)
}

func hpaTargets(hpa *autoscalingv2.HorizontalPodAutoscaler) map[string]string {
	out := map[string]string{}
	if hpa == nil {
		return out
	}
	for _, m := range hpa.Spec.Metrics {
		if m.External == nil {
			continue
		}
		t := m.External.Target
		switch {
		case t.AverageValue != nil:
			out[strings.ToLower(m.External.Metric.Name)] = t.AverageValue.String() + " (avg)"
		case t.Value != nil:
			out[strings.ToLower(m.External.Metric.Name)] = t.Value.String()
		}
	}
	return out
}

func conditionStatus(conds kedav1alpha1.Conditions, t kedav1alpha1.ConditionType) string {
	c := conds.Get(t)
	if c == nil || c.Status == "" {
		return "Unknown"
	}
	return string(c.Status)
}
