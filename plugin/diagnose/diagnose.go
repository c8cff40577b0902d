// Package diagnose answers "why is my ScaledObject not scaling?" from what the cluster shows. It
// is pure: the plugin's describe command and the TUI gather the inputs, this package decides.
package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/view"
)

// Severity orders findings: the most important come first.
type Severity int

const (
	// Error blocks scaling.
	Error Severity = iota
	// Warning limits or degrades scaling.
	Warning
	// Info explains the current state.
	Info
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	default:
		return "info"
	}
}

// MarshalText writes the severity's name in JSON and YAML.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	for _, v := range []Severity{Error, Warning, Info} {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown severity %q", b)
}

// Finding is one diagnosis line.
type Finding struct {
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Detail   string   `json:"detail,omitempty"`
}

// Inputs is what the cluster shows about one ScaledObject.
type Inputs struct {
	Now          time.Time
	ScaledObject *kedav1alpha1.ScaledObject
	// HPA is the HPA the ScaledObject owns, nil when missing.
	HPA *autoscalingv2.HorizontalPodAutoscaler
	// Scale is the target's /scale; ScaleErr why it could not be read.
	Scale    *autoscalingv1.Scale
	ScaleErr error
	// MetricsAPIAvailable and MetricsAPIMessage describe APIService v1beta1.external.metrics.k8s.io.
	MetricsAPIAvailable bool
	MetricsAPIMessage   string
	// Values and ValueErrors are the external metrics API's answers by metric name.
	Values      map[string]string
	ValueErrors map[string]string
	// OtherScaledObjects and HPAs are the others of the namespace, to find ownership conflicts.
	OtherScaledObjects []kedav1alpha1.ScaledObject
	HPAs               []autoscalingv2.HorizontalPodAutoscaler
	// TriggerErrors are the latest errors of failing triggers by metric name, from the operator's
	// KEDAScalerFailed and KEDAMetricSourceFailed events (TriggerFailure).
	TriggerErrors map[string]string
}

// Diagnose returns the findings, most important first.
func Diagnose(in Inputs) []Finding {
	so := in.ScaledObject
	var out []Finding
	add := func(sev Severity, title, detail string) {
		out = append(out, Finding{Severity: sev, Title: title, Detail: detail})
	}

	conflicts := conflictFindings(in)
	if c := so.Status.Conditions.Get(kedav1alpha1.ConditionReady); c == nil {
		add(Error, "Not reconciled yet", "status has no Ready condition: is the operator running and watching this namespace?")
	} else if c.Status != metav1.ConditionTrue && (c.Reason != kedav1alpha1.ReasonScaledObjectCheckFailed || len(conflicts) == 0) && !pollsFailing(so) {
		// An ownership conflict is what a failed check reports when there is one, and failing
		// polls are what a trigger error reports; their own findings below name them more
		// precisely.
		add(Error, "Not ready: "+c.Reason, c.Message)
	}
	if in.ScaleErr != nil {
		add(Error, "Scale target cannot be read", in.ScaleErr.Error())
	}
	paused := false
	if p, err := so.Pause(); err != nil {
		add(Error, "Bad pause annotation", err.Error())
	} else {
		switch {
		case p.Replicas != nil:
			paused = true
			add(Warning, fmt.Sprintf("Paused at %d replicas", *p.Replicas), "annotation "+kedav1alpha1.AnnotationPausedReplicas+"; `kubectl keda resume "+so.Name+"` resumes")
		case p.Paused:
			paused = true
			add(Warning, "Paused", "annotation "+kedav1alpha1.AnnotationPaused+": the target keeps its replicas; `kubectl keda resume "+so.Name+"` resumes")
		}
		if p.ScaleIn {
			add(Warning, "Scale-in paused", "annotation "+kedav1alpha1.AnnotationPausedScaleIn+": the target will not go down")
		}
		if p.ScaleOut {
			add(Warning, "Scale-out paused", "annotation "+kedav1alpha1.AnnotationPausedScaleOut+": the target will not go up")
		}
	}
	if !in.MetricsAPIAvailable {
		add(Error, "External metrics API unavailable", in.MetricsAPIMessage+" (the HPA cannot read any trigger value)")
	}
	for _, m := range sortedKeys(so.Status.Health) {
		h := so.Status.Health[m]
		if h.Status == kedav1alpha1.HealthStatusFailing {
			n := int32(0)
			if h.NumberOfFailures != nil {
				n = *h.NumberOfFailures
			}
			msg, known := in.TriggerErrors[m]
			if !known {
				add(Error, "Trigger failing: "+m, fmt.Sprintf("%d failure(s) in a row; see the KEDAScalerFailed events below", n))
				continue
			}
			title := "Trigger failing: " + m
			if cause := FailureCause(msg); cause != "" {
				title += " (" + cause + ")"
			}
			add(Error, title, fmt.Sprintf("%d failure(s) in a row: %s", n, msg))
		}
	}
	for _, m := range sortedKeys(in.ValueErrors) {
		if so.Status.Health[m].Status != kedav1alpha1.HealthStatusFailing && in.MetricsAPIAvailable {
			add(Warning, "Metric not served: "+m, in.ValueErrors[m])
		}
	}
	if so.Status.Conditions.IsTrue(kedav1alpha1.ConditionFallback) {
		c := so.Status.Conditions.Get(kedav1alpha1.ConditionFallback)
		add(Warning, "Fallback in force", c.Message)
	}
	out = append(out, hpaFindings(in, paused)...)
	out = append(out, conflicts...)
	out = append(out, activityFindings(in, paused)...)

	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity < out[j].Severity })
	if len(out) == 0 {
		out = []Finding{{Severity: Info, Title: "Scaling normally", Detail: "Ready, not paused, triggers healthy, HPA able to scale"}}
	}
	return out
}

