// Package validation is everything that can be said about a keda.sh object without a cluster: the
// API's own rules (api/v1alpha1) plus each trigger's metadata, parsed by the TriggerCheck its
// caller passes (scalers/meta's, which links no driver, or package scalers', which adds the
// drivers' own parsers). The admission webhook, the controller and `kubectl keda check` all call
// it, so a mistake is named the same way wherever it is caught.
package validation

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/internal/modifiers"
	"github.com/kedactl/kedactl/scalers/meta"
)

// Every function returns one error per mistake; each message names the field and the fix.

// TriggerCheck checks one trigger's metadata. meta.CheckTrigger checks all that needs no
// event-source client, which is what kubectl keda check links; scalers.CheckTrigger adds what
// only a driver's own parser refuses (a connection string pgx cannot use), for the webhook and
// the controller, which link the drivers anyway.
type TriggerCheck func(t *meta.Trigger) error

// ScaledObject validates a ScaledObject's spec, annotations and trigger metadata.
func ScaledObject(check TriggerCheck, so *kedav1alpha1.ScaledObject) []error {
	return append(ScaledObjectSpec(so), ScaledObjectTriggers(check, so)...)
}

// ScaledObjectSpec is what KEDA's admission webhook checks too: the spec, the annotations and the
// scalingModifiers formula, without parsing any trigger's metadata.
func ScaledObjectSpec(so *kedav1alpha1.ScaledObject) []error {
	errs := fieldErrors(so.ValidateSpec())
	if _, err := so.Pause(); err != nil {
		errs = append(errs, err)
	}
	if _, merrs := modifiers.Compile(&so.Spec); len(merrs) > 0 {
		errs = append(errs, fieldErrors(merrs)...)
	}
	return errs
}

// ScaledObjectTriggers parses each trigger's metadata as its scaler will. KEDA finds these
// mistakes only when it builds the scalers, after admission.
func ScaledObjectTriggers(check TriggerCheck, so *kedav1alpha1.ScaledObject) []error {
	return Triggers(check, so.Namespace, so.Name, "ScaledObject", so.Spec.Triggers, so.Spec.UsesScalingModifiers())
}

// ScaledObjectWarnings names what KEDA admits but what does nothing as written: the admission
// webhook returns them as warnings and `kubectl keda check` prints them; none is a refusal.
func ScaledObjectWarnings(so *kedav1alpha1.ScaledObject) []string {
	s := &so.Spec
	// With replicas that never go below a minimum above zero, and no idle replicas, the operator
	// never activates or deactivates: the HPA does all the scaling on its own schedule.
	if s.MinReplicaCount == nil || *s.MinReplicaCount == 0 || s.IdleReplicaCount != nil {
		return nil
	}
	var warnings []string
	cached := false
	for _, t := range s.Triggers {
		cached = cached || t.UseCachedMetrics
	}
	if s.PollingInterval != nil && !cached {
		warnings = append(warnings, fmt.Sprintf("spec.pollingInterval has no effect here: it paces activation from zero and the cache of useCachedMetrics triggers, and with minReplicaCount %d, no idleReplicaCount and no trigger with useCachedMetrics there is neither (the HPA polls on its own schedule)", *s.MinReplicaCount))
	}
	if s.CooldownPeriod != nil {
		warnings = append(warnings, fmt.Sprintf("spec.cooldownPeriod has no effect here: it delays scaling to zero (or to idleReplicaCount), which minReplicaCount %d without idleReplicaCount never does; the HPA's behavior.scaleDown paces scaling in", *s.MinReplicaCount))
	}
	return warnings
}

// ScaledJobWarnings names what KEDA admits but reads otherwise than written.
func ScaledJobWarnings(sj *kedav1alpha1.ScaledJob) []string {
	s := &sj.Spec
	if s.MinReplicaCount != nil && s.MaxReplicaCount != nil && *s.MinReplicaCount > *s.MaxReplicaCount {
		return []string{fmt.Sprintf("spec.minReplicaCount %d is greater than maxReplicaCount %d: both are taken as %d, as KEDA takes them; lower minReplicaCount or raise maxReplicaCount", *s.MinReplicaCount, *s.MaxReplicaCount, *s.MaxReplicaCount)}
	}
	return nil
}

