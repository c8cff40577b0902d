// Package validation is everything that can be said about a keda.sh object without a cluster: the
// API's own rules (api/v1alpha1) plus each trigger's metadata parsed by its scaler. The admission
// webhook, the controller and `kubectl keda check` all call it, so a mistake is named the same way
// wherever it is caught.
package validation

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/modifiers"
	"github.com/kedactl/kedactl/scalers"
)

// Every function returns one error per mistake; each message names the field and the fix.

// ScaledObject validates a ScaledObject's spec, annotations and trigger metadata.
func ScaledObject(so *kedav1alpha1.ScaledObject) []error {
	errs := fieldErrors(so.ValidateSpec())
	if _, err := so.Pause(); err != nil {
		errs = append(errs, err)
	}
	if _, merrs := modifiers.Compile(&so.Spec); len(merrs) > 0 {
		errs = append(errs, fieldErrors(merrs)...)
	}
	return append(errs, Triggers(so.Namespace, so.Name, "ScaledObject", so.Spec.Triggers)...)
}

// ScaledJob validates a ScaledJob's spec and trigger metadata.
func ScaledJob(sj *kedav1alpha1.ScaledJob) []error {
	return append(fieldErrors(sj.ValidateSpec()), Triggers(sj.Namespace, sj.Name, "ScaledJob", sj.Spec.Triggers)...)
}

// TriggerAuthentication validates the spec of a TriggerAuthentication or (clusterScoped) a
// ClusterTriggerAuthentication.
func TriggerAuthentication(spec *kedav1alpha1.TriggerAuthenticationSpec, clusterScoped bool) []error {
	return fieldErrors(kedav1alpha1.ValidateTriggerAuthenticationSpec(spec, clusterScoped))
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
func Triggers(namespace, name, kind string, triggers []kedav1alpha1.ScaleTriggers) []error {
	var errs []error
	for i, t := range triggers {
		if t.Type == "" {
			continue // ValidateSpec reports it
		}
		cfg := &scalers.Config{
			ScalableObjectName: name, ScalableObjectNamespace: namespace, ScalableObjectType: kind,
			TriggerIndex: i, TriggerName: t.Name, TriggerType: t.Type, TriggerMetadata: t.Metadata,
			MetricType: t.MetricType, Offline: true,
		}
		if err := scalers.ValidateTrigger(cfg); err != nil {
			errs = append(errs, err) // the scaler's message names spec.triggers[i].metadata.<parameter>
		}
	}
	return errs
}