// pollsFailing reports whether Ready is not True because polls fail (KEDA's TriggerError or
// PartialTriggerError, set by the scale loop while status.health counts failures), rather than
// because the object could not be set up.
func pollsFailing(so *kedav1alpha1.ScaledObject) bool {
	c := so.Status.Conditions.Get(kedav1alpha1.ConditionReady)
	if c == nil || (c.Reason != kedav1alpha1.ReasonTriggerError && c.Reason != kedav1alpha1.ReasonPartialTriggerError) {
		return false
	}
	for _, h := range so.Status.Health {
		if h.Status == kedav1alpha1.HealthStatusFailing {
			return true
		}
	}
	return false
}

// scaling reports whether the object is set up and scaling (its HPA exists), even if polls fail.
func scaling(so *kedav1alpha1.ScaledObject) bool {
	return so.Status.Conditions.IsTrue(kedav1alpha1.ConditionReady) || pollsFailing(so)
}

func hpaFindings(in Inputs, paused bool) []Finding {
	so := in.ScaledObject
	var out []Finding
	if paused || !scaling(so) {
		return nil
	}
	if in.HPA == nil {
		return []Finding{{Severity: Error, Title: "HPA missing", Detail: fmt.Sprintf("HPA %s does not exist: the operator creates it; check its logs", so.HPAName())}}
	}
	for _, c := range in.HPA.Status.Conditions {
		switch {
		case c.Type == autoscalingv2.AbleToScale && c.Status == corev1.ConditionFalse:
			out = append(out, Finding{Severity: Error, Title: "HPA unable to scale: " + c.Reason, Detail: c.Message})
		case c.Type == autoscalingv2.ScalingActive && c.Status == corev1.ConditionFalse && c.Reason != "ScalingDisabled":
			out = append(out, Finding{Severity: Error, Title: "HPA scaling inactive: " + c.Reason, Detail: c.Message})
		case c.Type == autoscalingv2.ScalingLimited && c.Status == corev1.ConditionTrue:
			detail := c.Message
			switch c.Reason {
			case "TooManyReplicas":
				detail += fmt.Sprintf(" (maxReplicaCount is %d)", so.Spec.MaxReplicas())
			case "TooFewReplicas":
				detail += fmt.Sprintf(" (minReplicaCount is %d)", so.Spec.MinReplicas())
			}
			out = append(out, Finding{Severity: Warning, Title: "HPA limited: " + c.Reason, Detail: detail})
		}
	}
	return out
}