// ScaledJob validates a ScaledJob's spec and trigger metadata.
func ScaledJob(check TriggerCheck, sj *kedav1alpha1.ScaledJob) []error {
	return append(ScaledJobSpec(sj), ScaledJobTriggers(check, sj)...)
}

// ScaledJobSpec is ScaledObjectSpec for a ScaledJob.
func ScaledJobSpec(sj *kedav1alpha1.ScaledJob) []error {
	return fieldErrors(sj.ValidateSpec())
}

// ScaledJobAdmission is what admission makes of a ScaledJob's spec: refusals where KEDA refuses,
// warnings (worded by AdmittedAnyway) for what only this operator's stricter checks find.
func ScaledJobAdmission(sj *kedav1alpha1.ScaledJob) (refusals []error, warnings []string) {
	refused, stricter := sj.SpecProblems()
	for _, e := range stricter {
		warnings = append(warnings, AdmittedAnyway(e, "ScaledJob"))
	}
	return fieldErrors(refused), warnings
}

// ScaledJobTriggers is ScaledObjectTriggers for a ScaledJob.
func ScaledJobTriggers(check TriggerCheck, sj *kedav1alpha1.ScaledJob) []error {
	return Triggers(check, sj.Namespace, sj.Name, "ScaledJob", sj.Spec.Triggers, false)
}

// AdmittedAnyway words a trigger mistake as the admission warning it becomes: KEDA's webhook admits
// a trigger its scaler cannot parse (the object then reports it), and so does ours.
func AdmittedAnyway(err error, kind string) string {
	return fmt.Sprintf("%v (admitted, as KEDA admits it; the %s is not Ready until this is fixed)", err, kind)
}

// TriggerAuthentication validates the spec of a TriggerAuthentication or (clusterScoped) a
// ClusterTriggerAuthentication.
func TriggerAuthentication(spec *kedav1alpha1.TriggerAuthenticationSpec, clusterScoped bool) []error {
	return fieldErrors(kedav1alpha1.ValidateTriggerAuthenticationSpec(spec, clusterScoped))
}

// TriggerAuthenticationAdmission is what admission makes of a (Cluster)TriggerAuthentication's
// spec: refusals where KEDA's webhook refuses, warnings for what only this operator's stricter
// checks find (KEDA admits those and fails when a trigger resolves the object; so does this one).
func TriggerAuthenticationAdmission(spec *kedav1alpha1.TriggerAuthenticationSpec, clusterScoped bool) (refusals []error, warnings []string) {
	refused, stricter := kedav1alpha1.TriggerAuthenticationProblems(spec, clusterScoped)
	kind := "TriggerAuthentication"
	if clusterScoped {
		kind = "ClusterTriggerAuthentication"
	}
	for _, e := range stricter {
		warnings = append(warnings, fmt.Sprintf("%v (admitted, as KEDA admits it; triggers that use this %s fail until this is fixed)", e, kind))
	}
	return fieldErrors(refused), warnings
}

func fieldErrors(list field.ErrorList) []error {
	out := make([]error, 0, len(list))
	for _, e := range list {
		out = append(out, e)
	}
	return out
}

// Triggers parses every trigger's metadata as its scaler would, without dialling anything and
// without requiring parameters that a TriggerAuthentication or the target's environment may supply.
func Triggers(check TriggerCheck, namespace, name, kind string, triggers []kedav1alpha1.ScaleTriggers, asMetricSource bool) []error {
	var errs []error
	for i, t := range triggers {
		if t.Type == "" {
			continue // ValidateSpec reports it
		}
		if err := kedav1alpha1.ValidateMetricType(field.NewPath("spec", "triggers").Index(i), t); err != nil {
			errs = append(errs, err)
			continue
		}
		trigger := &meta.Trigger{
			Index: i, Name: t.Name, Type: t.Type, Metadata: t.Metadata, MetricType: t.MetricType,
			Offline: true, AsMetricSource: asMetricSource, HasAuthenticationRef: t.AuthenticationRef != nil,
		}
		if err := check(trigger); err != nil {
			errs = append(errs, err) // the scaler's message names spec.triggers[i].metadata.<parameter>
		}
	}
	return errs
}

// ResourceRequests checks what the HPA needs to measure a ScaledObject's cpu and memory triggers:
// every container they measure (all of the pod template's, or metadata.containerName's) must
// request that resource, directly, through a limit (from which the request defaults), or through a
// default of a LimitRange of the namespace. Without it the HPA reports FailedGetResourceMetric and
// never scales. kind and podSpec describe the scale target; a target without a pod template (a
// custom /scale resource) is not checked, as KEDA does not check it either.
func ResourceRequests(so *kedav1alpha1.ScaledObject, kind string, podSpec *corev1.PodSpec, limitRanges []corev1.LimitRange) []error {
	if podSpec == nil {
		return nil
	}
	target := kind + " " + so.Spec.ScaleTargetRef.Name
	if so.Namespace != "" {
		target = fmt.Sprintf("%s %s/%s", kind, so.Namespace, so.Spec.ScaleTargetRef.Name)
	}
	var errs []error
	for i, t := range so.Spec.Triggers {
		if !kedav1alpha1.IsResourceTrigger(t.Type) {
			continue
		}
		res := corev1.ResourceName(t.Type)
		if namespaceDefault(limitRanges, res) {
			continue
		}
		who := fmt.Sprintf("trigger %d (%s)", i, t.Type)
		container := t.Metadata["containerName"]
		found := false
		for j, c := range podSpec.Containers {
			if container != "" && c.Name != container {
				continue
			}
			found = true
			if requested(c.Resources, res) {
				continue
			}
			errs = append(errs, fmt.Errorf("%s: container %q of %s has no %s request, so the HPA cannot measure spec.triggers[%d]: set spec.template.spec.containers[%d].resources.requests.%s on the %s (or give the namespace a LimitRange with a default %s request for containers)",
				who, c.Name, target, res, i, j, res, kind, res))
		}
		if container != "" && !found {
			names := make([]string, 0, len(podSpec.Containers))
			for _, c := range podSpec.Containers {
				names = append(names, c.Name)
			}
			errs = append(errs, fmt.Errorf("%s: spec.triggers[%d].metadata.containerName %q is not a container of %s: use one of %s",
				who, i, container, target, strings.Join(names, ", ")))
		}
	}
	return errs
}

// NeedsResourceRequests reports whether ResourceRequests has anything to check, so that callers
// read the target's LimitRanges only then.
func NeedsResourceRequests(so *kedav1alpha1.ScaledObject) bool {
	for _, t := range so.Spec.Triggers {
		if kedav1alpha1.IsResourceTrigger(t.Type) {
			return true
		}
	}
	return false
}

func requested(r corev1.ResourceRequirements, name corev1.ResourceName) bool {
	req, lim := r.Requests[name], r.Limits[name]
	return req.Sign() > 0 || lim.Sign() > 0
}

func namespaceDefault(limitRanges []corev1.LimitRange, name corev1.ResourceName) bool {
	for _, lr := range limitRanges {
		for _, item := range lr.Spec.Limits {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			req, def := item.DefaultRequest[name], item.Default[name]
			if req.Sign() > 0 || def.Sign() > 0 {
				return true
			}
		}
	}
	return false
}

// CloudEventSource validates the spec of a CloudEventSource or (clusterScoped) a
// ClusterCloudEventSource: every problem, as `kubectl keda check` and the controller need them.
func CloudEventSource(spec *eventingv1alpha1.CloudEventSourceSpec, clusterScoped bool) []error {
	return fieldErrors(eventingv1alpha1.ValidateSpec(spec, clusterScoped))
}

// CloudEventSourceAdmission is what admission makes of a (Cluster)CloudEventSource's spec:
// refusals where KEDA's webhook refuses, warnings for what only this operator's stricter checks
// find (KEDA admits those and then delivers nothing; so does this one, and says why in status).
func CloudEventSourceAdmission(spec *eventingv1alpha1.CloudEventSourceSpec, clusterScoped bool) (refusals []error, warnings []string) {
	refused, stricter := eventingv1alpha1.SpecProblems(spec, clusterScoped)
	kind := "CloudEventSource"
	if clusterScoped {
		kind = "ClusterCloudEventSource"
	}
	for _, e := range stricter {
		warnings = append(warnings, fmt.Sprintf("%v (admitted, as KEDA admits it; this %s delivers nothing until this is fixed)", e, kind))
	}
	return fieldErrors(refused), warnings
}