func conflictFindings(in Inputs) []Finding {
	so := in.ScaledObject
	if so.Spec.ScaleTargetRef == nil {
		return nil
	}
	ref := so.Spec.ScaleTargetRef
	kind := ref.Kind
	if kind == "" {
		kind = "Deployment"
	}
	var out []Finding
	for _, other := range in.OtherScaledObjects {
		if other.Name == so.Name || other.Spec.ScaleTargetRef == nil {
			continue
		}
		ok := other.Spec.ScaleTargetRef.Kind
		if ok == "" {
			ok = "Deployment"
		}
		if other.Spec.ScaleTargetRef.Name == ref.Name && ok == kind {
			out = append(out, Finding{Severity: Error, Title: "Another ScaledObject scales the same target",
				Detail: fmt.Sprintf("ScaledObject %s also targets %s/%s: only one may; delete one of them", other.Name, kind, ref.Name)})
		}
	}
	own := so.HPAName()
	for _, h := range in.HPAs {
		if h.Name == own || h.Spec.ScaleTargetRef.Name != ref.Name || h.Spec.ScaleTargetRef.Kind != kind {
			continue
		}
		out = append(out, Finding{Severity: Error, Title: "A foreign HPA scales the same target",
			Detail: fmt.Sprintf("HPA %s also targets %s/%s and fights this ScaledObject's HPA: delete it, or adopt it with `kubectl keda transfer-hpa %s --hpa %s`", h.Name, kind, ref.Name, so.Name, h.Name)})
	}
	return out
}

func activityFindings(in Inputs, paused bool) []Finding {
	so := in.ScaledObject
	if paused || in.Scale == nil || !scaling(so) {
		return nil
	}
	current := in.Scale.Spec.Replicas
	active := so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive)
	var out []Finding
	if !active {
		var parts []string
		for i, t := range so.Spec.Triggers {
			if kedav1alpha1.IsResourceTrigger(t.Type) {
				parts = append(parts, fmt.Sprintf("trigger %d (%s): a Resource metric the HPA reads from metrics.k8s.io, which takes no part in activation", i, t.Type))
				continue
			}
			m := metricOf(so, i)
			v := in.Values[m]
			if v == "" {
				v = "?"
			}
			parts = append(parts, fmt.Sprintf("trigger %d (%s): value %s, activation threshold %s", i, t.Type, v, view.ActivationThreshold(t.Metadata)))
		}
		idle := int32(0)
		if so.Spec.IdleReplicaCount != nil {
			idle = *so.Spec.IdleReplicaCount
		}
		if current <= idle && (so.Spec.MinReplicas() == 0 || so.Spec.IdleReplicaCount != nil) {
			out = append(out, Finding{Severity: Info, Title: "No trigger active: the target stays at zero/idle",
				Detail: "a trigger activates when its value exceeds its activation threshold; " + strings.Join(parts, "; ")})
		} else if current > idle && (so.Spec.MinReplicas() == 0 || so.Spec.IdleReplicaCount != nil) && so.Status.LastActiveTime != nil {
			cooldown := time.Duration(so.Spec.CooldownPeriodSeconds()) * time.Second
			if left := so.Status.LastActiveTime.Add(cooldown).Sub(in.Now); left > 0 {
				out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("Cooldown: scaling to %d in %s", idle, left.Round(time.Second)),
					Detail: fmt.Sprintf("no trigger active since %s; cooldownPeriod is %s", so.Status.LastActiveTime.UTC().Format(time.RFC3339), cooldown)})
			}
		}
	}
	return out
}

func metricOf(so *kedav1alpha1.ScaledObject, index int) string {
	prefix := fmt.Sprintf("s%d-", index)
	for _, m := range so.Status.ExternalMetricNames {
		if strings.HasPrefix(m, prefix) {
			return m
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
